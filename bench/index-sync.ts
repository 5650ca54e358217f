// The auditor's index on disk (services/auditor/src/store/lmdb-store.ts), written as the auditor writes it (one
// LMDB write transaction per block: the block's bytes and proof data, each transaction's id, two history entries
// per transaction, the accounts touched, the meta record) under each of lmdb-js' sync settings, against `none`
// (no flush at all, the setting before this benchmark) measured in the same run: commit latency p50/p99 and the
// transactions indexed per second. Large blocks (a busy chain) and small ones (a quiet chain: many commits).
// Each setting runs --rounds times, the order rotated every round (the machine is shared: load drifts), and the
// median round is reported.
//   npm run bench:index-sync -- [--transactions 200000] [--blocks 1000,10] [--rounds 3] [--syncs none,overlapping,full,meta-nosync] [--dir /path]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { type IndexSync, LmdbIndexStore } from '../services/auditor/src/store/lmdb-store.js';
import { flags, intFlag, listFlag, printHeader, printTable, quantile, rate, ratio, type Row } from './lib/report.js';

const USAGE = `bench/index-sync.ts: commit cost of the auditor's LMDB index under lmdb-js' sync settings
  --transactions <n>   transactions indexed per run (default 200000)
  --blocks <list>      transactions per block, one run each (default 1000,10)
  --rounds <n>         runs of each setting, order rotated, median reported (default 3)
  --syncs <list>       any of none, overlapping, full, meta-nosync (default all; none is the baseline)
  --dir <path>         where the stores are created (default the OS temp dir: use the volume you care about)`;

const options = flags(USAGE, { transactions: { type: 'string' }, blocks: { type: 'string' }, rounds: { type: 'string' }, syncs: { type: 'string' }, dir: { type: 'string' } });
const rounds = intFlag(options.rounds, 3);
const transactions = intFlag(options.transactions, 200_000);
const blockSizes = listFlag(options.blocks, [1000, 10]);
const syncs = (typeof options.syncs === 'string' ? options.syncs : 'none,overlapping,full,meta-nosync').split(',') as IndexSync[];
const parent = typeof options.dir === 'string' ? options.dir : tmpdir();
/** Bytes of a committed transaction on the wire (an id, accounts, an amount, a timestamp, a signature). */
const TX_BYTES = 250;
const ACCOUNTS = 10_000;

interface Run {
  readonly commitsMs: number[];
  readonly seconds: number;
  readonly closeMs: number;
}

async function run(sync: IndexSync, perBlock: number): Promise<Run> {
  const dir = mkdtempSync(join(parent, `chainlog-index-sync-${sync}-`));
  const store = new LmdbIndexStore(dir, sync);
  const blocks = Math.ceil(transactions / perBlock);
  const bytes = Buffer.alloc(perBlock * TX_BYTES, 0x61);
  const proof = Buffer.alloc(Math.ceil(bytes.length * 0.3), 0x62);
  const commitsMs: number[] = [];
  const started = performance.now();
  let seq = 0;
  for (let index = 0; index < blocks; index++) {
    const before = performance.now();
    store.batch(() => {
      store.putBlock({ index, hash: index.toString(16).padStart(64, '0'), offset: index, timestamp: index, transactionCount: perBlock, firstSeq: seq }, bytes);
      store.putProofData(index, proof);
      for (let position = 0; position < perBlock; position++, seq++) {
        store.putTransaction(`tx:transactions:0:${seq}`, seq);
        store.putHistory(`acct-${seq % ACCOUNTS}`, Math.floor(seq / ACCOUNTS) * 2, seq);
        store.putHistory(`acct-${(seq * 7 + 1) % ACCOUNTS}`, Math.floor(seq / ACCOUNTS) * 2 + 1, seq);
        if (position % 20 === 0) store.putAccount(`acct-${seq % ACCOUNTS}`, { balance: BigInt(seq), transactionCount: seq, overdrafts: 0 });
      }
      store.setMeta({ format: 1, identity: 'bench', ranges: [[0, index]], ledgerHeight: index, overdraftTotal: 0 });
    });
    commitsMs.push(performance.now() - before);
  }
  const seconds = (performance.now() - started) / 1000;
  // Closing waits for what is still being flushed (overlapping): counted apart, it is not on the commit path.
  const closing = performance.now();
  await store.close();
  const closeMs = performance.now() - closing;
  rmSync(dir, { recursive: true, force: true });
  return { commitsMs, seconds, closeMs };
}

printHeader("the auditor's index on disk: commit cost of lmdb-js' sync settings", { transactions, blockSizes, rounds, syncs, dir: parent, txBytes: TX_BYTES });
for (const perBlock of blockSizes) {
  const runs = new Map<IndexSync, (Run & { throughput: number })[]>(syncs.map((sync) => [sync, []]));
  for (let round = 0; round < rounds; round++) {
    for (const [i] of syncs.entries()) {
      const sync = syncs[(i + round) % syncs.length] as IndexSync;
      const measured = await run(sync, perBlock);
      runs.get(sync)?.push({ ...measured, throughput: transactions / measured.seconds });
    }
  }
  const medianRun = (sync: IndexSync): Run & { throughput: number } => {
    const sorted = [...(runs.get(sync) ?? [])].sort((a, b) => a.throughput - b.throughput);
    return sorted[Math.floor(sorted.length / 2)] as Run & { throughput: number };
  };
  const baseline = syncs.includes('none') ? medianRun('none').throughput : undefined;
  const rows: Row[] = syncs.map((sync) => {
    const { commitsMs, throughput, closeMs } = medianRun(sync);
    return {
      sync,
      commits: commitsMs.length,
      'commit p50 ms': Number(quantile(commitsMs, 0.5).toFixed(3)),
      'commit p99 ms': Number(quantile(commitsMs, 0.99).toFixed(3)),
      'tx/s (median round)': rate(throughput),
      'vs none': baseline === undefined ? '' : ratio(throughput, baseline),
      'close ms': Math.round(closeMs),
    };
  });
  printTable(`${perBlock} transactions per block`, rows);
}
