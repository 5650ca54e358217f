// Proof of work in worker threads, so the event loop (consumer heartbeats, the chain follower, /healthz)
// never waits for hashing. Worker k of n searches chunks k, k + n, k + 2n, … of the nonce space; the
// first nonce found wins and the others stop at the end of their current chunk. A search can be aborted
// (a new canonical block makes the candidate stale): the workers see the shared control word change
// between chunks and are free for the next search within one chunk's time.
import { Worker } from 'node:worker_threads';
import type { Logger } from '@chainlog/core/logging';
import { MAX_NONCE, meetsDifficulty, proofOfWorkHash } from '@chainlog/core/protocol';
import { POW_WORKER_SOURCE, type PowJob, type PowReport } from './pow-worker.js';

export type PowResult =
  | { readonly status: 'found'; readonly nonce: number; readonly hashes: number; readonly seconds: number }
  | { readonly status: 'aborted'; readonly hashes: number }
  /** Every nonce up to MAX_NONCE tried: re-assemble the block (a new timestamp gives a new header). */
  | { readonly status: 'exhausted'; readonly hashes: number };

export interface PowPoolOptions {
  workers: number;
  logger: Logger;
  /** Hashes per chunk: the granularity of aborts and progress reports. */
  chunkSize?: number;
  /** Called with every batch of hashes done (for the hashes counter). */
  onHashes?: (hashes: number) => void;
}

interface ActiveSearch {
  job: number;
  digest: Uint8Array;
  difficulty: number;
  hashes: number;
  exhausted: number;
  started: number;
  resolve: (result: PowResult) => void;
  reject: (error: Error) => void;
  cleanup: () => void;
}

export class PowPool {
  readonly #options: PowPoolOptions;
  readonly #control = new Int32Array(new SharedArrayBuffer(4));
  #workers: Worker[] = [];
  #nextJob = 1;
  #active: ActiveSearch | undefined;
  #totalHashes = 0;
  #stopping = false;

  constructor(options: PowPoolOptions) {
    if (!Number.isInteger(options.workers) || options.workers < 1) throw new RangeError('workers must be ≥ 1');
    this.#options = options;
  }

  /** Hashes computed since start. */
  get totalHashes(): number {
    return this.#totalHashes;
  }

  get size(): number {
    return this.#workers.length;
  }

  /** Starts the workers and resolves once each has loaded and is ready. */
  async start(): Promise<void> {
    this.#stopping = false;
    this.#workers = await Promise.all(Array.from({ length: this.#options.workers }, (_, index) => this.#spawn(index)));
  }

  #spawn(index: number): Promise<Worker> {
    const worker = new Worker(POW_WORKER_SOURCE, { eval: true, workerData: { control: this.#control.buffer } });
    return new Promise((resolve, reject) => {
      const onEarlyError = (error: Error): void => reject(error);
      const onEarlyExit = (code: number): void => reject(new Error(`proof-of-work worker ${index} exited with code ${code} while starting`));
      worker.once('error', onEarlyError);
      worker.once('exit', onEarlyExit);
      worker.once('message', (message: PowReport) => {
        worker.off('error', onEarlyError);
        worker.off('exit', onEarlyExit);
        if (message.type !== 'ready') {
          reject(new Error(`proof-of-work worker ${index} sent ${message.type} before ready`));
          return;
        }
        worker.on('message', (report: PowReport) => this.#onReport(report));
        worker.on('error', (error) => this.#onWorkerFailure(index, worker, error));
        worker.on('exit', (code) => this.#onWorkerFailure(index, worker, new Error(`proof-of-work worker ${index} exited with code ${code}`)));
        resolve(worker);
      });
    });
  }

  #onReport(report: PowReport): void {
    if (report.type === 'ready') return;
    this.#totalHashes += report.hashes;
    this.#options.onHashes?.(report.hashes);
    const active = this.#active;
    if (active === undefined || report.job !== active.job) return;
    active.hashes += report.hashes;
    if (report.type === 'found') {
      // The worker restates the protocol's search; the protocol has the last word on what it found.
      if (!meetsDifficulty(proofOfWorkHash(active.digest, report.nonce), active.difficulty)) {
        this.#fail(new Error(`a proof-of-work worker reported nonce ${report.nonce}, which does not meet difficulty ${active.difficulty}`));
        return;
      }
      this.#finish({ status: 'found', nonce: report.nonce, hashes: active.hashes, seconds: (performance.now() - active.started) / 1000 });
    } else if (report.type === 'exhausted' && ++active.exhausted === this.#workers.length) {
      this.#finish({ status: 'exhausted', hashes: active.hashes });
    }
  }

  #onWorkerFailure(index: number, worker: Worker, error: Error): void {
    if (this.#stopping || !this.#workers.includes(worker)) return;
    this.#options.logger.error({ err: error, worker: index }, 'proof-of-work worker failed, restarting it');
    this.#workers = this.#workers.filter((candidate) => candidate !== worker);
    this.#fail(error);
    this.#spawn(index).then(
      (replacement) => {
        if (this.#stopping) void replacement.terminate();
        else this.#workers.push(replacement);
      },
      (spawnError: unknown) => this.#options.logger.error({ err: spawnError, worker: index }, 'proof-of-work worker could not be restarted'),
    );
  }

  #fail(error: Error): void {
    const active = this.#active;
    if (active === undefined) return;
    Atomics.store(this.#control, 0, 0);
    this.#active = undefined;
    active.cleanup();
    active.reject(error);
  }

  #finish(result: PowResult): void {
    const active = this.#active;
    if (active === undefined) return;
    Atomics.store(this.#control, 0, 0);
    this.#active = undefined;
    active.cleanup();
    active.resolve(result);
  }

  /**
   * Searches a nonce whose hash with the digest has `difficulty` leading zero bits. Resolves `aborted` when
   * the signal fires or another search starts. Rejects when a worker dies mid-search.
   */
  search(digest: Uint8Array, difficulty: number, signal?: AbortSignal): Promise<PowResult> {
    if (this.#workers.length === 0) return Promise.reject(new Error('the proof-of-work pool is not running'));
    this.#finish({ status: 'aborted', hashes: this.#active?.hashes ?? 0 });
    if (signal?.aborted === true) return Promise.resolve({ status: 'aborted', hashes: 0 });
    const job = this.#nextJob++;
    const chunk = this.#options.chunkSize ?? 16_384;
    return new Promise<PowResult>((resolve, reject) => {
      const onAbort = (): void => {
        if (this.#active?.job === job) this.#finish({ status: 'aborted', hashes: this.#active.hashes });
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#active = {
        job,
        digest: new Uint8Array(digest),
        difficulty,
        hashes: 0,
        exhausted: 0,
        started: performance.now(),
        resolve,
        reject,
        cleanup: () => signal?.removeEventListener('abort', onAbort),
      };
      Atomics.store(this.#control, 0, job);
      const stride = chunk * this.#workers.length;
      this.#workers.forEach((worker, index) => {
        const message: PowJob = { type: 'job', job, digest: new Uint8Array(digest), difficulty, firstNonce: index * chunk, stride, chunk, maxNonce: MAX_NONCE };
        worker.postMessage(message);
      });
    });
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    this.#finish({ status: 'aborted', hashes: this.#active?.hashes ?? 0 });
    const workers = this.#workers;
    this.#workers = [];
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
}
