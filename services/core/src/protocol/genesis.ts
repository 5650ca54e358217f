/**
 * The genesis block: a constant, identical on every node whatever its configuration. Two nodes that find
 * the blockchain topic empty and both publish it produce byte-identical messages; readers accept the
 * first and reject the second as stale, so a race to initialise the chain cannot fork it.
 */
import { computeBlockHash, type Block } from './block.js';
import { merkleRoot } from './merkle.js';

/** The previousHash the genesis block carries: there is no block before it. */
export const ZERO_HASH = '0'.repeat(64);

const unhashed = {
  index: 0,
  timestamp: 0,
  previousHash: ZERO_HASH,
  merkleRoot: merkleRoot([]),
  transactions: Object.freeze([]),
  miner: 'genesis',
  difficulty: 0,
  nonce: 0,
  sources: Object.freeze([]),
};

export const GENESIS_BLOCK: Block = Object.freeze({ ...unhashed, hash: computeBlockHash(unhashed) });

export const GENESIS_HASH: string = GENESIS_BLOCK.hash;
