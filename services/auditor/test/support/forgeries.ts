// One forged or corrupt blockchain message per class of attack, each built on the current tip so that it
// breaks exactly one rule, with the reason the protocol must give it.
import { type Block, coinbaseTransaction, computeBlockHash, encodeBlock, meetsDifficulty, type RejectionReason, type Transaction } from '@chainlog/core/protocol';
import { DIFFICULTY, forge, mine, minerA, outsider, REWARD, signedTransaction } from './chain-builder.js';

export interface Forgery {
  readonly name: string;
  readonly reason: RejectionReason;
  readonly bytes: Buffer;
}

/** The block with another nonce whose hash misses the difficulty, hash and signature redone to match. */
function withoutWork(block: Block): Block {
  for (let nonce = block.nonce + 1; ; nonce++) {
    const hash = computeBlockHash({ ...block, nonce });
    if (!meetsDifficulty(Buffer.from(hash, 'hex'), DIFFICULTY)) {
      return { ...block, nonce, hash, signature: minerA.sign(Buffer.from(hash, 'hex')) };
    }
  }
}

/**
 * Forgeries on top of `tip`. `committed` is a transaction already in the chain; `stale` a valid block the
 * chain accepted earlier (replayed). None of them contains a newline byte (kcat dumps split on it).
 */
export function forgeries(tip: Block, committed: Transaction, stale: Block): Forgery[] {
  const index = tip.index + 1;
  const signed = signedTransaction(`tamper-${index}`, 'gina', 'hal', 4, tip.timestamp);
  const next = mine(tip, { transactions: [signed] });
  const [coinbase] = next.transactions as [Transaction, ...Transaction[]];
  return [
    { name: 'bad proof of work', reason: 'insufficient-work', bytes: encodeBlock(withoutWork(next)) },
    { name: 'difficulty below the minimum', reason: 'insufficient-work', bytes: encodeBlock(forge(next, { difficulty: DIFFICULTY - 3 })) },
    { name: 'bad hash link', reason: 'fork', bytes: encodeBlock(forge(next, { previousHash: 'ab'.repeat(32) })) },
    { name: 'header changed after sealing', reason: 'bad-hash', bytes: encodeBlock({ ...next, timestamp: next.timestamp + 1 }) },
    { name: 'wrong merkle root', reason: 'bad-merkle-root', bytes: encodeBlock(forge(next, { merkleRoot: 'cd'.repeat(32) })) },
    {
      name: 'tampered transaction (resealed)',
      reason: 'bad-transaction',
      bytes: encodeBlock(forge(next, { transactions: [coinbase, { ...signed, amount: 4000 }] })),
    },
    {
      name: 'tampered transaction (not resealed)',
      reason: 'bad-merkle-root',
      bytes: encodeBlock({ ...next, transactions: [coinbase, { ...signed, amount: 4000 }] }),
    },
    { name: 'duplicate transaction', reason: 'duplicate-transaction', bytes: encodeBlock(forge(next, { transactions: [coinbase, committed] })) },
    {
      name: 'second coinbase',
      reason: 'bad-transaction',
      bytes: encodeBlock(
        forge(next, { transactions: [coinbase, coinbaseTransaction({ index, miner: next.miner, timestamp: next.timestamp, reward: REWARD })] }),
      ),
    },
    { name: 'inflated coinbase', reason: 'bad-coinbase', bytes: encodeBlock(forge(next, { transactions: [{ ...coinbase, amount: REWARD * 1000 }, signed] })) },
    { name: 'unknown signer (permissioned)', reason: 'unknown-signer', bytes: encodeBlock(forge(next, {}, outsider)) },
    { name: 'unsigned block (permissioned)', reason: 'unsigned', bytes: encodeBlock(forge(next, {}, null)) },
    { name: 'garbage bytes', reason: 'malformed', bytes: Buffer.from('c3a9ff00fe17deadbeef0badf00d', 'hex') },
    { name: 'truncated JSON', reason: 'malformed', bytes: encodeBlock(next).subarray(0, 200) },
    { name: 'replayed earlier block', reason: 'stale', bytes: encodeBlock(stale) },
  ];
}
