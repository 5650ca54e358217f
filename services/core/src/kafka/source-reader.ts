// Reads the transactions topic for a chain reader, so that every block's source ranges can be checked
// against the records they claim (the protocol's source coverage, docs/protocol.md §3.7). Each partition is
// read in offset order from the start, like the chain's ranges tile it, and its records are kept from the
// chain's consumed offset on: a block's ranges always start there. A partition is paused when it runs far
// ahead of the chain, unless a block is waiting for its records. A partition the owner marks on demand (a
// miner's own partitions: readOnDemand) is not read ahead at all: only while a block waits for its records;
// what the chain consumed without them (the miner's own blocks) is skipped, never fetched. The consumer itself
// (on a worker thread for a service's client) is the feed's (source-feed.ts); records arrive and are kept
// packed (record-chunk.ts).
import type { Admin, Kafka } from 'kafkajs';
import type { Logger } from '../logging/logger.js';
import type { RecordVisitor, SourceLog, SourceRecord } from '../protocol/index.js';
import { asBufferData, chunkIndexOf, chunkRecord, chunkSize, scanChunks, sliceChunk, type RecordChunk } from './record-chunk.js';
import { createSourceFeed, type SourceFeed, type SourceThread } from './source-feed.js';

export interface SourceReaderOptions {
  kafka: Kafka;
  topic: string;
  logger: Logger;
  groupIdPrefix?: string;
  /** Records kept per partition beyond what the chain consumed before the partition is paused. */
  maxBuffered?: number;
  /** How soon partitions added to the topic are read (the consumer's metadata age); PARTITION_DISCOVERY_MS. */
  metadataMaxAgeMs?: number;
  /**
   * Where to start reading each partition (default 0): after the offsets a chain restored from a checkpoint
   * has consumed, since its next blocks' ranges start there.
   */
  startOffsets?: ReadonlyMap<number, number>;
  /** Which thread consumes the topic (source-feed.ts); 'auto' unless a test forces one. */
  thread?: SourceThread;
  /** The reader died for good (source-feed.ts' onFailure): blocks waiting for its records cannot be decided. */
  onFailure?: (error: Error) => void;
}

/**
 * How soon a reader of the transactions topic reads a partition added while it runs. kafkajs' default (5 min)
 * left every block of a new partition undecided that long: the auditors stopped being ready (the Service had no
 * endpoint) and the miners waited, after every scale-up. A metadata request every few seconds is cheap.
 */
export const PARTITION_DISCOVERY_MS = 5000;

interface PartitionBuffer {
  /** Packed batches holding the records not yet consumed by the chain, ascending. */
  chunks: RecordChunk[];
  /** Index of the first live record in `chunks[0]` (a consumed prefix is dropped lazily). */
  head: number;
  /** Records in `chunks` from `head` on. */
  live: number;
  readThrough: number;
  /** The partition's end as last seen (high watermark); undefined until known. */
  end: number | undefined;
  /** The highest offset a waiting block needs: the partition is never paused below it. */
  demand: number;
}

interface Waiter {
  readonly partition: number;
  readonly offset: number;
  readonly resolve: () => void;
}

const DEFAULT_MAX_BUFFERED = 50_000;
const TOPIC_POLL_MS = 500;
const START_RETRY_MS = 1000;

export class SourceReader implements SourceLog {
  readonly topic: string;
  readonly #options: SourceReaderOptions;
  readonly #partitions = new Map<number, PartitionBuffer>();
  readonly #paused = new Set<number>();
  /** Partitions read only while a block waits for their records (readOnDemand). */
  #onDemand = new Set<number>();
  #waiters: Waiter[] = [];
  #reader: SourceFeed | undefined;
  #admin: Admin | undefined;
  #stopped = false;
  #started: Promise<void> | undefined;

  constructor(options: SourceReaderOptions) {
    this.#options = options;
    this.topic = options.topic;
    for (const [partition, offset] of options.startOffsets ?? []) this.#state(partition).readThrough = offset - 1;
  }

  /**
   * Starts reading in the background once the topic exists (a chain without sources never needs it).
   * Starting is retried until it succeeds or the reader stops: without this reader no block with sources
   * can be decided, so giving up is never right (a topic just created may not have its leader yet).
   */
  async start(): Promise<void> {
    this.#started = this.#startWithRetries();
  }

  async #startWithRetries(): Promise<void> {
    while (!this.#stopped) {
      try {
        await this.#waitForTopic();
        await this.#startConsumer();
        return;
      } catch (error) {
        this.#options.logger.warn({ err: error }, 'transactions source reader could not start, retrying');
        await this.#reader?.stop().catch(() => undefined);
        this.#reader = undefined;
        await new Promise((resolve) => setTimeout(resolve, START_RETRY_MS));
      }
    }
  }

  async #waitForTopic(): Promise<void> {
    const admin = await this.#connectedAdmin();
    while (!this.#stopped && !(await admin.listTopics()).includes(this.topic)) {
      await new Promise((resolve) => setTimeout(resolve, TOPIC_POLL_MS));
    }
  }

  async #connectedAdmin(): Promise<Admin> {
    if (this.#admin === undefined) {
      const admin = this.#options.kafka.admin();
      await admin.connect();
      this.#admin = admin;
    }
    return this.#admin;
  }

  async #startConsumer(): Promise<void> {
    if (this.#stopped) return;
    const { kafka, topic, logger } = this.#options;
    await this.refreshEnds();
    const feed = createSourceFeed(
      {
        kafka,
        topic,
        logger,
        groupIdPrefix: this.#options.groupIdPrefix ?? 'chainlog-sources',
        // A block waits for these records: fetch them as soon as they exist.
        maxWaitTimeInMs: 100,
        metadataMaxAgeMs: this.#options.metadataMaxAgeMs ?? PARTITION_DISCOVERY_MS,
        // After what a chain restored from a checkpoint consumed (its next ranges start there) or skipped, on every join.
        startOffsets: this.#positions(),
        ...(this.#options.thread === undefined ? {} : { thread: this.#options.thread }),
      },
      {
        onEnd: (partition, highWatermark) => {
          const state = this.#state(partition);
          state.end = Math.max(state.end ?? 0, highWatermark);
        },
        onChunk: (partition, chunk) => this.#onChunk(partition, chunk),
        onFailure: (error) => this.#options.onFailure?.(error),
      },
    );
    this.#reader = feed;
    // Decided before the feed existed (readOnDemand): the feed applies them once its consumer runs.
    for (const partition of this.#paused) feed.pause(partition);
    await feed.start();
  }

  /** Where the feed starts each partition: past what was read or skipped (startOffsets included). */
  #positions(): Map<number, number> {
    const positions = new Map<number, number>();
    for (const [partition, { readThrough }] of this.#partitions) if (readThrough >= 0) positions.set(partition, readThrough + 1);
    return positions;
  }

  /**
   * The partitions read only while a block waits for their records, replacing the previous set: a miner's own
   * partitions, whose blocks it checked itself before publishing (ChainFollower.expectOwnBlock). A block that
   * claims records of such a partition and was not checked here (another writer's, or this miner's own one
   * after the chain moved) waits for them like any other: the check is the same, only the fetching is later.
   */
  readOnDemand(partitions: Iterable<number>): void {
    const previous = this.#onDemand;
    this.#onDemand = new Set(partitions);
    for (const partition of previous) if (!this.#onDemand.has(partition)) this.#resumeIfNeeded(partition);
    for (const partition of this.#onDemand) this.#pauseIfFarAhead(partition);
  }

  #onChunk(partition: number, received: RecordChunk): void {
    const state = this.#state(partition);
    // Records the reader skipped meanwhile (discardThrough) may still be on their way from the feed.
    const chunk = asBufferData(sliceChunk(received, chunkIndexOf(received, state.readThrough + 1)));
    const size = chunkSize(chunk);
    if (size === 0) return;
    state.chunks.push(chunk);
    state.live += size;
    state.readThrough = chunk.offsets[size - 1] as number;
    if (this.#waiters.length > 0) this.#notify(partition);
    if (!this.#paused.has(partition)) this.#pauseIfFarAhead(partition);
  }

  records(partition: number, firstOffset: number, lastOffset: number): readonly SourceRecord[] {
    const state = this.#partitions.get(partition);
    if (state === undefined) return [];
    const result: SourceRecord[] = [];
    for (const [c, chunk] of state.chunks.entries()) {
      const size = chunkSize(chunk);
      if ((chunk.offsets[size - 1] as number) < firstOffset) continue;
      for (let i = chunkIndexOf(chunk, firstOffset, c === 0 ? state.head : 0); i < size; i++) {
        if ((chunk.offsets[i] as number) > lastOffset) return result;
        result.push(chunkRecord(chunk, i));
      }
    }
    return result;
  }

  /** The records of `records`, straight from the packed chunks: no object or Buffer per record (a replay's walk). */
  scan(partition: number, firstOffset: number, lastOffset: number, visit: RecordVisitor): void {
    const state = this.#partitions.get(partition);
    if (state !== undefined) scanChunks(state.chunks, state.head, firstOffset, lastOffset, visit);
  }

  readThrough(partition: number): number {
    return this.#partitions.get(partition)?.readThrough ?? -1;
  }

  /** True when this reader has read every record the partition had when its end was last seen. */
  atEnd(partition: number): boolean {
    const state = this.#partitions.get(partition);
    return state?.end !== undefined && state.readThrough + 1 >= state.end;
  }

  /** Asks the broker for every partition's end (a reader waiting on a quiet partition learns it is at the end). */
  async refreshEnds(): Promise<void> {
    // A stopped reader's admin client is gone: connecting another here would outlive it.
    if (this.#stopped) return;
    try {
      const admin = await this.#connectedAdmin();
      for (const { partition, high } of await admin.fetchTopicOffsets(this.topic)) {
        const state = this.#state(partition);
        state.end = Math.max(state.end ?? 0, Number(high));
      }
    } catch (error) {
      // The topic may not exist yet: a chain without blocks that claim it needs nothing from it.
      this.#options.logger.debug({ err: error }, 'could not read the transactions topic offsets');
    }
  }

  /**
   * The chain consumed the partition through `offset`: its records are no longer needed. When the reader has
   * not read that far (the chain took them from a block it did not need them for: a miner's own), it skips
   * them: the feed continues after `offset` instead of fetching what no block can claim again (a block's
   * ranges start right after what the chain consumed, §3.7).
   */
  discardThrough(partition: number, offset: number): void {
    const state = this.#partitions.get(partition);
    if (state === undefined) return;
    if (state.readThrough < offset) {
      state.readThrough = offset;
      this.#reader?.skipTo(partition, offset + 1);
    }
    for (let chunk = state.chunks[0]; chunk !== undefined; chunk = state.chunks[0]) {
      const size = chunkSize(chunk);
      const kept = chunkIndexOf(chunk, offset + 1, state.head);
      state.live -= kept - state.head;
      if (kept < size) {
        state.head = kept;
        break;
      }
      state.chunks.shift();
      state.head = 0;
    }
    this.#resumeIfNeeded(partition);
  }

  /**
   * Resolves when the partition has been read through `offset`, when it has been read to its end (so
   * the caller can decide on what exists: a contradiction there is final), or after `timeoutMs`.
   */
  waitFor(partition: number, offset: number, timeoutMs: number): Promise<void> {
    const state = this.#state(partition);
    state.demand = Math.max(state.demand, offset);
    this.#resumeIfNeeded(partition);
    if (this.#stopped || state.readThrough >= offset) return Promise.resolve();
    return new Promise((resolve) => {
      const waiter: Waiter = {
        partition,
        offset,
        resolve: () => {
          clearTimeout(timer);
          this.#waiters = this.#waiters.filter((candidate) => candidate !== waiter);
          resolve();
        },
      };
      const timer = setTimeout(waiter.resolve, timeoutMs);
      this.#waiters.push(waiter);
    });
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const waiter of [...this.#waiters]) waiter.resolve();
    await this.#started;
    await this.#reader?.stop();
    this.#reader = undefined;
    await this.#admin?.disconnect();
    this.#admin = undefined;
  }

  #state(partition: number): PartitionBuffer {
    let state = this.#partitions.get(partition);
    if (state === undefined) {
      state = { chunks: [], head: 0, live: 0, readThrough: -1, end: undefined, demand: -1 };
      this.#partitions.set(partition, state);
    }
    return state;
  }

  #notify(partition: number): void {
    const state = this.#state(partition);
    const atEnd = this.atEnd(partition);
    for (const waiter of [...this.#waiters]) {
      if (waiter.partition === partition && (state.readThrough >= waiter.offset || atEnd)) waiter.resolve();
    }
  }

  #pauseIfFarAhead(partition: number): void {
    if (this.#paused.has(partition)) return;
    const state = this.#state(partition);
    if (state.readThrough < state.demand) return;
    if (!this.#onDemand.has(partition) && state.live < (this.#options.maxBuffered ?? DEFAULT_MAX_BUFFERED)) return;
    this.#paused.add(partition);
    this.#reader?.pause(partition);
  }

  #resumeIfNeeded(partition: number): void {
    if (!this.#paused.has(partition)) return;
    const state = this.#state(partition);
    if (state.readThrough >= state.demand) {
      if (this.#onDemand.has(partition)) return;
      if (state.live > (this.#options.maxBuffered ?? DEFAULT_MAX_BUFFERED) / 2) return;
    }
    this.#paused.delete(partition);
    this.#reader?.resume(partition);
  }
}
