/**
 * Protocol versions: which rules a block follows (docs/protocol.md §3.10). A block names its version in
 * its header (`version`); a block without one is version 1, so every block written before versions
 * existed keeps its meaning and every existing chain stays valid. Miners write CURRENT_PROTOCOL_VERSION.
 *
 * - 1: the original rules. Ed25519 as OpenSSL verifies it; transactions-topic records decoded with
 *   JSON.parse (the last of duplicate keys wins, a number is the double nearest its text).
 * - 2: strict. Ed25519 as libsodium verifies it (no small-order or non-canonical keys, R or S);
 *   records decoded as strict JSON (no byte-order mark, no duplicate keys, numbers whose text is not an
 *   integer are not integers).
 */

export const LEGACY_PROTOCOL_VERSION = 1;
export const CURRENT_PROTOCOL_VERSION = 2;

/** The version of a block: its `version` field, 1 when absent. */
export function blockVersion(block: { readonly version?: number }): number {
  return block.version ?? LEGACY_PROTOCOL_VERSION;
}

/** What a version's rules change, for the code that applies them. */
export interface VersionRules {
  /** libsodium's Ed25519 checks (signatures.ts) on block and transaction signatures. */
  readonly strictSignatures: boolean;
  /** Records are decoded as strict JSON (strict-json.ts) rather than with JSON.parse. */
  readonly strictRecords: boolean;
}

const LEGACY_RULES: VersionRules = Object.freeze({ strictSignatures: false, strictRecords: false });
const STRICT_RULES: VersionRules = Object.freeze({ strictSignatures: true, strictRecords: true });

export function versionRules(version: number): VersionRules {
  return version >= 2 ? STRICT_RULES : LEGACY_RULES;
}

/** The rules of what a miner writes now, and of inputs checked outside any block (ingest, the CLI). */
export const CURRENT_RULES: VersionRules = versionRules(CURRENT_PROTOCOL_VERSION);
