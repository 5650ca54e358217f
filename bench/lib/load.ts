// Load generation shared by the benchmarks: services run from source in child processes, an HTTP/1.1
// keep-alive client that keeps N requests in flight, the raw kafkajs produce baseline, and the
// transactions they all send.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Agent, request } from 'node:http';
import { CompressionTypes, type Kafka, type Message, type Producer } from 'kafkajs';
import { sleep } from './report.js';

// ---- transactions -----------------------------------------------------------------------------------

export interface BenchTransaction {
  readonly from: string;
  readonly to: string;
  readonly amount: number;
}

const ACCOUNTS = 10_000;
let sequence = 0;

/** A minimal transaction as a client posts it (ingest adds id and timestamp). */
export function clientTransaction(): BenchTransaction {
  sequence += 1;
  return { from: `account-${sequence % ACCOUNTS}`, to: `account-${(sequence * 7 + 1) % ACCOUNTS}`, amount: 1 + (sequence % 1000) };
}

/** The Kafka message ingest produces for a client transaction: key = sender, value = the completed JSON. */
export function ingestMessage(transaction: BenchTransaction = clientTransaction()): Message {
  const completed = { id: randomUUID(), ...transaction, timestamp: Date.now() };
  return { key: transaction.from, value: JSON.stringify(completed) };
}

// ---- services in child processes ---------------------------------------------------------------------

export interface ChildService {
  readonly process: ChildProcess;
  readonly name: string;
  stop(): Promise<void>;
}

/** Starts `node --conditions=@chainlog/source --import tsx <entry>` with the environment; stdout discarded. */
function serviceLog(name: string): 'ignore' | number {
  const dir = process.env.BENCH_SERVICE_LOGS;
  if (dir === undefined || dir === '') return 'ignore';
  mkdirSync(dir, { recursive: true });
  return openSync(join(dir, `${name}-${Date.now()}.log`), 'w');
}

export function startService(
  name: string,
  entry: string,
  env: Record<string, string>,
  extraNodeArgs: readonly string[] = [],
  /** Another checkout to run the service from (its entry is relative to it); this one by default. */
  cwd?: string,
): ChildService {
  const child = spawn(process.execPath, [...extraNodeArgs, '--conditions=@chainlog/source', '--import', 'tsx', entry], {
    env: { ...process.env, ...env },
    ...(cwd === undefined ? {} : { cwd }),
    // BENCH_SERVICE_LOGS=<dir> keeps each service's JSON log in <dir>/<name>.log (for diagnosing a run).
    stdio: ['ignore', serviceLog(name), 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  child.once('exit', (code, signal) => {
    if (code !== 0 && code !== null && signal === null) console.error(`${name} exited with code ${code}: ${stderr}`);
  });
  return {
    process: child,
    name,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Polls the URL until it answers 200. */
export async function waitForHttp(url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const response = await fetch(url);
      if (response.status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer 200 within ${timeoutMs} ms`);
    await sleep(200);
  }
}

// ---- HTTP load ---------------------------------------------------------------------------------------

export interface LoadResult {
  readonly requests: number;
  readonly transactions: number;
  readonly errors: number;
  readonly seconds: number;
  /** Milliseconds, one per successful request. */
  readonly latencies: number[];
  /** The first error body or message seen, for the report. */
  readonly firstError?: string;
}

interface PostResult {
  readonly status: number;
  readonly body: string;
}

function post(agent: Agent, url: URL, body: string): Promise<PostResult> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Keeps `concurrency` POST requests in flight for `seconds` (each client waits for its answer before the
 * next request), over keep-alive connections. `makeBody` returns the body and how many transactions it holds.
 */
export async function httpLoad(options: {
  url: string;
  concurrency: number;
  seconds: number;
  /** The body, how many transactions it holds, and a tag handed back to onAccepted. */
  makeBody: () => { body: string; transactions: number; tag?: number };
  onAccepted?: (tag: number | undefined, sentAt: number, answeredAt: number) => void;
  /** Requests per second over all clients (open-loop pacing); unlimited when undefined. */
  ratePerSecond?: number;
}): Promise<LoadResult> {
  const url = new URL(options.url);
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency });
  const latencies: number[] = [];
  let requests = 0;
  let transactions = 0;
  let errors = 0;
  let firstError: string | undefined;
  const started = performance.now();
  const deadline = started + options.seconds * 1000;
  const interval = options.ratePerSecond === undefined ? 0 : 1000 / options.ratePerSecond;
  let nextSlot = started;
  const client = async (): Promise<void> => {
    while (performance.now() < deadline) {
      if (interval > 0) {
        const slot = nextSlot;
        nextSlot += interval;
        const wait = slot - performance.now();
        if (wait > 0) await sleep(wait);
        if (performance.now() >= deadline) break;
      }
      const { body, transactions: count, tag } = options.makeBody();
      const sentAt = performance.now();
      try {
        const response = await post(agent, url, body);
        const answeredAt = performance.now();
        if (response.status === 202) {
          requests += 1;
          transactions += count;
          latencies.push(answeredAt - sentAt);
          options.onAccepted?.(tag, sentAt, answeredAt);
        } else {
          errors += 1;
          firstError ??= `${response.status} ${response.body.slice(0, 200)}`;
        }
      } catch (error) {
        errors += 1;
        firstError ??= (error as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, client));
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  return { requests, transactions, errors, seconds, latencies, ...(firstError === undefined ? {} : { firstError }) };
}

/** A body of `size` minimal transactions: one object when size is 1, else an array. */
export function transactionsBody(size: number): () => { body: string; transactions: number } {
  return () => {
    const items = Array.from({ length: size }, clientTransaction);
    return { body: JSON.stringify(size === 1 ? items[0] : items), transactions: size };
  };
}

// ---- raw Kafka produce ---------------------------------------------------------------------------------

/** An idempotent producer configured like ingest's (acks from all in-sync replicas, one request in flight). */
export async function rawProducer(kafka: Kafka): Promise<Producer> {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  await producer.connect();
  return producer;
}

/** `concurrency` loops each sending `batchSize` ingest-shaped messages per send(), acks=-1, for `seconds`. */
export async function rawProduceLoad(options: {
  producer: Producer;
  topic: string;
  batchSize: number;
  concurrency: number;
  seconds: number;
}): Promise<LoadResult> {
  const latencies: number[] = [];
  let requests = 0;
  let transactions = 0;
  const started = performance.now();
  const deadline = started + options.seconds * 1000;
  const loop = async (): Promise<void> => {
    while (performance.now() < deadline) {
      const messages = Array.from({ length: options.batchSize }, () => ingestMessage());
      const sentAt = performance.now();
      await options.producer.send({ topic: options.topic, acks: -1, compression: CompressionTypes.None, messages });
      latencies.push(performance.now() - sentAt);
      requests += 1;
      transactions += messages.length;
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, loop));
  return { requests, transactions, errors: 0, seconds: (performance.now() - started) / 1000, latencies };
}
