// Appends transactions to the transactions topic and reports each message's partition and offset once
// Kafka acknowledged the write (idempotent producer, acks from all in-sync replicas).
//
// Sends are strictly serial, with group commit: while one produce request is in flight, the requests
// that arrive meanwhile queue up and go out together in the next one. Serial sends keep kafkajs'
// idempotent sequence numbers sound: kafkajs rolls a partition's sequence back when a request fails, so a
// concurrent send could reuse the sequence of a batch the broker did write, and the broker would then
// acknowledge that new batch as a "duplicate" without writing it. For the same reason a producer whose
// send failed is never used again: it is replaced by a new one (a new producer id).
//
// Every append has a deadline (PRODUCE_TIMEOUT_MS). An append still queued at its deadline is dropped
// and never sent; one already sent is answered "unavailable" while kafkajs finishes the send in the
// background. Either way the caller cannot know whether the write happened: it retries with the same ids.
import type { Logger } from '@chainlog/core/logging';
import type { ProducerRecord, RecordMetadata } from 'kafkajs';
import type { Histogram } from 'prom-client';
import { messageOffsets } from '../domain/offsets.js';

export interface OutgoingMessage {
  /** The transaction id, for logs. */
  readonly id: string;
  readonly key: string;
  readonly value: string;
  readonly partition: number;
}

export interface Placement {
  readonly partition: number;
  readonly offset: number;
}

/** Kafka did not acknowledge in time or failed: the write may or may not have happened (HTTP 503). */
export class KafkaUnavailableError extends Error {
  override readonly name = 'KafkaUnavailableError';
}

/** Kafka refused the write for its size (HTTP 413); nothing was written. */
export class KafkaRecordTooLargeError extends Error {
  override readonly name = 'KafkaRecordTooLargeError';
}

/** The part of a kafkajs producer the appender uses. */
export interface ProducerLike {
  connect(): Promise<void>;
  send(record: ProducerRecord): Promise<RecordMetadata[]>;
  disconnect(): Promise<void>;
}

export interface AppenderOptions {
  /** A new idempotent producer; called again whenever the previous one failed. */
  createProducer: () => ProducerLike;
  topic: string;
  /** Deadline of each append, from the call until Kafka's acknowledgement. */
  timeoutMs: number;
  logger: Logger;
  produceDuration?: Histogram<'outcome'>;
  /** Upper bound of one produce request, in approximate bytes, when it combines several appends. */
  maxRequestBytes?: number;
  /** Pause between failed connection attempts. */
  reconnectDelayMs?: number;
  /** A send outstanding this long is abandoned by disconnecting its producer (default max(30 s, 4 × timeoutMs)). */
  stallMs?: number;
}

export interface AppenderHealth {
  readonly connected: boolean;
  readonly reason?: string;
}

interface PendingAppend {
  readonly messages: readonly OutgoingMessage[];
  readonly bytes: number;
  state: 'queued' | 'sending' | 'settled';
  readonly resolve: (placements: Placement[]) => void;
  readonly reject: (error: Error) => void;
  timer?: NodeJS.Timeout;
}

const DEFAULT_MAX_REQUEST_BYTES = 512 * 1024;
// Record overhead per message in a record batch, roughly (lengths, attributes, deltas).
const RECORD_OVERHEAD_BYTES = 32;
const DISCONNECT_TIMEOUT_MS = 5000;
const DEFAULT_STALL_MS = 30_000;

export class KafkaAppender {
  readonly #queue: PendingAppend[] = [];
  #producer: ProducerLike | undefined;
  #connecting: ProducerLike | undefined;
  #health: AppenderHealth = { connected: false, reason: 'not connected yet' };
  #stopping = false;
  #loop: Promise<void> | undefined;
  #wakeWorker: (() => void) | undefined;
  #wakeOnStop: (() => void) | undefined;

  readonly #options: AppenderOptions;

  constructor(options: AppenderOptions) {
    this.#options = options;
  }

  /** Connects (retrying in the background) and starts sending. */
  start(): void {
    this.#loop ??= this.#run().catch((error: unknown) => {
      this.#options.logger.fatal({ err: error }, 'the Kafka appender stopped unexpectedly');
      this.#health = { connected: false, reason: 'the Kafka appender stopped unexpectedly' };
    });
  }

  status(): AppenderHealth {
    return this.#health;
  }

  /** Resolves with each message's partition and offset once Kafka acknowledged all of them. */
  append(messages: readonly OutgoingMessage[]): Promise<Placement[]> {
    if (this.#stopping) return Promise.reject(new KafkaUnavailableError('ingest is shutting down'));
    if (messages.length === 0) return Promise.resolve([]);
    return new Promise<Placement[]>((resolve, reject) => {
      const bytes = messages.reduce(
        (sum, message) => sum + Buffer.byteLength(message.key) + Buffer.byteLength(message.value) + RECORD_OVERHEAD_BYTES,
        0,
      );
      const pending: PendingAppend = { messages, bytes, state: 'queued', resolve, reject };
      pending.timer = setTimeout(() => this.#expire(pending), this.#options.timeoutMs);
      this.#queue.push(pending);
      this.#wakeWorker?.();
    });
  }

  /** Sends what is queued, stops, and disconnects. Appends after this fail at once. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#wakeWorker?.();
    this.#wakeOnStop?.();
    // Queued appends are flushed; a send still outstanding after one more produce timeout is abandoned.
    const loop = this.#loop ?? Promise.resolve();
    const finished = await withTimeout(loop, this.#options.timeoutMs).then(
      () => true,
      () => false,
    );
    if (!finished) {
      this.#options.logger.warn('the producer is still busy at shutdown; disconnecting it');
      await this.#connecting?.disconnect().catch(() => undefined);
      await this.#retireProducer();
      await withTimeout(loop, DISCONNECT_TIMEOUT_MS).catch(() => undefined);
    }
    for (const pending of this.#queue.splice(0)) {
      this.#settle(pending, () => pending.reject(new KafkaUnavailableError('ingest is shutting down')));
    }
    await this.#retireProducer();
    this.#health = { connected: false, reason: 'stopped' };
  }

  async #run(): Promise<void> {
    for (;;) {
      if (this.#stopping && (this.#queue.length === 0 || this.#producer === undefined)) return;
      if (this.#producer === undefined) {
        if (!(await this.#connect())) await this.#pause(this.#options.reconnectDelayMs ?? 1000);
        continue;
      }
      const batch = this.#takeBatch();
      if (batch.length === 0) {
        await new Promise<void>((resolve) => (this.#wakeWorker = resolve));
        this.#wakeWorker = undefined;
        continue;
      }
      await this.#send(this.#producer, batch);
    }
  }

  async #connect(): Promise<boolean> {
    const producer = this.#options.createProducer();
    this.#connecting = producer;
    try {
      await producer.connect();
      this.#producer = producer;
      this.#health = { connected: true };
      this.#options.logger.info({ topic: this.#options.topic }, 'producer connected');
      return true;
    } catch (error) {
      const reason = `cannot connect the producer: ${(error as Error).message}`;
      if (this.#health.connected || this.#health.reason !== reason) this.#options.logger.warn({ err: error }, 'cannot connect the producer');
      this.#health = { connected: false, reason };
      await withTimeout(producer.disconnect(), DISCONNECT_TIMEOUT_MS).catch(() => undefined);
      return false;
    } finally {
      this.#connecting = undefined;
    }
  }

  #pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.#wakeOnStop = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /** The oldest queued appends, as many as fit in one request (always at least one). */
  #takeBatch(): PendingAppend[] {
    const limit = this.#options.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES;
    const batch: PendingAppend[] = [];
    let bytes = 0;
    while (this.#queue.length > 0) {
      const next = this.#queue[0] as PendingAppend;
      if (batch.length > 0 && bytes + next.bytes > limit) break;
      this.#queue.shift();
      next.state = 'sending';
      batch.push(next);
      bytes += next.bytes;
    }
    return batch;
  }

  async #send(producer: ProducerLike, batch: PendingAppend[]): Promise<void> {
    const messages = batch.flatMap((pending) => pending.messages);
    const stopTimer = this.#options.produceDuration?.startTimer();
    // kafkajs bounds a send by its retries and timeouts; should one hang regardless, disconnecting the
    // producer makes it fail, and the producer is replaced like after any failure.
    const stallMs = this.#options.stallMs ?? Math.max(DEFAULT_STALL_MS, 4 * this.#options.timeoutMs);
    const watchdog = setTimeout(() => {
      this.#options.logger.error({ stallMs, messages: messages.length }, 'a produce request is stuck; disconnecting the producer');
      void withTimeout(producer.disconnect(), DISCONNECT_TIMEOUT_MS).catch(() => undefined);
    }, stallMs);
    let offsets: number[];
    try {
      const acks = await producer.send({
        topic: this.#options.topic,
        acks: -1,
        timeout: this.#options.timeoutMs,
        messages: messages.map(({ key, value, partition }) => ({ key, value, partition })),
      });
      offsets = messageOffsets(
        messages.map((message) => message.partition),
        acks,
      );
    } catch (error) {
      clearTimeout(watchdog);
      stopTimer?.({ outcome: 'error' });
      const failure = classify(error);
      let answered = 0;
      for (const pending of batch) if (this.#settle(pending, () => pending.reject(failure))) answered += 1;
      this.#options.logger.warn(
        { err: error, messages: messages.length, requests: batch.length, answered },
        'produce failed; replacing the producer',
      );
      this.#health = { connected: false, reason: `produce failed: ${(error as Error).message}` };
      await this.#retireProducer();
      return;
    }
    clearTimeout(watchdog);
    stopTimer?.({ outcome: 'ok' });
    let next = 0;
    for (const pending of batch) {
      const placements = pending.messages.map((message) => ({ partition: message.partition, offset: offsets[next++] as number }));
      if (!this.#settle(pending, () => pending.resolve(placements))) {
        // Its caller got 503 already; the retry with the same ids is a duplicate that the chain skips.
        this.#options.logger.warn(
          { ids: pending.messages.map((message) => message.id), placements },
          'Kafka acknowledged a write after its request had timed out',
        );
      }
    }
    this.#health = { connected: true };
  }

  async #retireProducer(): Promise<void> {
    const producer = this.#producer;
    this.#producer = undefined;
    if (producer) await withTimeout(producer.disconnect(), DISCONNECT_TIMEOUT_MS).catch(() => undefined);
  }

  #expire(pending: PendingAppend): void {
    const wasSent = pending.state === 'sending';
    if (pending.state === 'queued') this.#queue.splice(this.#queue.indexOf(pending), 1);
    this.#settle(pending, () =>
      pending.reject(
        new KafkaUnavailableError(
          wasSent
            ? `Kafka did not acknowledge the write within ${this.#options.timeoutMs} ms`
            : `no Kafka producer could take the write within ${this.#options.timeoutMs} ms (${this.#health.reason ?? 'busy'})`,
        ),
      ),
    );
  }

  /** Runs the outcome once; false when the append was settled already (by its deadline). */
  #settle(pending: PendingAppend, outcome: () => void): boolean {
    if (pending.state === 'settled') return false;
    pending.state = 'settled';
    clearTimeout(pending.timer);
    outcome();
    return true;
  }
}

function classify(error: unknown): Error {
  for (let cause: unknown = error; cause instanceof Error; cause = cause.cause) {
    const type = (cause as { type?: unknown }).type;
    if (type === 'MESSAGE_TOO_LARGE' || type === 'RECORD_LIST_TOO_LARGE') {
      return new KafkaRecordTooLargeError(`Kafka refused the write as too large (${type})`);
    }
    if (cause.cause === cause) break;
  }
  return new KafkaUnavailableError(`Kafka did not acknowledge the write: ${(error as Error).message}`);
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
