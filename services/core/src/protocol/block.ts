/**
 * Blocks and what is hashed of them. The header is every block field except the transactions (bound by
 * merkleRoot), the nonce and hash (the proof of work over the header) and the signature (over the hash).
 *
 *   headerDigest = SHA-256(JCS(header))
 *   hash         = SHA-256(headerDigest || uint64be(nonce))   -- the proof of work, and the block's id
 */
import { canonicalBytes, sha256, toHex } from './encoding.js';
import { proofOfWorkHash } from './proof-of-work.js';
import type { SkipReason } from './admission.js';
import type { Transaction } from './transaction.js';

/** A record of a source range that is not one of the block's transactions, and why (admission.ts). */
export interface SkippedRecord {
  readonly offset: number;
  readonly reason: SkipReason;
}

/**
 * The offsets of one transactions-topic partition a block consumed (inclusive on both ends). Every
 * visible record in it is either one of the block's transactions or listed in `skipped` (absent when empty).
 */
export interface SourceRange {
  readonly topic: string;
  readonly partition: number;
  readonly firstOffset: number;
  readonly lastOffset: number;
  /** Ascending by offset. */
  readonly skipped?: readonly SkippedRecord[];
}

export interface BlockHeader {
  /** Height: 0 for genesis, previous index + 1 after. */
  readonly index: number;
  /** Milliseconds since the Unix epoch. */
  readonly timestamp: number;
  readonly previousHash: string;
  readonly merkleRoot: string;
  /** Account the coinbase pays. */
  readonly miner: string;
  /** Leading zero bits the hash has (at least). */
  readonly difficulty: number;
  /** Sorted by topic then partition, at most one range per partition. */
  readonly sources: readonly SourceRange[];
  /** Raw Ed25519 public key, lowercase hex; present exactly when the block is signed. */
  readonly minerPublicKey?: string;
  /** Protocol version (version.ts), 2 or above; absent means 1 (blocks written before versions existed). */
  readonly version?: number;
}

export interface Block extends BlockHeader {
  /** Coinbase first (except in the genesis block, which has none). */
  readonly transactions: readonly Transaction[];
  /** Integer 0..2^53-1. */
  readonly nonce: number;
  /** Ed25519 signature by minerPublicKey over the 32 raw bytes of the hash, lowercase hex. */
  readonly signature?: string;
  /** Lowercase hex of SHA-256(headerDigest || uint64be(nonce)). */
  readonly hash: string;
}

/** The header fields of a block, and nothing else (JCS omits absent optional fields). */
export function blockHeader(block: BlockHeader): BlockHeader {
  const header: BlockHeader = {
    index: block.index,
    timestamp: block.timestamp,
    previousHash: block.previousHash,
    merkleRoot: block.merkleRoot,
    miner: block.miner,
    difficulty: block.difficulty,
    sources: block.sources.map(sourceRange),
  };
  return {
    ...header,
    ...(block.minerPublicKey === undefined ? {} : { minerPublicKey: block.minerPublicKey }),
    ...(block.version === undefined ? {} : { version: block.version }),
  };
}

/** A source range with only its own fields (JCS omits an absent or empty skipped list). */
export function sourceRange({ topic, partition, firstOffset, lastOffset, skipped }: SourceRange): SourceRange {
  const range = { topic, partition, firstOffset, lastOffset };
  return skipped === undefined || skipped.length === 0
    ? range
    : { ...range, skipped: skipped.map(({ offset, reason }) => ({ offset, reason })) };
}

export function headerDigest(header: BlockHeader): Buffer {
  return sha256(canonicalBytes(blockHeader(header)));
}

/** The hash a block must carry, recomputed from its header and nonce. */
export function computeBlockHash(block: BlockHeader & { readonly nonce: number }): string {
  return toHex(proofOfWorkHash(headerDigest(block), block.nonce));
}

/** The order sources appear in a block: by topic (UTF-16 code unit order, i.e. ASCII), then partition. */
export function compareSources(a: Pick<SourceRange, 'topic' | 'partition'>, b: Pick<SourceRange, 'topic' | 'partition'>): number {
  if (a.topic !== b.topic) return a.topic < b.topic ? -1 : 1;
  return a.partition - b.partition;
}
