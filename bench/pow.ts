// Proof of work: hashes per second of the protocol's searchNonce (main thread), of one miner worker thread
// and of the miner's whole worker pool, against OpenSSL's SHA-256 on the same 40-byte input
// (digest || nonce) on the same machine, measured interleaved in the same run.
//
//   node --conditions=@chainlog/source --import tsx bench/pow.ts [--seconds 3] [--rounds 3] [--workers <cores>]
import { execFile } from 'node:child_process';
import { createHash, hash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { promisify } from 'node:util';
import { createLogger } from '@chainlog/core/logging';
import { searchNonce } from '@chainlog/core/protocol';
import { PowPool } from '../services/miner/src/pow/pow-pool.js';
import { flags, intFlag, loadAverage, median, printHeader, printTable, rate, ratio, sleep, verdict, type Row } from './lib/report.js';

const USAGE = `bench/pow.ts: proof-of-work hash rate vs openssl speed -evp sha256 -bytes 40
  --seconds <n>   length of each measurement (default 3)
  --rounds <n>    interleaved rounds; the median of each is reported (default 3)
  --workers <n>   worker threads for the pool measurement (default: available cores)`;

const INPUT_BYTES = 40;
const UNREACHABLE_DIFFICULTY = 256;
const execFileAsync = promisify(execFile);

const options = flags(USAGE, { seconds: { type: 'string' }, rounds: { type: 'string' }, workers: { type: 'string' } });
const seconds = intFlag(options.seconds, 3);
const rounds = intFlag(options.rounds, 3);
const workers = intFlag(options.workers, availableParallelism());
const digest = createHash('sha256').update('chainlog bench header').digest();

interface Sample {
  /** Hashes per second of wall-clock time. */
  readonly wall: number;
  /** Hashes per second of CPU time (user + system) of this process: per core, whatever else the machine runs. */
  readonly cpu: number;
}

/**
 * \`openssl speed\` on 40-byte inputs. By default it divides by the process's user CPU time (a per-core rate,
 * robust on a shared machine); with \`elapsed\`, by wall-clock time (and -multi sums its processes).
 */
async function openssl(processes: number, elapsed: boolean): Promise<number> {
  const args = ['speed', '-evp', 'sha256', '-bytes', String(INPUT_BYTES), '-seconds', String(Math.max(1, Math.round(seconds))), '-mr'];
  if (elapsed) args.push('-elapsed');
  if (processes > 1) args.push('-multi', String(processes));
  const { stdout } = await execFileAsync('openssl', args, { maxBuffer: 1 << 20 });
  // Machine-readable lines: "+F:<n>:sha256:<bytes per second>"; with -multi the last one is the total.
  const totals = stdout
    .split('\n')
    .filter((line) => line.startsWith('+F:'))
    .map((line) => Number(line.split(':')[3]));
  const bytesPerSecond = totals.at(-1);
  if (bytesPerSecond === undefined || !Number.isFinite(bytesPerSecond)) throw new Error(`cannot parse openssl speed output:\n${stdout}`);
  return bytesPerSecond / INPUT_BYTES;
}

/** Runs \`work\` (which returns the hashes it did) and relates them to wall-clock and CPU time. */
async function timed(work: () => number | Promise<number>): Promise<Sample> {
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const hashes = await work();
  const wallSeconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  return { wall: hashes / wallSeconds, cpu: hashes / ((cpu.user + cpu.system) / 1e6) };
}

/** The protocol's searchNonce on the main thread, in slices of 65536 nonces, for \`seconds\`. */
function searchNonceHashes(): number {
  const slice = 65_536;
  let nonce = 0;
  const deadline = performance.now() + seconds * 1000;
  while (performance.now() < deadline) {
    if (searchNonce(digest, UNREACHABLE_DIFFICULTY, nonce, slice) !== undefined) throw new Error('found a 256-bit zero hash');
    nonce += slice;
  }
  return nonce;
}

/** node:crypto's one-shot hash per nonce (what the miner's worker did before the specialised SHA-256). */
function nodeCryptoHashes(duration = seconds): number {
  const input = Buffer.alloc(INPUT_BYTES);
  input.set(digest);
  let count = 0;
  const deadline = performance.now() + duration * 1000;
  while (performance.now() < deadline) {
    for (let i = 0; i < 10_000; i++, count++) {
      input.writeUInt32BE(count, 36);
      hash('sha256', input, 'buffer');
    }
  }
  return count;
}

interface RunningPool {
  readonly pool: PowPool;
  readonly counter: { hashes: number };
}

/** The miner's PowPool searching an unreachable difficulty, measured after a 0.5 s warm-up. */
async function poolSample({ pool, counter }: RunningPool, duration = seconds): Promise<Sample> {
  const controller = new AbortController();
  const search = pool.search(digest, UNREACHABLE_DIFFICULTY, controller.signal);
  await sleep(500);
  const sample = await timed(async () => {
    const before = counter.hashes;
    await sleep(duration * 1000);
    return counter.hashes - before;
  });
  controller.abort();
  await search;
  return sample;
}

async function startPool(size: number): Promise<RunningPool> {
  const counter = { hashes: 0 };
  const pool = new PowPool({ workers: size, logger: createLogger('bench', 'silent'), onHashes: (n) => (counter.hashes += n) });
  await pool.start();
  return { pool, counter };
}

printHeader('proof of work: SHA-256(digest || uint64be(nonce)), 40-byte input', { seconds, rounds, workers });
const single = await startPool(1);
const all = await startPool(workers);
const samples = {
  opensslCpu: [] as number[],
  opensslMultiWall: [] as number[],
  searchNonce: [] as Sample[],
  worker: [] as Sample[],
  nodeCrypto: [] as Sample[],
  pool: [] as Sample[],
};
// Warm-up: let V8 optimise every path before anything is measured.
await timed(() => searchNonce(digest, UNREACHABLE_DIFFICULTY, 0, 1_000_000) ?? 1_000_000);
await timed(() => nodeCryptoHashes(0.5));
await poolSample(single, 1);
await poolSample(all, 1);
for (let round = 1; round <= rounds; round++) {
  samples.opensslCpu.push(await openssl(1, false));
  samples.searchNonce.push(await timed(searchNonceHashes));
  samples.worker.push(await poolSample(single));
  samples.nodeCrypto.push(await timed(() => nodeCryptoHashes()));
  samples.opensslMultiWall.push(await openssl(workers, true));
  samples.pool.push(await poolSample(all));
  console.log(`round ${round}/${rounds} done, load average ${loadAverage()}`);
}
await single.pool.stop();
await all.pool.stop();

const cpu = (list: Sample[]): number => median(list.map((sample) => sample.cpu));
const wall = (list: Sample[]): number => median(list.map((sample) => sample.wall));
const opensslCpu = median(samples.opensslCpu);
const opensslMultiWall = median(samples.opensslMultiWall);
const rows: Row[] = [
  { what: 'openssl speed -evp sha256 -bytes 40', 'per CPU second': rate(opensslCpu), 'vs openssl (per core)': '100%' },
  ...(
    [
      ['searchNonce, main thread (protocol, TypeScript)', samples.searchNonce],
      ['miner PowPool, 1 worker thread', samples.worker],
      ['node:crypto hash() per nonce, main thread', samples.nodeCrypto],
      [`miner PowPool, ${workers} worker threads`, samples.pool],
    ] as const
  ).map(([what, list]) => ({ what, 'per CPU second': rate(cpu(list)), 'vs openssl (per core)': ratio(cpu(list), opensslCpu), 'wall-clock': rate(wall(list)) })),
  { what: `openssl speed -elapsed -multi ${workers}`, 'wall-clock': rate(opensslMultiWall), 'vs openssl (all cores)': '100%' },
];
rows[4] = { ...rows[4], 'vs openssl (all cores)': ratio(wall(samples.pool), opensslMultiWall) };
printTable(`hashes per second, medians of ${rounds} rounds of ${seconds} s`, rows, [
  'what',
  'per CPU second',
  'vs openssl (per core)',
  'wall-clock',
  'vs openssl (all cores)',
]);
const perRound = (list: Sample[]): string => list.map((sample) => `${rate(sample.cpu)}/${rate(sample.wall)}`).join(' ');
console.log('per-round samples (per CPU second / wall-clock):');
console.log(`  openssl ${samples.opensslCpu.map(rate).join(' ')}; openssl -multi wall ${samples.opensslMultiWall.map(rate).join(' ')}`);
console.log(`  searchNonce ${perRound(samples.searchNonce)}; worker ${perRound(samples.worker)}; pool ${perRound(samples.pool)}; node:crypto ${perRound(samples.nodeCrypto)}`);
console.log(`load average at end: ${loadAverage()}`);
verdict('searchNonce / openssl, per core', cpu(samples.searchNonce) / opensslCpu, 0.5, '%');
verdict('miner worker thread / openssl, per core', cpu(samples.worker) / opensslCpu, 0.5, '%');
