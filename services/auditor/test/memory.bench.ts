// Measures the auditor's memory per million committed transactions and its catch-up rate, through the
// same path as the service (Chain.apply on wire bytes, then AuditorState.accept). Not part of `npm test`:
//   node --expose-gc --conditions=@chainlog/source --import tsx services/auditor/test/memory.bench.ts [transactions] [perBlock] [accounts] [blockCacheBytes]
import { assembleBlock, type Block, encodeBlock, GENESIS_BLOCK, sealBlock, toTransaction } from '@chainlog/core/protocol';
import { AuditorState } from '../src/domain/auditor-state.js';

const total = Number(process.argv[2] ?? 1_000_000);
const perBlock = Number(process.argv[3] ?? 1000);
const accounts = Number(process.argv[4] ?? 10_000);
const blockCacheBytes = Number(process.argv[5] ?? 16 * 2 ** 20);
const TOPIC = 'transactions';
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc');

function measure(): { heap: number; external: number } {
  gc?.();
  gc?.();
  const usage = process.memoryUsage();
  return { heap: usage.heapUsed, external: usage.external };
}

const state = new AuditorState({ params: { minDifficulty: 0, blockReward: 50 }, transactionsTopic: TOPIC, blockCacheBytes });
const before = measure();
let previous: Block = GENESIS_BLOCK;
let applyMs = 0;
let bytes = 0;
const apply = (block: Block): void => {
  const message = encodeBlock(block);
  bytes += message.length;
  const started = performance.now();
  const result = state.chain.apply(message);
  if (!result.accepted) throw new Error(`${result.reason}: ${result.detail}`);
  state.accept(result.block, state.index.height + 1);
  applyMs += performance.now() - started;
};
apply(GENESIS_BLOCK);
for (let offset = 0; offset < total; offset += perBlock) {
  const count = Math.min(perBlock, total - offset);
  const transactions = Array.from({ length: count }, (_, i) =>
    toTransaction(
      { from: `account-${(offset + i) % accounts}`, to: `account-${(offset + i + 1) % accounts}`, amount: 1 + ((offset + i) % 1000) },
      { topic: TOPIC, partition: 0, offset: offset + i, timestamp: 1_700_000_000_000 + offset + i },
    ),
  );
  const candidate = assembleBlock({
    previous,
    transactions,
    sources: [{ topic: TOPIC, partition: 0, firstOffset: offset, lastOffset: offset + count - 1 }],
    miner: 'miner-0',
    timestamp: previous.timestamp + 1000,
    difficulty: 0,
    reward: 50,
  });
  previous = sealBlock(candidate, 0);
  apply(previous);
}
previous = GENESIS_BLOCK;
const after = measure();
const perMillion = (value: number): string => `${((value / state.index.transactionCount) * 1_000_000 / 2 ** 20).toFixed(0)} MiB`;
console.log(
  JSON.stringify(
    {
      transactions: state.index.transactionCount,
      blocks: state.index.height + 1,
      accounts: state.ledger.accountCount,
      wireBytes: bytes,
      heapPerMillion: perMillion(after.heap - before.heap),
      externalPerMillion: perMillion(after.external - before.external),
      totalPerMillion: perMillion(after.heap + after.external - before.heap - before.external),
      applySeconds: (applyMs / 1000).toFixed(1),
      transactionsPerSecond: Math.round(state.index.transactionCount / (applyMs / 1000)),
    },
    null,
    2,
  ),
);
