// Ingest: accepted transactions per second over HTTP (single-transaction requests and batches) with p50/p99
// latency, at several concurrency levels, against the raw Kafka produce rate of the same broker for the
// same messages (kafkajs idempotent producer, acks=-1, the same batch sizes and concurrency) and kcat's.
// Ingest runs from source in a child process with its default settings; the load comes from this process
// over HTTP/1.1 keep-alive connections.
//
//   node --conditions=@chainlog/source --import tsx bench/ingest.ts [--seconds 4] [--singles 1,16,64]
//        [--batches 100,1000] [--batch-concurrency 1,4] [--partitions 2] [--log-level info] [--kcat-messages 200000]
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { INGEST_ROUTES } from '@chainlog/core/api';
import { allocatePort } from '../scripts/lib/ports.js';
import { benchBroker, benchKafka, benchTopic, createTopics } from './lib/broker.js';
import { httpLoad, ingestMessage, rawProduceLoad, rawProducer, startService, transactionsBody, waitForHttp, type LoadResult } from './lib/load.js';
import {
  cpuMeter,
  flags,
  intFlag,
  listFlag,
  loadAverage,
  ms,
  printHeader,
  printTable,
  quantile,
  rate,
  ratio,
  verdict,
  type Row,
} from './lib/report.js';

const USAGE = `bench/ingest.ts: ingest HTTP throughput and latency vs raw Kafka produce
  --seconds <n>                each measurement (default 4)
  --singles <list>             concurrency levels of single-transaction requests (default 1,16,64)
  --batches <list>             batch sizes (default 100,1000)
  --batch-concurrency <list>   concurrency levels of batch requests (default 1,4)
  --partitions <n>             partitions of the transactions topic (default 2)
  --log-level <level>          ingest's LOG_LEVEL (default info, as deployed)
  --kcat-messages <n>          messages for the kcat baseline, 0 to skip (default 200000)
  --brokers <host:port>        use this broker instead of starting one`;

const options = flags(USAGE, {
  seconds: { type: 'string' },
  singles: { type: 'string' },
  batches: { type: 'string' },
  'batch-concurrency': { type: 'string' },
  partitions: { type: 'string' },
  'log-level': { type: 'string' },
  'kcat-messages': { type: 'string' },
  brokers: { type: 'string' },
});
const seconds = intFlag(options.seconds, 4);
const singles = listFlag(options.singles, [1, 16, 64]);
const batches = listFlag(options.batches, [100, 1000]);
const batchConcurrency = listFlag(options['batch-concurrency'], [1, 4]);
const partitions = intFlag(options.partitions, 2);
const logLevel = typeof options['log-level'] === 'string' ? options['log-level'] : 'info';
const kcatMessages = intFlag(options['kcat-messages'], 200_000);
const execFileAsync = promisify(execFile);

printHeader('ingest: HTTP POST /v1/transactions vs raw Kafka produce', { seconds, singles, batches, batchConcurrency, partitions, logLevel, kcatMessages });

const broker = await benchBroker(typeof options.brokers === 'string' ? options.brokers : undefined);
const kafka = benchKafka(broker.brokers);
const ingestTopic = benchTopic('ingest');
const rawTopic = benchTopic('raw');
await createTopics(kafka, [
  { topic: ingestTopic, partitions },
  { topic: rawTopic, partitions },
]);
const port = await allocatePort();
const ingest = startService('ingest', 'services/ingest/src/main.ts', {
  KAFKA_BROKERS: broker.brokers,
  TOPIC_TRANSACTIONS: ingestTopic,
  HTTP_PORT: String(port),
  LOG_LEVEL: logLevel,
});
const url = `http://127.0.0.1:${port}${INGEST_ROUTES.transactions}`;
const producer = await rawProducer(kafka);

interface Cell {
  readonly batch: number;
  readonly concurrency: number;
  http?: LoadResult;
  raw?: LoadResult;
  cpu?: Record<string, number | undefined>;
}
const cells: Cell[] = [
  ...singles.map((concurrency) => ({ batch: 1, concurrency })),
  ...batches.flatMap((batch) => batchConcurrency.map((concurrency) => ({ batch, concurrency }))),
];

try {
  await waitForHttp(`http://127.0.0.1:${port}/readyz`);
  // Warm-up: connections, JIT, the producer's first metadata.
  await httpLoad({ url, concurrency: 4, seconds: 2, makeBody: transactionsBody(10) });
  await rawProduceLoad({ producer, topic: rawTopic, batchSize: 10, concurrency: 4, seconds: 1 });

  for (const cell of cells) {
    const meter = cpuMeter({ ingest: ingest.process.pid, broker: broker.pid });
    cell.http = await httpLoad({ url, concurrency: cell.concurrency, seconds, makeBody: transactionsBody(cell.batch) });
    cell.cpu = meter();
    cell.raw = await rawProduceLoad({ producer, topic: rawTopic, batchSize: cell.batch, concurrency: cell.concurrency, seconds });
    const httpRate = cell.http.transactions / cell.http.seconds;
    const rawRate = cell.raw.transactions / cell.raw.seconds;
    console.log(
      `batch ${cell.batch} × ${cell.concurrency} in flight: http ${rate(httpRate)} tx/s (${cell.http.errors} errors${cell.http.firstError ? `: ${cell.http.firstError}` : ''}), raw ${rate(rawRate)} tx/s, load ${loadAverage()}`,
    );
  }

  let kcatRate: number | undefined;
  if (kcatMessages > 0) kcatRate = await kcat(kcatMessages);

  const rows: Row[] = cells.map((cell) => {
    const http = cell.http as LoadResult;
    const raw = cell.raw as LoadResult;
    const httpRate = http.transactions / http.seconds;
    const rawRate = raw.transactions / raw.seconds;
    return {
      'tx/request': cell.batch,
      'in flight': cell.concurrency,
      'ingest tx/s': rate(httpRate),
      'p50 ms': ms(quantile(http.latencies, 0.5)),
      'p99 ms': ms(quantile(http.latencies, 0.99)),
      errors: http.errors,
      'ingest CPU (cores)': cell.cpu?.ingest,
      'broker CPU': cell.cpu?.broker,
      'raw produce tx/s': rate(rawRate),
      'raw p50 ms': ms(quantile(raw.latencies, 0.5)),
      'raw p99 ms': ms(quantile(raw.latencies, 0.99)),
      'ingest / raw': ratio(httpRate, rawRate),
    };
  });
  printTable(`ingest over HTTP vs raw kafkajs produce (idempotent, acks=-1), ${seconds} s each`, rows);
  if (kcatRate !== undefined) {
    console.log(`kcat -P -X acks=all -X enable.idempotence=true: ${rate(kcatRate)} msg/s (${kcatMessages} messages of the same shape)`);
  }
  console.log(`load average at end: ${loadAverage()}`);

  const batched = cells.filter((cell) => cell.batch > 1);
  if (batched.length > 0) {
    const best = (pick: (cell: Cell) => LoadResult): number =>
      Math.max(...batched.map((cell) => pick(cell).transactions / pick(cell).seconds));
    const bestHttp = best((cell) => cell.http as LoadResult);
    const bestRaw = best((cell) => cell.raw as LoadResult);
    console.log(`best batched ingest ${rate(bestHttp)} tx/s, best raw produce at the same batch sizes ${rate(bestRaw)} tx/s`);
    verdict('batched ingest / raw produce (best vs best)', bestHttp / bestRaw, 0.5, '%');
  }
} finally {
  await producer.disconnect().catch(() => undefined);
  await ingest.stop();
  await broker.stop();
}

/** kcat (librdkafka) producing the same messages from a file; the time includes its start-up. */
async function kcat(count: number): Promise<number | undefined> {
  const dir = mkdtempSync(join(tmpdir(), 'chainlog-bench-kcat-'));
  try {
    const file = join(dir, 'messages.txt');
    const lines: string[] = [];
    for (let i = 0; i < count; i++) {
      const message = ingestMessage();
      lines.push(`${String(message.key)}\t${String(message.value)}`);
    }
    writeFileSync(file, `${lines.join('\n')}\n`);
    const started = performance.now();
    await execFileAsync('kcat', ['-P', '-q', '-b', broker.brokers, '-t', rawTopic, '-K', '\t', '-l', '-X', 'acks=all', '-X', 'enable.idempotence=true', file]);
    return count / ((performance.now() - started) / 1000);
  } catch (error) {
    console.log(`kcat baseline skipped: ${(error as Error).message.split('\n')[0]}`);
    return undefined;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
