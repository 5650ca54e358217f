// The appender's contract without a broker: serial sends with group commit, a deadline per append,
// a failed producer is never reused, and shutdown flushes what is queued.
import { createLogger } from '@chainlog/core/logging';
import type { ProducerRecord, RecordMetadata } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import { KafkaAppender, KafkaRecordTooLargeError, KafkaUnavailableError, type OutgoingMessage, type ProducerLike } from '../src/kafka/appender.js';

interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A producer whose sends are answered by the test, one at a time. */
class FakeProducer implements ProducerLike {
  readonly sends: { record: ProducerRecord; reply: Deferred<RecordMetadata[]> }[] = [];
  connected = false;
  disconnected = false;
  readonly #connecting = deferred<void>();
  readonly #connectError: Error | 'hang' | undefined;

  constructor(connectError?: Error | 'hang') {
    this.#connectError = connectError;
    this.#connecting.promise.catch(() => undefined);
  }
  async connect(): Promise<void> {
    if (this.#connectError === 'hang') return this.#connecting.promise;
    if (this.#connectError) throw this.#connectError;
    this.connected = true;
  }
  send(record: ProducerRecord): Promise<RecordMetadata[]> {
    const reply = deferred<RecordMetadata[]>();
    this.sends.push({ record, reply });
    return reply.promise;
  }
  async disconnect(): Promise<void> {
    this.disconnected = true;
    this.#connecting.reject(new Error('The producer is disconnected'));
    for (const { reply } of this.sends) reply.reject(new Error('The producer is disconnected'));
  }
  /** Acknowledges the oldest unanswered send with consecutive offsets per partition from `base`. */
  ack(index: number, base: Record<number, number>): void {
    const partitions = [...new Set(this.sends[index]!.record.messages.map((message) => message.partition as number))];
    this.sends[index]!.reply.resolve(
      partitions.map((partition) => ({ topicName: 't', partition, errorCode: 0, baseOffset: String(base[partition] ?? 0) })),
    );
  }
}

const logger = createLogger('test', 'silent');
const message = (id: string, partition: number): OutgoingMessage => ({ id, key: `k-${id}`, value: `{"id":"${id}"}`, partition });
const appenders: KafkaAppender[] = [];

function setup(options: { timeoutMs?: number; stallMs?: number; producers?: FakeProducer[] } = {}) {
  const producers = options.producers ?? [];
  const created: FakeProducer[] = [];
  const appender = new KafkaAppender({
    createProducer: () => {
      const producer = producers.shift() ?? new FakeProducer();
      created.push(producer);
      return producer;
    },
    topic: 't',
    timeoutMs: options.timeoutMs ?? 2000,
    logger,
    reconnectDelayMs: 20,
    ...(options.stallMs === undefined ? {} : { stallMs: options.stallMs }),
  });
  appenders.push(appender);
  appender.start();
  return { appender, created };
}

async function until(check: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

afterEach(async () => {
  for (const appender of appenders.splice(0)) {
    await appender.stop();
  }
});

describe('KafkaAppender', () => {
  it('sends one request at a time and combines the appends that queued meanwhile', async () => {
    const { appender, created } = setup();
    await until(() => appender.status().connected);
    const first = appender.append([message('a', 0)]);
    await until(() => created[0]!.sends.length === 1);
    const second = appender.append([message('b', 1), message('c', 0)]);
    const third = appender.append([message('d', 0)]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(created[0]!.sends).toHaveLength(1);

    created[0]!.ack(0, { 0: 5 });
    expect(await first).toEqual([{ partition: 0, offset: 5 }]);
    await until(() => created[0]!.sends.length === 2);
    const combined = created[0]!.sends[1]!.record;
    expect(combined).toMatchObject({ topic: 't', acks: -1, timeout: 2000 });
    expect(combined.messages.map((m) => [m.key, m.partition])).toEqual([
      ['k-b', 1],
      ['k-c', 0],
      ['k-d', 0],
    ]);
    created[0]!.ack(1, { 0: 6, 1: 0 });
    expect(await second).toEqual([
      { partition: 1, offset: 0 },
      { partition: 0, offset: 6 },
    ]);
    expect(await third).toEqual([{ partition: 0, offset: 7 }]);
  });

  it('answers an append still queued at its deadline with unavailable and never sends it', async () => {
    const { appender, created } = setup({ timeoutMs: 150 });
    await until(() => appender.status().connected);
    const blocking = appender.append([message('a', 0)]);
    await until(() => created[0]!.sends.length === 1);
    const queued = appender.append([message('b', 0)]);
    const started = Date.now();
    const [queuedOutcome, blockingOutcome] = await Promise.allSettled([queued, blocking]);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(queuedOutcome).toMatchObject({ status: 'rejected', reason: expect.any(KafkaUnavailableError) });
    expect(blockingOutcome).toMatchObject({ status: 'rejected', reason: { message: expect.stringMatching(/did not acknowledge the write within 150 ms/) } });
    created[0]!.ack(0, { 0: 0 }); // the late acknowledgement is only logged
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(created[0]!.sends).toHaveLength(1);
    expect(created).toHaveLength(1); // a send that succeeded late keeps the producer
  });

  it('never reuses a producer whose send failed', async () => {
    const { appender, created } = setup();
    await until(() => appender.status().connected);
    const failing = appender.append([message('a', 0)]);
    await until(() => created[0]!.sends.length === 1);
    created[0]!.sends[0]!.reply.reject(new Error('connection closed'));
    await expect(failing).rejects.toThrow(/Kafka did not acknowledge the write: connection closed/);
    expect(created[0]!.disconnected).toBe(true);

    await until(() => created.length === 2 && appender.status().connected);
    const next = appender.append([message('b', 0)]);
    await until(() => created[1]!.sends.length === 1);
    created[1]!.ack(0, { 0: 1 });
    expect(await next).toEqual([{ partition: 0, offset: 1 }]);
    expect(created[0]!.sends).toHaveLength(1);
  });

  it('abandons a send that hangs by disconnecting its producer, then carries on with a new one', async () => {
    const { appender, created } = setup({ timeoutMs: 100, stallMs: 300 });
    await until(() => appender.status().connected);
    const hanging = appender.append([message('a', 0)]);
    await expect(hanging).rejects.toBeInstanceOf(KafkaUnavailableError);
    await until(() => created[0]!.disconnected && created.length === 2 && appender.status().connected);
    const next = appender.append([message('b', 0)]);
    await until(() => created[1]!.sends.length === 1);
    created[1]!.ack(0, { 0: 4 });
    expect(await next).toEqual([{ partition: 0, offset: 4 }]);
  });

  it('retries connecting and reports why it is not connected', async () => {
    const { appender, created } = setup({ producers: [new FakeProducer(new Error('ECONNREFUSED')), new FakeProducer(new Error('ECONNREFUSED'))] });
    await until(() => created.length >= 1);
    await until(() => appender.status().reason?.includes('ECONNREFUSED') ?? false);
    expect(appender.status().connected).toBe(false);
    await until(() => appender.status().connected);
    expect(created).toHaveLength(3);
  });

  it('abandons a send still outstanding at shutdown after one more produce timeout', async () => {
    const { appender, created } = setup({ timeoutMs: 100 });
    await until(() => appender.status().connected);
    const hanging = appender.append([message('a', 0)]).catch((error: unknown) => error);
    await until(() => created[0]!.sends.length === 1);
    const started = Date.now();
    await appender.stop();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(created[0]!.disconnected).toBe(true);
    expect(await hanging).toBeInstanceOf(KafkaUnavailableError);
  });

  it('stops within bounded time while the producer cannot connect', async () => {
    const hanging = new FakeProducer('hang');
    const { appender, created } = setup({ timeoutMs: 100, producers: [hanging] });
    await until(() => created.length === 1);
    const queued = appender.append([message('a', 0)]).catch((error: unknown) => error);
    const started = Date.now();
    await appender.stop();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(hanging.disconnected).toBe(true);
    expect(await queued).toBeInstanceOf(KafkaUnavailableError);
    expect(created).toHaveLength(1);
  });

  it('maps a record-too-large refusal to its own error', async () => {
    const { appender, created } = setup();
    await until(() => appender.status().connected);
    const tooLarge = appender.append([message('a', 0)]);
    await until(() => created[0]!.sends.length === 1);
    const protocolError = Object.assign(new Error('The request included a message larger than the max message size'), { type: 'MESSAGE_TOO_LARGE' });
    created[0]!.sends[0]!.reply.reject(new Error('retries exceeded', { cause: protocolError }));
    await expect(tooLarge).rejects.toBeInstanceOf(KafkaRecordTooLargeError);
  });

  it('flushes queued appends on stop, then refuses new ones', async () => {
    const { appender, created } = setup();
    await until(() => appender.status().connected);
    const pending = appender.append([message('a', 0)]);
    await until(() => created[0]!.sends.length === 1);
    const stopped = appender.stop();
    await expect(appender.append([message('b', 0)])).rejects.toThrow(/shutting down/);
    created[0]!.ack(0, { 0: 3 });
    expect(await pending).toEqual([{ partition: 0, offset: 3 }]);
    await stopped;
    expect(created[0]!.disconnected).toBe(true);
    expect(appender.status()).toEqual({ connected: false, reason: 'stopped' });
  });
});
