// Builds valid and forged blocks with the protocol (assembleBlock + searchNonce + sealBlock) at a low
// difficulty, for the auditor's tests.
import { createHash } from 'node:crypto';
import { assembleBlock, type Block, blockHeader, type ConsensusParams, encodeBlock, GENESIS_BLOCK, headerDigest, merkleRoot, sealBlock, searchNonce, type Signer, signerFromSeed, signTransaction, type SourceRange, toTransaction, type Transaction, type TransactionInput } from '@chainlog/core/protocol';

export const DIFFICULTY = 4;
export const REWARD = 50;

const seed = (label: string): Buffer => createHash('sha256').update(label).digest();
export const minerA: Signer = signerFromSeed(seed('chainlog auditor test miner A'));
export const minerB: Signer = signerFromSeed(seed('chainlog auditor test miner B'));
export const outsider: Signer = signerFromSeed(seed('chainlog auditor test outsider'));
export const client: Signer = signerFromSeed(seed('chainlog auditor test client'));

/** Permissioned: miners A and B may sign blocks. */
export const PARAMS: ConsensusParams = {
  minDifficulty: DIFFICULTY,
  blockReward: REWARD,
  allowedMiners: [minerA.publicKey, minerB.publicKey],
};

/** The environment the services read for PARAMS. */
export const PARAMS_ENV = {
  DIFFICULTY: String(DIFFICULTY),
  BLOCK_REWARD: String(REWARD),
  ALLOWED_MINER_KEYS: `${minerA.publicKey},${minerB.publicKey}`,
};

/** A transaction as read from `topic`/`partition` at `offset` (a minimal kcat-style input unless given). */
export function topicTransaction(
  topic: string,
  partition: number,
  offset: number,
  input: Partial<TransactionInput> = {},
  timestamp = 1_700_000_000_000 + offset,
): Transaction {
  return toTransaction({ from: 'alice', to: 'bob', amount: 3, ...input }, { topic, partition, offset, timestamp });
}

/** A transaction signed by `client`. */
export function signedTransaction(id: string, from: string, to: string, amount: number, timestamp = 1_700_000_100_000): Transaction {
  return signTransaction({ id, from, to, amount, timestamp }, client) as Transaction;
}

export interface MineOptions {
  transactions?: readonly Transaction[];
  sources?: readonly SourceRange[];
  miner?: string;
  timestamp?: number;
  signer?: Signer | null;
  difficulty?: number;
}

function nonceFor(digest: Buffer, difficulty: number): number {
  const nonce = searchNonce(digest, difficulty, 0, Number.MAX_SAFE_INTEGER);
  if (nonce === undefined) throw new Error('no nonce found');
  return nonce;
}

/** Mines a valid block on `previous` (signed by miner A unless `signer` says otherwise; null = unsigned). */
export function mine(previous: Pick<Block, 'index' | 'hash' | 'timestamp'>, options: MineOptions = {}): Block {
  const signer = options.signer === undefined ? minerA : (options.signer ?? undefined);
  const difficulty = options.difficulty ?? DIFFICULTY;
  const candidate = assembleBlock({
    previous,
    transactions: options.transactions ?? [],
    sources: options.sources ?? [],
    miner: options.miner ?? 'miner-a',
    timestamp: options.timestamp ?? previous.timestamp + 1000,
    difficulty,
    reward: REWARD,
    ...(signer === undefined ? {} : { minerPublicKey: signer.publicKey }),
  });
  return sealBlock(candidate, nonceFor(candidate.headerDigest, difficulty), signer);
}

/**
 * `base` with `edits` applied and then re-sealed: Merkle root recomputed (unless edited), nonce searched,
 * hash and signature redone. The result breaks only the rules the edits break. `signer` null: unsigned.
 */
export function forge(base: Block, edits: Partial<Block>, signer: Signer | null = minerA): Block {
  const { minerPublicKey: _key, signature: _signature, ...fields } = { ...base, ...edits };
  const header = blockHeader({
    ...fields,
    merkleRoot: edits.merkleRoot ?? merkleRoot(fields.transactions),
    ...(signer === null ? {} : { minerPublicKey: signer.publicKey }),
  });
  const digest = headerDigest(header);
  return sealBlock({ header, headerDigest: digest, transactions: fields.transactions }, nonceFor(digest, header.difficulty), signer ?? undefined);
}

/** A chain under construction: genesis first, each next() mines on the tip. */
export class ChainBuilder {
  readonly blocks: Block[] = [GENESIS_BLOCK];

  get tip(): Block {
    return this.blocks[this.blocks.length - 1] as Block;
  }

  next(options: MineOptions = {}): Block {
    const block = mine(this.tip, options);
    this.blocks.push(block);
    return block;
  }

  /** The wire bytes of every block so far. */
  messages(): Buffer[] {
    return this.blocks.map(encodeBlock);
  }
}

export { encodeBlock, GENESIS_BLOCK };
