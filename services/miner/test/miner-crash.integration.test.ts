// A miner process killed with SIGKILL while it mines a block, then restarted: it resumes every partition
// where the canonical chain ends (never from committed offsets), so nothing is lost and nothing doubled.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { derivedTransactionId } from '@chainlog/core/protocol';
import { eventually } from '../../../test/support/kafka.js';
import { ARTICLE_TRANSACTION, consensusOf, minerEnv, produce, rebuildChain, testTopics, transactionCounts } from './support/miners.js';
import { REPO_ROOT, ServiceProcess, SOURCE_NODE_ARGS } from '../../../test/support/processes.js';

describe('a miner killed mid-block', () => {
  const processes: ServiceProcess[] = [];
  afterEach(async () => {
    await Promise.all(processes.splice(0).map((miner) => miner.dispose()));
  });

  it('runs from source with @chainlog/core/protocol resolved to its TypeScript', () => {
    const resolved = spawnSync(process.execPath, [...SOURCE_NODE_ARGS, '--input-type=module', '-e', "console.log(import.meta.resolve('@chainlog/core/protocol'))"], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(resolved.stdout.trim()).toBe(pathToFileURL(join(REPO_ROOT, 'services/core/src/protocol/index.ts')).href);
  });

  it('loses and duplicates nothing when restarted', { timeout: 240_000 }, async () => {
    const topics = testTopics('crash');
    const env = minerEnv(topics, { DIFFICULTY: '17', CUT_AT_PENDING_TRANSACTIONS: '3', TAKE_UP_TO_TRANSACTIONS: '3', MAX_BLOCK_WAIT_MS: '200', MINER_ID: 'crash-miner', MINER_ORDINAL: '0' });
    const transactionsTopic = topics.TOPIC_TRANSACTIONS;
    const first = new ServiceProcess('miner', 'miner', env).start();
    processes.push(first);
    await first.waitForLog((line) => line.msg === 'miner started', 90_000, 'start');

    const message = (i: number): { partition: number; value: string } => ({ partition: i % 2, value: ARTICLE_TRANSACTION });
    const before = await produce(transactionsTopic, Array.from({ length: 24 }, (_, i) => message(i)));
    // Two blocks mined (three transactions each: TAKE_UP_TO_TRANSACTIONS keeps the blocks small, so that the kill
    // lands mid-chain), then SIGKILL as soon as the third one's proof of work starts.
    await first.waitForLog((line) => line.msg === 'mined block' && line.blockIndex === 2, 90_000, 'block 2');
    await first.waitForLog((line) => line.msg === 'mining block' && line.index === 3, 90_000, 'mining block 3');
    await first.kill('SIGKILL');
    const killedMidBlock = !first.logs.some((line) => line.msg === 'mined block' && line.blockIndex === 3);

    // Transactions keep arriving while it is down.
    const whileDown = await produce(transactionsTopic, Array.from({ length: 6 }, (_, i) => message(i)));
    const atRestart = await rebuildChain(topics.TOPIC_BLOCKCHAIN, consensusOf(env));
    expect(atRestart.chain.height).toBeGreaterThanOrEqual(2);

    const second = new ServiceProcess('miner', 'miner', env).start();
    processes.push(second);
    const joined = await second.waitForLog((line) => line.msg === 'partition ownership changed', 90_000, 'group join');
    // Each partition resumes right after the chain's last offset for it, as the chain stood at the restart.
    expect(joined.seeks).toEqual(
      [0, 1].map((partition) => ({ partition, offset: (atRestart.chain.lastSourceOffset(transactionsTopic, partition) ?? -1) + 1, gained: true })),
    );

    const all = [...before, ...whileDown];
    const last = (partition: number): number => Math.max(...all.filter((p) => p.partition === partition).map((p) => p.offset));
    const { blocks, rejected } = await eventually(
      async () => {
        const rebuilt = await rebuildChain(topics.TOPIC_BLOCKCHAIN, consensusOf(env));
        for (const partition of [0, 1]) expect(rebuilt.chain.lastSourceOffset(transactionsTopic, partition)).toBe(last(partition));
        return rebuilt;
      },
      120_000,
      1000,
    );
    const counts = transactionCounts(blocks);
    expect([...counts.keys()].sort()).toEqual(all.map(({ partition, offset }) => derivedTransactionId(transactionsTopic, partition, offset)).sort());
    expect([...counts.values()].every((count) => count === 1)).toBe(true);
    expect(rejected).toEqual([]);
    console.info(`crash: killed ${killedMidBlock ? 'during' : 'just after'} the proof of work of block 3; ${blocks.length - 1} blocks in the end`);

    // A graceful stop (SIGTERM) exits 0.
    const termAt = Date.now(); await second.kill('SIGTERM'); console.info('sigterm exit ms', Date.now() - termAt);
    expect(await second.exited).toEqual({ code: 0, signal: null });
  });
});
