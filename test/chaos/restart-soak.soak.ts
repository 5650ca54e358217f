// Kill-and-restart soak on a long chain (issue #21's last test): a chain of SOAK_TRANSACTIONS (default 10 million)
// transactions is generated and published straight to the topics (bench/lib/chain.ts, with a replay window and the
// checkpoint a miner would have written at its tip), then ingest, two miners (one a stand-by) and the auditor (its
// index on disk, DATA_DIR) start on it, live traffic goes through ingest, and mid-soak a miner and then the auditor
// are SIGKILLed and restarted. Every acknowledged live transaction must end up in exactly one block of the canonical
// chain (0 lost, 0 duplicated), and the auditor and the miners must agree on the head.
//   npm run test:soak-restart                                   # 10M: generation alone takes ~30 min on 2 busy cores
//   SOAK_TRANSACTIONS=1000000 SOAK_LIVE=3000 SOAK_SECONDS=120 npm run test:soak-restart
// The live blocks are read from the auditor's API (canonical blocks by index above the generated tip), not by
// replaying the generated chain in the test: that part is covered by the services' own checks.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EnvReader, readConsensusConfig } from '@chainlog/core/config';
import type { Block } from '@chainlog/core/protocol';
import { benchBroker, benchKafka, createTopics, type BenchBroker } from '../../bench/lib/broker.js';
import { buildAndPublish, publishGeneratedCheckpoint } from '../../bench/lib/chain.js';
import { generateLoad, ledgerFigures, minerStatuses, Outcomes, prng, sleep, Stack } from '../support/chaos.js';
import { CLIENT_SIGNER } from '../support/deploy.js';
import { getJson } from '../support/processes.js';

const TOTAL = Number(process.env.SOAK_TRANSACTIONS ?? 10_000_000);
const LIVE = Number(process.env.SOAK_LIVE ?? 3000);
const SECONDS = Number(process.env.SOAK_SECONDS ?? 180);
const WINDOW_MS = 60_000;
const PER_BLOCK = 2000;
const SEED = Number(process.env.CHAOS_SEED ?? 21);
// Exactly what the services read (the generated checkpoint binds the consensus parameters by hash): open, no work.
const CONSENSUS = { DIFFICULTY: '0', BLOCK_REWARD: '50', REPLAY_WINDOW_MS: String(WINDOW_MS) };
// The heap caps a deployment gives miners and the auditor when a replay window is set (chart `miner/auditor.nodeOptions`,
// the operator's heapCapEnv): without it V8 sizes the heap from this 24 GB host and a 10M back-fill grew to gigabytes,
// which is not what a pod runs. SOAK_NODE_OPTIONS='' runs uncapped.
const HEAP_CAP = { NODE_OPTIONS: process.env.SOAK_NODE_OPTIONS ?? '--max-old-space-size=128 --max-semi-space-size=2' };

const figures: string[] = [];
const note = (line: string): void => {
  figures.push(line);
  console.info(`[soak-restart] ${line}`);
};
const seconds = (since: number): string => `${((Date.now() - since) / 1000).toFixed(1)} s`;

describe(`kill-and-restart soak on a chain of ${TOTAL} transactions`, () => {
  let broker: BenchBroker;
  let stack: Stack;
  let dataDir: string;
  let generatedTip = 0;

  beforeAll(async () => {
    broker = await benchBroker(undefined, 2048);
    dataDir = mkdtempSync(join(tmpdir(), 'chainlog-soak-auditor-'));
    const checkpoints = `soak-checkpoints-${Date.now()}`;
    stack = new Stack({
      brokers: broker.brokers,
      prefix: 'soak-restart',
      partitions: 1,
      miners: 2,
      difficulty: 0,
      env: { REPLAY_WINDOW_MS: CONSENSUS.REPLAY_WINDOW_MS, TOPIC_CHECKPOINTS: checkpoints },
      minerEnv: HEAP_CAP,
      auditorEnv: { DATA_DIR: dataDir, ...HEAP_CAP },
    });
    const kafka = benchKafka(broker.brokers);
    await createTopics(kafka, [
      { topic: stack.topics.TOPIC_BLOCKCHAIN, partitions: 1 },
      { topic: stack.topics.TOPIC_TRANSACTIONS, partitions: 1 },
    ]);
    const began = Date.now();
    let reported = 0;
    const built = await buildAndPublish(
      kafka,
      { topic: stack.topics.TOPIC_BLOCKCHAIN, transactionsTopic: stack.topics.TOPIC_TRANSACTIONS, total: TOTAL, perBlock: PER_BLOCK, accounts: 10_000, blockReward: 50, windowMs: WINDOW_MS },
      (done) => {
        if (done - reported >= 1_000_000) {
          reported = done;
          console.info(`[soak-restart] generated ${done} transactions`);
        }
      },
    );
    generatedTip = built.blocks - 1;
    await publishGeneratedCheckpoint(kafka, checkpoints, stack.topics.TOPIC_BLOCKCHAIN, built, readConsensusConfig(new EnvReader(CONSENSUS)));
    note(`services run with NODE_OPTIONS='${HEAP_CAP.NODE_OPTIONS}'`);
    note(`generated ${TOTAL} transactions in ${built.blocks} blocks (${(built.bytes / 2 ** 20).toFixed(1)} MiB) and the checkpoint at the tip in ${seconds(began)}`);
    const starting = Date.now();
    await stack.start();
    note(`ingest, 2 miners and the auditor (DATA_DIR on disk) ready on it in ${seconds(starting)}`);
  }, 4 * 3_600_000);

  afterAll(async () => {
    await stack?.dispose();
    await broker?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    console.info(`[soak-restart] figures:\n  ${figures.join('\n  ')}`);
  });

  it('commits every acknowledged live transaction exactly once through a miner SIGKILL and an auditor SIGKILL', async () => {
    const outcomes = new Outcomes();
    const began = Date.now();
    const load = generateLoad({
      ingestUrl: stack.ingestUrl,
      outcomes,
      count: LIVE,
      durationMs: SECONDS * 1000,
      concurrency: 4,
      ratePerSecond: Math.max(1, LIVE / 1.3 / SECONDS),
      idPrefix: `soak-restart-${SEED}`,
      random: prng(SEED),
      invalidShare: 0,
      // Signed so that they carry timestamps: client-chosen ids need one within the replay window.
      signer: CLIENT_SIGNER,
    });
    const faults = (async () => {
      await sleep((SECONDS * 1000) / 3);
      // The miner that owns the partition (the other is the stand-by): killing it moves the work.
      const statuses = await minerStatuses(stack);
      const active = Math.max(0, statuses.findIndex((status) => ((status as { ownedPartitions?: unknown[] } | undefined)?.ownedPartitions?.length ?? 0) > 0));
      const miner = stack.miners[active]!;
      await miner.kill('SIGKILL');
      await sleep(2000);
      const restarted = Date.now();
      miner.start();
      await miner.ready(3_600_000);
      note(`miner-${active} SIGKILLed at +${seconds(began)}, restarted: ready in ${seconds(restarted)}`);
      await sleep((SECONDS * 1000) / 3);
      const auditorRestarted = Date.now();
      await stack.auditor.restart('SIGKILL');
      await stack.auditor.ready(3_600_000);
      note(`auditor SIGKILLed at +${seconds(began)}, restarted on its volume: ready in ${seconds(auditorRestarted)}`);
    })();
    const sent = await load;
    await faults;
    const acked = outcomes.ids('acked');
    // Every acknowledged id committed, as the auditor reports it (never `unknown` once committed).
    const deadline = Date.now() + 900_000;
    let waiting = acked;
    // `dropped` is terminal (a block skipped the record, e.g. out-of-window): no use waiting for it.
    const dropped = new Map<string, number>();
    while (waiting.length > 0 && Date.now() < deadline) {
      const next: string[] = [];
      for (const id of waiting) {
        // A busy or restarting auditor (the supervisor restarts one that exits; counted below) is asked again later.
        const body = await getJson<{ status: string; reason?: string }>(`${stack.auditorUrl}/v1/transactions/${encodeURIComponent(id)}`).then(
          (answer) => answer.body,
          () => undefined,
        );
        if (body?.status === 'dropped') dropped.set(body.reason ?? '?', (dropped.get(body.reason ?? '?') ?? 0) + 1);
        else if (body?.status !== 'committed') next.push(id);
      }
      waiting = next;
      if (waiting.length > 0) await sleep(2000);
    }
    if (dropped.size > 0) note(`acknowledged but dropped by a block (reason: count): ${JSON.stringify(Object.fromEntries(dropped))}`);
    await sleep(2000);
    // The canonical live blocks, above the generated tip, as the auditor serves them.
    const head = (await getJson<{ height: number; hash: string }>(`${stack.auditorUrl}/v1/chain/head`)).body;
    const blocks: Block[] = [];
    for (let index = generatedTip + 1; index <= head.height; index++) {
      const { status, body } = await getJson<{ block: Block }>(`${stack.auditorUrl}/v1/blocks/${index}`);
      if (status === 200) blocks.push(body.block);
    }
    const ledger = ledgerFigures(blocks, outcomes);
    note(blockShape(blocks));
    let tips: (string | undefined)[] = [];
    for (let attempt = 0; attempt < 120; attempt++) {
      tips = (await minerStatuses(stack)).map((status) => status?.chain.tip);
      if (tips.every((tip) => tip === head.hash)) break;
      await sleep(1000);
    }
    note(`unplanned exits (restarted by the supervisor): ${JSON.stringify(stack.unexpectedExits())}${stack.processes.flatMap((p) => p.crashes()).map((crash) => `; ${crash}`).join('')}`);
    note(`live: sent ${sent}, acknowledged ${acked.length}, committed ${ledger.committed}, lost ${ledger.lost}, duplicated ${ledger.duplicated} in ${blocks.length} live blocks; head ${head.height}; miners on the auditor's head: ${tips.filter((tip) => tip === head.hash).length}/${tips.length}`);
    expect(acked.length).toBeGreaterThan(LIVE / 2);
    expect(waiting).toEqual([]);
    expect(Object.fromEntries(dropped)).toEqual({});
    expect(ledger.lostIds).toEqual([]);
    expect(ledger.duplicatedIds).toEqual([]);
    expect(tips).toEqual(stack.miners.map(() => head.hash));
  });
});

/** Block sizes and the gaps between block timestamps (a miner's cycle, plus waiting for the cut) of the live blocks. */
function blockShape(blocks: readonly Block[]): string {
  if (blocks.length === 0) return 'no live blocks';
  const sizes = blocks.map((block) => block.transactions.length - 1).sort((a, b) => a - b);
  const gaps = blocks
    .slice(1)
    .map((block, i) => block.timestamp - blocks[i]!.timestamp)
    .sort((a, b) => a - b);
  const at = (values: number[], q: number): number => values[Math.min(values.length - 1, Math.floor(q * values.length))] ?? 0;
  const mean = (values: number[]): number => values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
  return (
    `live blocks: transactions per block (coinbase aside) mean ${mean(sizes).toFixed(1)}, p50 ${at(sizes, 0.5)}, p99 ${at(sizes, 0.99)}, max ${at(sizes, 1)}; ` +
    `gap between block timestamps mean ${(mean(gaps) / 1000).toFixed(2)} s, p50 ${(at(gaps, 0.5) / 1000).toFixed(2)} s, p99 ${(at(gaps, 0.99) / 1000).toFixed(2)} s`
  );
}
