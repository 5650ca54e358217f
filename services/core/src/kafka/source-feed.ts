// Where a SourceReader's records come from: a kafkajs consumer of the transactions topic, handing over each
// fetched batch packed (record-chunk.ts). The consumer runs on a worker thread when the process may use two
// cores or more (usable-cores.ts: not under the chart's default CPU limit of one core) and the client was
// made by createKafka (every service's is): fetching and kafkajs' decoding of every record (varints, Long
// offsets, per-record objects) then cost the thread that validates the chain nothing. Source coverage doubled
// what a replay reads; on the worker that reading runs beside validation instead of in its way. It costs
// more CPU in all (a second isolate, a second copy of kafkajs, the packing: docs/benchmarks.md), so with one
// core it would only slow the replay down. Otherwise (and for tests' plain kafkajs clients) the records are
// read on the calling thread, with the same packing. Which thread reads changes nothing a reader decides: the
// records, their order and their bytes are the same.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Kafka } from 'kafkajs';
import type { KafkaSettings } from '../config/common.js';
import type { Logger } from '../logging/logger.js';
import { forgetThreadHeap, recordThreadHeap, type ThreadHeap } from '../metrics/thread-heaps.js';
import { kafkaClientSettings } from './client.js';
import { chunkBytes, packRecords, type RecordChunk } from './record-chunk.js';
import { TopicReader } from './topic-reader.js';
import { usableCores } from './usable-cores.js';

export interface SourceFeedOptions {
  readonly kafka: Kafka;
  readonly topic: string;
  readonly logger: Logger;
  readonly groupIdPrefix: string;
  readonly maxWaitTimeInMs: number;
  readonly metadataMaxAgeMs: number;
  readonly startOffsets?: ReadonlyMap<number, number>;
  /** Which thread consumes: 'auto' (default) as described above; 'worker' or 'calling' force one (tests). */
  readonly thread?: SourceThread;
}

export type SourceThread = 'auto' | 'worker' | 'calling';

export interface SourceFeedHandlers {
  /** The partition's end (high watermark) as of a fetch, before that fetch's records. */
  onEnd(partition: number, highWatermark: number): void;
  /** Records not handed over before, ascending, in offset order per partition. */
  onChunk(partition: number, chunk: RecordChunk): void;
  /**
   * The feed died after it started (kafkajs gave up on its consumer, or the worker thread failed or exited):
   * no more records come, so blocks waiting for them would wait for ever. The reader's owner must fail.
   */
  onFailure(error: Error): void;
}

export interface SourceFeed {
  /** Resolves once the consumer runs; rejects when it could not start (the caller retries). */
  start(): Promise<void>;
  /** Stops fetching the partition; records already fetched are still handed over. */
  pause(partition: number): void;
  resume(partition: number): void;
  /** Moves the partition's read position forward to `offset`: records before it are not read (TopicReader.skipTo). */
  skipTo(partition: number, offset: number): void;
  stop(): Promise<void>;
}

const NAME = 'transactions source reader';

/** A worker thread only where it can run beside the main one (measured: it costs more CPU in all). */
const WORKER_MIN_CORES = 2;

export function createSourceFeed(options: SourceFeedOptions, handlers: SourceFeedHandlers): SourceFeed {
  const thread = options.thread ?? 'auto';
  const worker = thread === 'worker' || (thread === 'auto' && usableCores() >= WORKER_MIN_CORES);
  const client = worker ? kafkaClientSettings(options.kafka) : undefined;
  if (thread === 'worker' && client === undefined) throw new Error('a source reader on a worker thread needs a client made by createKafka');
  return client === undefined ? inThreadFeed(options, handlers) : new WorkerFeed(options, client, handlers);
}

function inThreadFeed(options: SourceFeedOptions, handlers: SourceFeedHandlers): SourceFeed {
  const reader = new TopicReader({
    ...readerOptions(options),
    kafka: options.kafka,
    logger: options.logger,
    onBatch: (partition, highWatermark) => handlers.onEnd(partition, highWatermark),
    onMessages: (partition, messages, first) => handlers.onChunk(partition, packRecords(messages, first)),
    onFailure: (error) => handlers.onFailure(error),
  });
  return {
    start: () => reader.start(),
    pause: (partition) => reader.pause(partition),
    resume: (partition) => reader.resume(partition),
    skipTo: (partition, offset) => reader.skipTo(partition, offset),
    stop: () => reader.stop(),
  };
}

/** The TopicReader settings both threads use. */
export function readerOptions(options: Pick<SourceFeedOptions, 'topic' | 'groupIdPrefix' | 'maxWaitTimeInMs' | 'metadataMaxAgeMs' | 'startOffsets'>) {
  return {
    topic: options.topic,
    name: NAME,
    groupIdPrefix: options.groupIdPrefix,
    maxWaitTimeInMs: options.maxWaitTimeInMs,
    metadataMaxAgeMs: options.metadataMaxAgeMs,
    ...(options.startOffsets === undefined ? {} : { startOffsets: options.startOffsets }),
  };
}

// ---- the worker thread ----------------------------------------------------------------------------------

export interface SourceFeedWorkerData {
  readonly settings: KafkaSettings;
  readonly retries: number;
  readonly logLevel: string;
  readonly topic: string;
  readonly groupIdPrefix: string;
  readonly maxWaitTimeInMs: number;
  readonly metadataMaxAgeMs: number;
  readonly startOffsets: ReadonlyArray<readonly [number, number]>;
}

/** Main thread → worker. */
export type SourceFeedCommand =
  | { readonly kind: 'pause' | 'resume'; readonly partition: number }
  /** The reader's thread took chunks of this many bytes (the worker's InFlightWindow). */
  | { readonly kind: 'taken'; readonly bytes: number }
  | { readonly kind: 'skip'; readonly partition: number; readonly offset: number }
  | { readonly kind: 'stop' };

/**
 * Bytes of chunks a worker may have on their way to the reader's thread before it fetches again: a few of
 * kafkajs' fetches (1 MiB per partition by default), a small fraction of what the reader keeps (maxBuffered).
 */
export const IN_FLIGHT_BUDGET_BYTES = 4 * 2 ** 20;

/** Worker → main thread. */
export type SourceFeedEvent =
  | { readonly kind: 'started' }
  | { readonly kind: 'failed'; readonly message: string }
  | { readonly kind: 'end'; readonly partition: number; readonly highWatermark: number }
  | { readonly kind: 'chunk'; readonly partition: number; readonly chunk: RecordChunk }
  /** A pino line of the worker's logger, re-logged through the reader's own logger. */
  | { readonly kind: 'log'; readonly line: string }
  /** The worker's V8 heap now (not in the reader's thread's figures): the process' worker_threads_* gauges. */
  | { readonly kind: 'heap'; readonly heap: ThreadHeap }
  | { readonly kind: 'stopped' };

/** How long a stopping worker may take to leave its consumer group before it is terminated. */
const STOP_TIMEOUT_MS = 15_000;

class WorkerFeed implements SourceFeed {
  readonly #options: SourceFeedOptions;
  readonly #handlers: SourceFeedHandlers;
  readonly #data: SourceFeedWorkerData;
  #worker: Worker | undefined;
  /** Commands given before the thread exists (a partition paused before the start): sent first. */
  #queued: SourceFeedCommand[] = [];
  #began = false;

  constructor(options: SourceFeedOptions, client: { settings: KafkaSettings; retries: number }, handlers: SourceFeedHandlers) {
    this.#options = options;
    this.#handlers = handlers;
    this.#data = {
      ...client,
      logLevel: options.logger.level,
      topic: options.topic,
      groupIdPrefix: options.groupIdPrefix,
      maxWaitTimeInMs: options.maxWaitTimeInMs,
      metadataMaxAgeMs: options.metadataMaxAgeMs,
      startOffsets: [...(options.startOffsets ?? [])],
    };
  }

  start(): Promise<void> {
    const worker = startWorker(this.#data);
    this.#worker = worker;
    this.#began = true;
    for (const command of this.#queued.splice(0)) worker.postMessage(command);
    return new Promise((resolve, reject) => {
      let started = false;
      worker.on('message', (event: SourceFeedEvent) => {
        switch (event.kind) {
          case 'chunk':
            this.#handlers.onChunk(event.partition, event.chunk);
            this.#send({ kind: 'taken', bytes: chunkBytes(event.chunk) });
            break;
          case 'end':
            this.#handlers.onEnd(event.partition, event.highWatermark);
            break;
          case 'log':
            this.#relog(event.line);
            break;
          case 'heap':
            if (this.#worker === worker) recordThreadHeap(worker, event.heap);
            break;
          case 'started':
            started = true;
            resolve();
            break;
          case 'failed':
            if (!started) reject(this.#dropUnstarted(worker, new Error(event.message)));
            else this.#fail(worker, new Error(event.message));
            break;
          case 'stopped':
            break;
        }
      });
      worker.on('error', (error) => {
        if (!started) return reject(this.#dropUnstarted(worker, error));
        this.#options.logger.error({ err: error }, `${NAME} thread failed`);
        this.#fail(worker, error);
      });
      worker.on('exit', (code) => {
        forgetThreadHeap(worker);
        if (!started) return reject(this.#dropUnstarted(worker, new Error(`${NAME} thread exited with code ${code} before it started`)));
        if (this.#worker !== worker) return; // stopped on purpose
        this.#options.logger.error({ code }, `${NAME} thread exited`);
        this.#fail(worker, new Error(`${NAME} thread exited with code ${code}`));
      });
    });
  }

  pause(partition: number): void {
    this.#send({ kind: 'pause', partition });
  }

  resume(partition: number): void {
    this.#send({ kind: 'resume', partition });
  }

  skipTo(partition: number, offset: number): void {
    this.#send({ kind: 'skip', partition, offset });
  }

  async stop(): Promise<void> {
    const worker = this.#worker;
    this.#worker = undefined;
    if (worker === undefined) return;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage({ kind: 'stop' } satisfies SourceFeedCommand);
    // Leaving the group cleanly spares the others a session timeout; a thread that hangs is not waited for.
    const timer = setTimeout(() => void worker.terminate(), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  }

  /**
   * A thread that failed before it started is dropped too: the caller retries with a new one, and stop() must
   * not wait for the 'exit' of a thread that has exited already (it waited for ever, and so did the retry).
   */
  #dropUnstarted(worker: Worker, error: Error): Error {
    if (this.#worker === worker) this.#worker = undefined;
    void worker.terminate();
    return error;
  }

  /** Once per thread: a failed thread is dropped, so its exit that follows is not reported again. */
  #fail(worker: Worker, error: Error): void {
    if (this.#worker !== worker) return;
    this.#worker = undefined;
    void worker.terminate();
    this.#handlers.onFailure(error);
  }

  #send(command: SourceFeedCommand): void {
    if (this.#worker !== undefined) this.#worker.postMessage(command);
    else if (!this.#began) this.#queued.push(command);
  }

  #relog(line: string): void {
    try {
      const { level, msg, ...fields } = JSON.parse(line) as { level: string; msg?: string } & Record<string, unknown>;
      const log = this.#options.logger[level as 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'fatal'];
      if (typeof log === 'function') log.call(this.#options.logger, fields, msg ?? '');
    } catch {
      this.#options.logger.warn({ line }, `${NAME} thread wrote a log line that is not JSON`);
    }
  }
}

/**
 * The worker's module next to this one: compiled JavaScript in a build. When this module runs from its
 * TypeScript source (tests, `node --import tsx`), the thread first registers tsx itself: a worker thread of
 * Node 20 does not get the module hooks `--import tsx` installed on the main thread.
 */
function startWorker(workerData: SourceFeedWorkerData): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./source-feed-worker.js', import.meta.url), { workerData });
  // tsx's ESM API (its `import` export, index.mjs), found next to what `require` resolves (index.cjs).
  const tsxRequireEntry = createRequire(import.meta.url).resolve('tsx/esm/api');
  const tsx = pathToFileURL(join(dirname(tsxRequireEntry), 'index.mjs')).href;
  const entry = new URL('./source-feed-worker.ts', import.meta.url).href;
  const bootstrap = `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(bootstrap, { eval: true, workerData });
}
