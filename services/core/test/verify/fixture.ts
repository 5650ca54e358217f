// A short valid chain (genesis, a block of miner A, a block of miner B) and two forgeries after it: a block
// signed by an outsider and a truncated message. Shared by the verify core's tests and the verify command's.
import { type Block, encodeBlock } from '@chainlog/core/protocol';
import { ChainBuilder, forge, minerB, outsider, signedTransaction } from '../../../auditor/test/support/chain-builder.js';

export function fixture(): { blocks: Block[]; forged: Buffer[] } {
  const builder = new ChainBuilder();
  builder.next({ transactions: [signedTransaction('v-1', 'alice', 'bob', 5)] });
  builder.next({ signer: minerB, miner: 'miner-b' });
  const forged = [
    encodeBlock(forge(builder.tip, { index: builder.tip.index + 1, previousHash: builder.tip.hash }, outsider)),
    Buffer.from('{"index":3,"truncated'),
  ];
  return { blocks: builder.blocks, forged };
}
