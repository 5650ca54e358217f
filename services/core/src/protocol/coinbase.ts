/**
 * The coinbase: the one reward transaction every block after genesis starts with. Everything about it
 * follows from the block, so validators rebuild it and compare instead of checking field by field.
 */
import { canonicalJson } from './encoding.js';
import { COINBASE_SENDER, coinbaseTransactionId } from './identifiers.js';
import type { Transaction } from './transaction.js';

export function coinbaseTransaction(block: {
  readonly index: number;
  readonly miner: string;
  readonly timestamp: number;
  readonly reward: number;
}): Transaction {
  return {
    id: coinbaseTransactionId(block.index),
    from: COINBASE_SENDER,
    to: block.miner,
    amount: block.reward,
    timestamp: block.timestamp,
  };
}

export function isExpectedCoinbase(
  transaction: Transaction | undefined,
  block: { readonly index: number; readonly miner: string; readonly timestamp: number },
  reward: number,
): boolean {
  return (
    transaction !== undefined &&
    canonicalJson(transaction) === canonicalJson(coinbaseTransaction({ ...block, reward }))
  );
}
