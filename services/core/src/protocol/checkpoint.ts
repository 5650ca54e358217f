/**
 * Checkpoints (docs/protocol.md §5.1): the state a reader needs to continue the chain at its tip (Chain.state)
 * without replaying it from genesis, as bytes a reader can check before trusting them. Pure: the Kafka side
 * (a compacted topic) is core/kafka/checkpoint-store.ts.
 *
 * A checkpoint is a body (canonical JSON: tip, source offsets, the replay window's ids, ...) cut into parts
 * that fit a Kafka message, and a manifest that names the tip, the parts and the SHA-256 of the body, signed
 * by its writer. A reader opens it (format, shape, hashes, signature), then verifies it against its own view:
 * the same consensus parameters and blockchain topic, a signer it trusts (in permissioned mode an allowed
 * miner: the keys the chain already trusts), and the tip must be the block at that offset of the blockchain
 * topic with that index and hash. Anything else is a problem with a name, and the reader replays instead.
 */
import type { Block } from './block.js';
import { decodeBlock } from './block-codec.js';
import type { ChainState, SourceOffset } from './chain.js';
import type { ConsensusParams } from './consensus.js';
import { canonicalBytes, HASH_HEX_PATTERN, isPlainObject, parseJsonBytes, sha256, toHex } from './encoding.js';
import { isAccountId, isSafeNonNegativeInteger, isTopicName, isUserTransactionId, MAX_PARTITION } from './identifiers.js';
import { PUBLIC_KEY_HEX_PATTERN, SIGNATURE_HEX_PATTERN, verifySignature, type Signer } from './signatures.js';

/** The checkpoint layout this code writes and reads; any other is refused (`unsupported-format`). */
export const CHECKPOINT_FORMAT = 1;

/** Largest part: well below Kafka's default 1 MiB message limit. */
export const CHECKPOINT_PART_BYTES = 512 * 1024;

/** Why a checkpoint is not used, in the order the checks run (a bounded set: a metric label). */
export const CHECKPOINT_PROBLEMS = [
  'malformed',
  'unsupported-format',
  'bad-signature',
  'incomplete',
  'corrupt',
  'other-params',
  'other-topic',
  'untrusted-signer',
  'not-on-chain',
] as const;
export type CheckpointProblem = (typeof CHECKPOINT_PROBLEMS)[number];

/** Where the checkpoint continues the chain: the tip and its position on the blockchain topic. */
export interface CheckpointTip {
  readonly blockchainTopic: string;
  /** Offset of the tip block's message on the (single-partition) blockchain topic. */
  readonly tipOffset: number;
  readonly tipIndex: number;
  readonly tipHash: string;
}

export interface CheckpointManifest extends CheckpointTip {
  readonly format: number;
  /** Who wrote it (a miner id): one current checkpoint per writer. */
  readonly writer: string;
  readonly bodyHash: string;
  readonly bodyBytes: number;
  readonly parts: number;
  readonly publicKey?: string;
  /** Ed25519 by publicKey over SHA-256 of the canonical manifest without `signature`. */
  readonly signature?: string;
}

export interface CheckpointBody extends CheckpointTip {
  readonly format: number;
  readonly writer: string;
  /** When it was written (the writer's clock; informational, never part of a decision). */
  readonly writtenAt: number;
  /** consensusFingerprint of the parameters the state was computed with. */
  readonly params: string;
  readonly transactionCount: number;
  readonly sourceOffsets: readonly SourceOffset[];
  /** [id, timestamp], sorted by id. */
  readonly recentIds: readonly (readonly [string, number])[];
  /** With ledger rules (ledger.ts): [account, balance as a decimal integer], sorted by account. */
  readonly balances?: ReadonlyArray<readonly [string, string]>;
}

export interface EncodedCheckpoint {
  /** The manifest message (written last: a reader never finds a manifest whose parts are not there yet). */
  readonly manifest: Buffer;
  readonly parts: readonly Buffer[];
  readonly body: CheckpointBody;
  readonly manifestValue: CheckpointManifest;
}

export type Opened =
  | { readonly ok: true; readonly manifest: CheckpointManifest; readonly body: CheckpointBody }
  | { readonly ok: false; readonly problem: CheckpointProblem; readonly detail: string };

/** SHA-256 of the canonical consensus parameters: readers with other parameters compute another chain. */
export function consensusFingerprint(params: ConsensusParams): string {
  const { allowedMiners, ...rest } = params;
  const normalised = { ...rest, ...(allowedMiners === undefined ? {} : { allowedMiners: [...allowedMiners].sort() }) };
  return toHex(sha256(canonicalBytes(JSON.parse(JSON.stringify(normalised)))));
}

export interface CheckpointOptions extends CheckpointTip {
  readonly writer: string;
  readonly writtenAt: number;
  readonly signer?: Signer;
  readonly partBytes?: number;
}

/** The checkpoint of a chain whose tip is the message at options.tipOffset; undefined when it has no state. */
export function createCheckpoint(state: ChainState | undefined, params: ConsensusParams, options: CheckpointOptions): EncodedCheckpoint | undefined {
  if (state === undefined) return undefined;
  if (state.tip.index !== options.tipIndex || state.tip.hash !== options.tipHash) throw new Error('the checkpoint tip is not the chain state tip');
  const { blockchainTopic, tipOffset, tipIndex, tipHash, writer, writtenAt } = options;
  const tip = { blockchainTopic, tipOffset, tipIndex, tipHash };
  const body: CheckpointBody = {
    format: CHECKPOINT_FORMAT,
    ...tip,
    writer,
    writtenAt,
    params: consensusFingerprint(params),
    transactionCount: state.transactionCount,
    sourceOffsets: state.sourceOffsets.map(({ topic, partition, lastOffset }) => ({ topic, partition, lastOffset })),
    recentIds: state.recentIds.map(({ id, timestamp }) => [id, timestamp] as const),
    ...(state.balances === undefined ? {} : { balances: state.balances }),
  };
  const bytes = canonicalBytes(body);
  const partBytes = options.partBytes ?? CHECKPOINT_PART_BYTES;
  const parts: Buffer[] = [];
  for (let start = 0; start < bytes.length; start += partBytes) parts.push(bytes.subarray(start, start + partBytes));
  const unsigned: CheckpointManifest = {
    format: CHECKPOINT_FORMAT,
    ...tip,
    writer,
    bodyHash: toHex(sha256(bytes)),
    bodyBytes: bytes.length,
    parts: parts.length,
    ...(options.signer === undefined ? {} : { publicKey: options.signer.publicKey }),
  };
  const manifestValue: CheckpointManifest =
    options.signer === undefined ? unsigned : { ...unsigned, signature: options.signer.sign(manifestDigest(unsigned)) };
  return { manifest: canonicalBytes(manifestValue), parts, body, manifestValue };
}

function manifestDigest(manifest: CheckpointManifest): Buffer {
  const { signature: _signature, ...unsigned } = manifest;
  return sha256(canonicalBytes(unsigned));
}

/** Format, shape, signature and body hash: what can be checked from the checkpoint's own bytes. */
export function openCheckpoint(manifestBytes: Uint8Array, parts: readonly (Uint8Array | undefined)[]): Opened {
  const parsed = parseJsonBytes(manifestBytes);
  if (!parsed.ok || !isPlainObject(parsed.value)) return problem('malformed', `the manifest ${parsed.ok ? 'is not an object' : parsed.problem}`);
  const manifest = parsed.value;
  if (manifest['format'] !== CHECKPOINT_FORMAT) {
    return problem('unsupported-format', `format ${JSON.stringify(manifest['format'])}, this reader reads format ${CHECKPOINT_FORMAT}`);
  }
  const shape = manifestShapeProblem(manifest);
  if (shape !== undefined) return problem('malformed', `the manifest ${shape}`);
  const valid = manifest as unknown as CheckpointManifest;
  if (valid.signature !== undefined && !verifySignature(valid.publicKey as string, manifestDigest(valid), valid.signature)) {
    return problem('bad-signature', 'the manifest signature does not verify against its publicKey');
  }
  const missing = Array.from({ length: valid.parts }, (_, i) => i).filter((i) => parts[i] === undefined);
  if (missing.length > 0) return problem('incomplete', `parts ${missing.join(', ')} of ${valid.parts} are missing`);
  const bytes = Buffer.concat(parts.slice(0, valid.parts) as Uint8Array[]);
  if (bytes.length !== valid.bodyBytes || toHex(sha256(bytes)) !== valid.bodyHash) {
    return problem('corrupt', `the body (${bytes.length} bytes) does not hash to bodyHash (${valid.bodyBytes} bytes)`);
  }
  const body = parseJsonBytes(bytes);
  if (!body.ok || !isPlainObject(body.value)) return problem('corrupt', `the body ${body.ok ? 'is not an object' : body.problem}`);
  const bodyShape = bodyShapeProblem(body.value, valid);
  if (bodyShape !== undefined) return problem('corrupt', `the body ${bodyShape}`);
  return { ok: true, manifest: valid, body: body.value as unknown as CheckpointBody };
}

export interface ReaderView {
  readonly params: ConsensusParams;
  readonly blockchainTopic: string;
  /** The message at the checkpoint's tipOffset on the blockchain topic; undefined when there is none. */
  readonly tipMessage: Uint8Array | undefined;
}

/**
 * Whether this reader may continue from the opened checkpoint: the state it describes and the tip block (from
 * the blockchain topic), or the problem. Trust: in permissioned mode (allowedMiners) the manifest must be
 * signed by an allowed miner; in open mode, as anyone may write blocks, unsigned checkpoints are accepted too.
 */
export function verifyCheckpoint(
  opened: Extract<Opened, { ok: true }>,
  view: ReaderView,
): { readonly ok: true; readonly state: ChainState } | { readonly ok: false; readonly problem: CheckpointProblem; readonly detail: string } {
  const { manifest, body } = opened;
  if (body.params !== consensusFingerprint(view.params)) return problem('other-params', 'written with other consensus parameters');
  if (manifest.blockchainTopic !== view.blockchainTopic) return problem('other-topic', `written for topic ${manifest.blockchainTopic}`);
  const allowed = view.params.allowedMiners;
  if (allowed !== undefined && (manifest.publicKey === undefined || !allowed.includes(manifest.publicKey))) {
    return problem('untrusted-signer', manifest.publicKey === undefined ? 'unsigned, on a permissioned chain' : `signed by ${manifest.publicKey}, not an allowed miner`);
  }
  const tip = tipBlock(manifest, view.tipMessage);
  if (typeof tip === 'string') return problem('not-on-chain', tip);
  const recentIds = body.recentIds.map(([id, timestamp]) => ({ id, timestamp }));
  const balances = body.balances === undefined ? {} : { balances: body.balances };
  return { ok: true, state: { tip, transactionCount: body.transactionCount, sourceOffsets: body.sourceOffsets, recentIds, ...balances } };
}

function tipBlock(tip: CheckpointTip, message: Uint8Array | undefined): Block | string {
  if (message === undefined) return `the blockchain topic has no message at offset ${tip.tipOffset}`;
  const decoded = decodeBlock(message);
  if (!decoded.ok) return `the message at offset ${tip.tipOffset} is not a block`;
  const block = decoded.value;
  if (block.hash !== tip.tipHash || block.index !== tip.tipIndex) {
    return `the block at offset ${tip.tipOffset} is ${block.index} ${block.hash}, not ${tip.tipIndex} ${tip.tipHash}`;
  }
  return block;
}

const MANIFEST_FIELDS = ['blockchainTopic', 'bodyBytes', 'bodyHash', 'format', 'parts', 'publicKey', 'signature', 'tipHash', 'tipIndex', 'tipOffset', 'writer'];

function manifestShapeProblem(value: Record<string, unknown>): string | undefined {
  const unknown = Object.keys(value).find((key) => !MANIFEST_FIELDS.includes(key));
  if (unknown !== undefined) return `has an unknown field ${unknown}`;
  const tip = tipProblem(value);
  if (tip !== undefined) return tip;
  if (typeof value['writer'] !== 'string' || value['writer'].length === 0 || value['writer'].length > 128) return 'writer must be a string of 1..128 characters';
  if (typeof value['bodyHash'] !== 'string' || !HASH_HEX_PATTERN.test(value['bodyHash'])) return 'bodyHash must be 64 hex digits';
  if (!isSafeNonNegativeInteger(value['bodyBytes'])) return 'bodyBytes must be a safe integer';
  if (!isSafeNonNegativeInteger(value['parts']) || value['parts'] < 1 || value['parts'] > 100_000) return 'parts must be 1..100000';
  const { publicKey, signature } = value;
  if ((publicKey === undefined) !== (signature === undefined)) return 'has publicKey without signature or the reverse';
  if (publicKey !== undefined && (typeof publicKey !== 'string' || !new RegExp(PUBLIC_KEY_HEX_PATTERN).test(publicKey))) return 'publicKey must be 64 hex digits';
  if (signature !== undefined && (typeof signature !== 'string' || !new RegExp(SIGNATURE_HEX_PATTERN).test(signature))) return 'signature must be 128 hex digits';
  return undefined;
}

function tipProblem(value: Record<string, unknown>): string | undefined {
  if (typeof value['blockchainTopic'] !== 'string' || !isTopicName(value['blockchainTopic'])) return 'blockchainTopic must be a topic name';
  if (!isSafeNonNegativeInteger(value['tipOffset'])) return 'tipOffset must be a safe integer';
  if (!isSafeNonNegativeInteger(value['tipIndex'])) return 'tipIndex must be a safe integer';
  if (typeof value['tipHash'] !== 'string' || !HASH_HEX_PATTERN.test(value['tipHash'])) return 'tipHash must be 64 hex digits';
  return undefined;
}

function bodyShapeProblem(body: Record<string, unknown>, manifest: CheckpointManifest): string | undefined {
  for (const key of ['format', 'blockchainTopic', 'tipOffset', 'tipIndex', 'tipHash', 'writer'] as const) {
    if (body[key] !== manifest[key]) return `${key} differs from the manifest's`;
  }
  if (!isSafeNonNegativeInteger(body['writtenAt']) || !isSafeNonNegativeInteger(body['transactionCount'])) return 'writtenAt and transactionCount must be safe integers';
  if (typeof body['params'] !== 'string' || !HASH_HEX_PATTERN.test(body['params'])) return 'params must be 64 hex digits';
  const offsets = body['sourceOffsets'];
  if (!Array.isArray(offsets) || !offsets.every(isSourceOffset)) return 'sourceOffsets must be {topic, partition, lastOffset} entries';
  const ids = body['recentIds'];
  if (!Array.isArray(ids) || !ids.every(isRecentIdEntry)) return 'recentIds must be [client-chosen id, timestamp] pairs';
  const balances = body['balances'];
  if (balances !== undefined && (!Array.isArray(balances) || !balances.every(isBalanceEntry))) return 'balances must be [account, decimal integer] pairs';
  return undefined;
}

function isSourceOffset(value: unknown): boolean {
  if (!isPlainObject(value)) return false;
  const { topic, partition, lastOffset } = value;
  return typeof topic === 'string' && isTopicName(topic) && Number.isInteger(partition) && (partition as number) >= 0 && (partition as number) <= MAX_PARTITION && isSafeNonNegativeInteger(lastOffset);
}

function isRecentIdEntry(value: unknown): boolean {
  return Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && isUserTransactionId(value[0]) && isSafeNonNegativeInteger(value[1]);
}

function isBalanceEntry(value: unknown): boolean {
  return Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && isAccountId(value[0]) && typeof value[1] === 'string' && /^-?(0|[1-9][0-9]*)$/.test(value[1]);
}

function problem(name: CheckpointProblem, detail: string): { ok: false; problem: CheckpointProblem; detail: string } {
  return { ok: false, problem: name, detail };
}
