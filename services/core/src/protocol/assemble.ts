/**
 * What a miner needs besides the nonce search: build a candidate block on top of the tip (coinbase first,
 * Merkle root, header digest), then seal it with the nonce found and an optional signature.
 */
import { blockHeader, compareSources, headerDigest, type Block, type BlockHeader, type SourceRange } from './block.js';
import { coinbaseTransaction } from './coinbase.js';
import { toHex } from './encoding.js';
import { merkleRootOfHashes } from './merkle.js';
import { proofOfWorkHash } from './proof-of-work.js';
import type { Signer } from './signatures.js';
import { transactionHash, type Transaction } from './transaction.js';
import { CURRENT_PROTOCOL_VERSION, LEGACY_PROTOCOL_VERSION } from './version.js';

export interface CandidateBlock {
  readonly header: BlockHeader;
  /** SHA-256 of the header's canonical JSON: the input of searchNonce. */
  readonly headerDigest: Buffer;
  /** Coinbase first, then the given transactions in order. */
  readonly transactions: readonly Transaction[];
  /** transactionHash of each of `transactions`: Chain.check can take them instead of hashing again. */
  readonly transactionHashes: readonly Buffer[];
}

export interface AssembleBlockOptions {
  /** The chain's tip: the block the candidate extends. */
  readonly previous: Pick<Block, 'index' | 'hash' | 'timestamp'>;
  /** Not yet committed, no duplicate ids; the miner filters them with Chain.hasTransaction. */
  readonly transactions: readonly Transaction[];
  /** Offsets consumed since the previous block; each continues the chain's last offset for its partition. */
  readonly sources: readonly SourceRange[];
  readonly miner: string;
  /** The miner's clock; raised to the previous block's timestamp if behind, so block times never decrease. */
  readonly timestamp: number;
  readonly difficulty: number;
  readonly reward: number;
  /** Must be the public key of the signer later passed to sealBlock. */
  readonly minerPublicKey?: string;
  /** Protocol version (version.ts); CURRENT_PROTOCOL_VERSION by default. 1 writes no `version` field. */
  readonly version?: number;
}

export function assembleBlock(options: AssembleBlockOptions): CandidateBlock {
  const index = options.previous.index + 1;
  const version = options.version ?? CURRENT_PROTOCOL_VERSION;
  const timestamp = Math.max(options.timestamp, options.previous.timestamp);
  const transactions = [
    coinbaseTransaction({ index, miner: options.miner, timestamp, reward: options.reward }),
    ...options.transactions,
  ];
  const transactionHashes = transactions.map(transactionHash);
  const header = blockHeader({
    index,
    timestamp,
    previousHash: options.previous.hash,
    merkleRoot: toHex(merkleRootOfHashes(transactionHashes)),
    miner: options.miner,
    difficulty: options.difficulty,
    sources: [...options.sources].sort(compareSources),
    ...(options.minerPublicKey === undefined ? {} : { minerPublicKey: options.minerPublicKey }),
    ...(version === LEGACY_PROTOCOL_VERSION ? {} : { version }),
  });
  return { header, headerDigest: headerDigest(header), transactions, transactionHashes };
}

/** The complete block for a nonce found by searchNonce (not re-checked here; Chain.check does that). */
export function sealBlock(candidate: Omit<CandidateBlock, 'transactionHashes'>, nonce: number, signer?: Signer): Block {
  if (signer?.publicKey !== candidate.header.minerPublicKey) {
    throw new Error('the signer must match the candidate minerPublicKey (both present or both absent)');
  }
  const hashBytes = proofOfWorkHash(candidate.headerDigest, nonce);
  return {
    ...candidate.header,
    transactions: candidate.transactions,
    nonce,
    ...(signer === undefined ? {} : { signature: signer.sign(hashBytes) }),
    hash: toHex(hashBytes),
  };
}
