// The keys of a permissioned `npm start`: one Ed25519 key per miner and one for the CLI user, generated
// once under <dataDir>/keys and kept across runs (the chain's blocks stay valid only while their
// signers stay allowed). Each file holds the raw 32-byte seed as 64 hex digits, the format of
// MINER_PRIVATE_KEY_FILE and of `chainlog key new`; only its owner may read it (0600, directory 0700).
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { newSeed, signerFromSeed } from '@chainlog/core/protocol';

export interface KeyFile {
  path: string;
  publicKey: string;
}

export interface StartKeys {
  dir: string;
  /** miners[i] is miner-i's key; every one of them is in the allow-list. */
  miners: KeyFile[];
  /** The key the banner's `chainlog tx send --key` example signs with. */
  client: KeyFile;
  /** Keys created by this run (the others existed). */
  created: string[];
}

/** The key in `path`, created when missing. A file that is not a seed is an error, never overwritten. */
function ensureKey(path: string, created: string[]): KeyFile {
  if (!existsSync(path)) {
    writeFileSync(path, `${newSeed().toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
    created.push(path);
  }
  const seed = readFileSync(path, 'utf8').trim();
  if (!/^[0-9a-fA-F]{64}$/.test(seed)) throw new Error(`${path} is not an Ed25519 key (64 hex digits): move it away or fix it`);
  return { path, publicKey: signerFromSeed(Buffer.from(seed, 'hex')).publicKey };
}

export function ensureStartKeys(dataDir: string, miners: number): StartKeys {
  const dir = join(dataDir, 'keys');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const created: string[] = [];
  const minerKeys = Array.from({ length: miners }, (_, ordinal) => ensureKey(join(dir, `miner-${ordinal}.key`), created));
  return { dir, miners: minerKeys, client: ensureKey(join(dir, 'client.key'), created), created };
}
