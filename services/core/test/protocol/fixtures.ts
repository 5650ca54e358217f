// Deterministic keys, transactions and blocks for the protocol tests and the committed vectors.
import { createHash } from 'node:crypto';
import {
  assembleBlock,
  blockHeader,
  Chain,
  GENESIS_BLOCK,
  headerDigest,
  merkleRoot,
  searchNonce,
  sealBlock,
  signerFromSeed,
  signTransaction,
  toTransaction,
  type AssembleBlockOptions,
  type Block,
  type ConsensusParams,
  type Signer,
  type SourceRange,
  type Transaction,
  type TransactionInput,
} from '../../src/protocol/index.js';

/** 32-byte seed = SHA-256 of a label, so fixtures read as names rather than random hex. */
export function seedFor(label: string): Buffer {
  return createHash('sha256').update(label).digest();
}

export const minerA: Signer = signerFromSeed(seedFor('chainlog test miner A'));
export const minerB: Signer = signerFromSeed(seedFor('chainlog test miner B'));
export const outsider: Signer = signerFromSeed(seedFor('chainlog test outsider'));
export const client: Signer = signerFromSeed(seedFor('chainlog test client'));

export const TOPIC = 'transactions';

export const openParams: ConsensusParams = { minDifficulty: 4, blockReward: 50 };
export const permissionedParams: ConsensusParams = {
  minDifficulty: 4,
  blockReward: 50,
  allowedMiners: [minerA.publicKey, minerB.publicKey],
};

/** The article's kcat message, read from `partition` at `offset`. */
export function kcatTransaction(partition: number, offset: number, input: Partial<TransactionInput> = {}): Transaction {
  return toTransaction(
    { from: 'alice', to: 'bob', amount: 3, ...input },
    { topic: TOPIC, partition, offset, timestamp: 1_700_000_000_000 + offset },
  );
}

export function signedTransaction(id: string, amount: number): Transaction {
  const unsigned = { id, from: 'carol', to: 'dave', amount, timestamp: 1_700_000_100_000 };
  return toTransaction(signTransaction(unsigned, client), { topic: TOPIC, partition: 1, offset: 0, timestamp: 0 });
}

export function range(partition: number, firstOffset: number, lastOffset: number): SourceRange {
  return { topic: TOPIC, partition, firstOffset, lastOffset };
}

export interface MineOptions extends Partial<Omit<AssembleBlockOptions, 'previous'>> {
  readonly signer?: Signer;
}

/** Mines a block on `previous` by searching nonces from 0: deterministic for the same inputs. */
export function mine(previous: Pick<Block, 'index' | 'hash' | 'timestamp'>, options: MineOptions = {}): Block {
  const { signer, ...rest } = options;
  const difficulty = rest.difficulty ?? openParams.minDifficulty;
  const candidate = assembleBlock({
    transactions: [],
    sources: [],
    miner: 'miner-a',
    timestamp: previous.timestamp + 1000,
    reward: openParams.blockReward,
    ...rest,
    difficulty,
    previous,
    ...(signer === undefined ? {} : { minerPublicKey: signer.publicKey }),
  });
  const nonce = searchNonce(candidate.headerDigest, difficulty, 0, Number.MAX_SAFE_INTEGER);
  if (nonce === undefined) throw new Error('no nonce found');
  return sealBlock(candidate, nonce, signer);
}

/**
 * Rebuilds `base` with `edits` applied, then recomputes the Merkle root (unless edited), the nonce, the hash
 * and the signature: the result breaks only the rules the edits themselves break.
 */
export function forge(base: Block, edits: Partial<Block>, signer: Signer | undefined): Block {
  const fields = { ...base, ...edits };
  const header = blockHeader({
    ...fields,
    merkleRoot: edits.merkleRoot ?? merkleRoot(fields.transactions),
    minerPublicKey: signer?.publicKey,
  });
  const digest = headerDigest(header);
  const nonce = searchNonce(digest, header.difficulty, 0, Number.MAX_SAFE_INTEGER);
  if (nonce === undefined) throw new Error('no nonce found');
  return sealBlock({ header, headerDigest: digest, transactions: fields.transactions }, nonce, signer);
}

/** Block 1 on genesis, signed by miner A: two kcat messages from partition 0. */
export const block1: Block = mine(GENESIS_BLOCK, {
  signer: minerA,
  transactions: [kcatTransaction(0, 0), kcatTransaction(0, 1)],
  sources: [range(0, 0, 1)],
});

/** A fresh chain holding genesis and block1, for tests that apply one more block. */
export function chainWithOneBlock(params: ConsensusParams = permissionedParams): Chain {
  const chain = new Chain(params);
  for (const block of [GENESIS_BLOCK, block1]) {
    const result = chain.apply(block);
    if (!result.accepted) throw new Error(`fixture block rejected: ${result.reason} ${result.detail}`);
  }
  return chain;
}
