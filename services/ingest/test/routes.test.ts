// The HTTP layer with a fake transaction log: admission control (in-flight bound, shutdown) and how
// Kafka's failures become 503 with Retry-After or 413, never 202.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { closeServer, createHttpApp, listen } from '@chainlog/core/http';
import { createLogger } from '@chainlog/core/logging';
import { createMetricsRegistry } from '@chainlog/core/metrics';
import { afterEach, describe, expect, it } from 'vitest';
import { contentTypeProblem, transactionRoutes, type TransactionLog } from '../src/http/routes.js';
import { KafkaRecordTooLargeError, KafkaUnavailableError, type OutgoingMessage, type Placement } from '../src/kafka/appender.js';
import { createIngestMetrics } from '../src/metrics.js';
import { IdempotencyRegistry } from '../src/domain/idempotency.js';
import { ClientFairness, type FairnessOptions } from '../src/http/fairness.js';
import { metricValue, post } from './helpers.js';

const servers: Server[] = [];

afterEach(async () => {
  for (const server of servers.splice(0)) await closeServer(server, 1000);
});

interface Overrides {
  maxInflightRequests?: number;
  shuttingDown?: () => boolean;
  fairness?: Partial<FairnessOptions>;
  kafkaUnavailable?: () => string | undefined;
  clientIpHeader?: string;
  backlogged?: ReadonlySet<number>;
}

async function serve(log: TransactionLog, overrides: Overrides = {}) {
  const registry = createMetricsRegistry('ingest');
  const logger = createLogger('ingest', 'silent');
  let ids = 0;
  const { app, finish } = createHttpApp({ logger, registry, readiness: () => ({ ready: true }) });
  app.use(
    transactionRoutes({
      config: {
        maxBatchSize: 10,
        maxBodyBytes: 4096,
        requireTransactionSignatures: false,
        auditorPublicUrl: 'http://auditor',
        retryAfterSeconds: 4,
        maxInflightRequests: overrides.maxInflightRequests ?? 10,
        ...(overrides.clientIpHeader === undefined ? {} : { clientIpHeader: overrides.clientIpHeader }),
        ...(overrides.backlogged === undefined ? {} : { replayWindowMs: 60_000, miningBacklogLimitMs: 30_000 }),
      },
      fairness: new ClientFairness({ ratePerSecond: 0, burst: 1, maxInflightPerClient: 100, clock: Date.now, ...overrides.fairness }),
      kafkaUnavailable: overrides.kafkaUnavailable ?? (() => undefined),
      log,
      ...(overrides.backlogged === undefined ? {} : { miningBacklog: { isBacklogged: (partition: number) => overrides.backlogged?.has(partition) === true } }),
      metrics: createIngestMetrics(registry),
      clock: () => 1000,
      idempotency: new IdempotencyRegistry({ maxEntries: 100, ttlMs: 60_000, clock: () => 1000 }),
      newId: () => `id-${ids++}`,
      isShuttingDown: overrides.shuttingDown ?? (() => false),
    }),
  );
  finish();
  const server = await listen(app, 0, '127.0.0.1');
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, registry };
}

const valid = { from: 'alice', to: 'bob', amount: 1 };

function fakeLog(append: (messages: readonly OutgoingMessage[]) => Promise<Placement[]>, partitions: number | null = 4): TransactionLog {
  return { partitionCount: () => partitions ?? undefined, append };
}

describe('transaction routes', () => {
  it('answers 503 overloaded with Retry-After beyond MAX_INFLIGHT_REQUESTS, without reading the body', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const { url, registry } = await serve(
      fakeLog(async (messages) => {
        await gate;
        return messages.map((message) => ({ partition: message.partition, offset: 0 }));
      }),
      { maxInflightRequests: 2 },
    );
    const first = post(url, valid);
    const second = post(url, valid);
    await expect.poll(() => metricValue(registry, 'chainlog_ingest_inflight_requests')).toBe(2);
    const third = await post(url, valid);
    expect(third.status).toBe(503);
    expect(third.headers.get('retry-after')).toBe('4');
    expect(third.body.error.code).toBe('overloaded');
    release();
    expect((await first).status).toBe(202);
    expect((await second).status).toBe(202);
    expect(await metricValue(registry, 'chainlog_ingest_inflight_requests')).toBe(0);
    expect((await post(url, valid)).status).toBe(202);
    expect(await metricValue(registry, 'chainlog_ingest_transactions_rejected_total', { reason: 'overloaded' })).toBe(1);
  });

  it('answers 503 shutting-down once shutdown began', async () => {
    const { url } = await serve(fakeLog(async () => []), { shuttingDown: () => true });
    const reply = await post(url, valid);
    expect(reply.status).toBe(503);
    expect(reply.body.error.code).toBe('shutting-down');
    expect(reply.headers.get('retry-after')).toBe('4');
  });

  it('lets an in-flight request finish after shutdown began, and refuses new ones', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let shuttingDown = false;
    const { url, registry } = await serve(
      fakeLog(async (messages) => {
        await gate;
        return messages.map((message) => ({ partition: message.partition, offset: 9 }));
      }),
      { shuttingDown: () => shuttingDown },
    );
    const inFlight = post(url, valid);
    await expect.poll(() => metricValue(registry, 'chainlog_ingest_inflight_requests')).toBe(1);
    shuttingDown = true;
    expect((await post(url, valid)).body.error.code).toBe('shutting-down');
    release();
    const reply = await inFlight;
    expect(reply.status).toBe(202);
    expect(reply.body).toMatchObject({ offset: 9 });
  });

  it('turns an unacknowledged write into 503 kafka-unavailable with Retry-After, never 202', async () => {
    const { url, registry } = await serve(
      fakeLog(async () => {
        throw new KafkaUnavailableError('Kafka did not acknowledge the write within 5000 ms');
      }),
    );
    const reply = await post(url, [valid, valid]);
    expect(reply.status).toBe(503);
    expect(reply.headers.get('retry-after')).toBe('4');
    expect(reply.body.error.code).toBe('kafka-unavailable');
    expect(reply.body.error.message).toMatch(/retry with the same ids or Idempotency-Key/);
    expect(await metricValue(registry, 'chainlog_ingest_transactions_rejected_total', { reason: 'kafka-unavailable' })).toBe(2);
    expect(await metricValue(registry, 'chainlog_ingest_transactions_accepted_total')).toBe(0);
  });

  it('answers 503 while the partition count is unknown, and 413 when Kafka refuses the size', async () => {
    const unknown = await serve(fakeLog(async () => [], null));
    expect((await post(unknown.url, valid)).body.error.code).toBe('kafka-unavailable');
    const tooLarge = await serve(
      fakeLog(async () => {
        throw new KafkaRecordTooLargeError('Kafka refused the write as too large (MESSAGE_TOO_LARGE)');
      }),
    );
    const reply = await post(tooLarge.url, valid);
    expect(reply.status).toBe(413);
    expect(reply.body.error.code).toBe('batch-too-large');
  });

  it('answers 429 with Retry-After to a client over its rate, while another client still gets 202', async () => {
    const { url, registry } = await serve(
      fakeLog(async (messages) => messages.map((message) => ({ partition: message.partition, offset: 1 }))),
      { fairness: { ratePerSecond: 1, burst: 3 }, clientIpHeader: 'x-forwarded-for' },
    );
    const flood = [];
    for (let i = 0; i < 6; i++) flood.push(await post(url, valid, { 'X-Forwarded-For': '10.0.0.1' }));
    expect(flood.map((reply) => reply.status)).toEqual([202, 202, 202, 429, 429, 429]);
    expect(flood[3]?.headers.get('retry-after')).toBe('1');
    expect(flood[3]?.body.error).toMatchObject({ code: 'rate-limited', message: expect.stringContaining('more than 1 requests per second') });
    // The proxy's last entry is the client: a forged first entry changes nothing.
    expect((await post(url, valid, { 'X-Forwarded-For': '10.9.9.9, 10.0.0.1' })).status).toBe(429);
    expect((await post(url, valid, { 'X-Forwarded-For': '10.0.0.2' })).status).toBe(202);
    expect(await metricValue(registry, 'chainlog_ingest_transactions_rejected_total', { reason: 'rate-limited' })).toBe(4);
  });

  it('gives one client only its share of the in-flight slots (429), so another client still gets in', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const { url, registry } = await serve(
      fakeLog(async (messages) => {
        await gate;
        return messages.map((message) => ({ partition: message.partition, offset: 2 }));
      }),
      { maxInflightRequests: 4, fairness: { maxInflightPerClient: 2 }, clientIpHeader: 'x-forwarded-for' },
    );
    const held = [post(url, valid, { 'X-Forwarded-For': 'slow' }), post(url, valid, { 'X-Forwarded-For': 'slow' })];
    await expect.poll(() => metricValue(registry, 'chainlog_ingest_inflight_requests')).toBe(2);
    const third = await post(url, valid, { 'X-Forwarded-For': 'slow' });
    expect(third.status).toBe(429);
    expect(third.body.error.message).toMatch(/already has 2 requests in flight/);
    const other = post(url, valid, { 'X-Forwarded-For': 'honest' });
    await expect.poll(() => metricValue(registry, 'chainlog_ingest_inflight_requests')).toBe(3);
    release();
    expect((await Promise.all([...held, other])).map((reply) => reply.status)).toEqual([202, 202, 202]);
  });

  it('fails fast while Kafka cannot take writes, instead of waiting for the produce timeout', async () => {
    let appended = 0;
    const { url } = await serve(
      fakeLog(async (messages) => {
        appended += 1;
        return messages.map((message) => ({ partition: message.partition, offset: 0 }));
      }),
      { kafkaUnavailable: () => 'the producer is not connected' },
    );
    const reply = await post(url, valid);
    expect(reply.status).toBe(503);
    expect(reply.headers.get('retry-after')).toBe('4');
    expect(reply.body.error).toMatchObject({ code: 'kafka-unavailable', message: expect.stringContaining('the producer is not connected') });
    expect(appended).toBe(0);
  });

  it('refuses query parameters, 405 with Allow for other methods, JSON for OPTIONS, and an invalid X-Request-Id', async () => {
    const { url } = await serve(fakeLog(async (messages) => messages.map((message) => ({ partition: message.partition, offset: 0 }))));
    const query = await fetch(`${url}/v1/transactions?a=1&a=2`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(valid) });
    expect(query.status).toBe(400);
    expect(await query.json()).toMatchObject({ error: { code: 'unknown-parameter' } });
    for (const method of ['GET', 'PUT', 'DELETE', 'PATCH']) {
      const reply = await fetch(`${url}/v1/transactions`, { method });
      expect({ method, status: reply.status, allow: reply.headers.get('allow') }).toEqual({ method, status: 405, allow: 'POST, OPTIONS' });
      expect(await reply.json()).toMatchObject({ error: { code: 'method-not-allowed' } });
    }
    const options = await fetch(`${url}/v1/transactions`, { method: 'OPTIONS' });
    expect(options.status).toBe(200);
    expect(options.headers.get('allow')).toBe('POST, OPTIONS');
    expect(await options.json()).toEqual({ path: '/v1/transactions', allow: ['POST', 'OPTIONS'] });
    expect((await fetch(`${url}/nowhere`, { method: 'OPTIONS' })).status).toBe(404);
    const badId = await post(url, valid, { 'X-Request-Id': 'a b' });
    expect(badId.status).toBe(400);
    expect(badId.body.error).toMatchObject({ code: 'invalid-request-id', field: 'X-Request-Id' });
    expect((await post(url, valid, { 'X-Request-Id': 'req-1.ok_2' })).headers.get('x-request-id')).toBe('req-1.ok_2');
  });

  it('turns an unexpected failure into a 500 without details', async () => {
    const { url, registry } = await serve(
      fakeLog(async () => {
        throw new Error('bug');
      }),
    );
    const reply = await post(url, valid);
    expect(reply.status).toBe(500);
    expect(reply.body).toEqual({ error: { code: 'internal', message: 'internal error' } });
    expect(await metricValue(registry, 'chainlog_ingest_transactions_rejected_total', { reason: 'internal' })).toBe(1);
  });
});

describe('mining backlog backpressure', () => {
  // partitionForKey over 4 partitions: which senders land where is fixed by the hash; find one of each.
  const senderOn = async (partition: number): Promise<string> => {
    const { partitionForKey } = await import('../src/domain/partitioning.js');
    for (let i = 0; ; i++) if (partitionForKey(`sender-${i}`, 4) === partition) return `sender-${i}`;
  };

  it('answers 503 mining-backlog with Retry-After for a backlogged partition, writing nothing, and accepts the others', async () => {
    const written: OutgoingMessage[] = [];
    const backlogged = new Set<number>([1]);
    const { url, registry } = await serve(
      fakeLog(async (messages) => {
        written.push(...messages);
        return messages.map((message) => ({ partition: message.partition, offset: written.length }));
      }),
      { backlogged },
    );
    const behind = await senderOn(1);
    const fine = await senderOn(2);
    const refused = await post(url, { id: 'behind-1', from: behind, to: 'bob', amount: 1 });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('4');
    expect(refused.body.error).toMatchObject({ code: 'mining-backlog', partitions: [1] });
    expect(refused.body.error.message).toMatch(/MINING_BACKLOG_LIMIT_MS/);
    // A batch with one item for the backlogged partition is refused whole: no partial write to explain.
    const batch = await post(url, [{ from: fine, to: 'bob', amount: 1 }, { from: behind, to: 'bob', amount: 1 }]);
    expect(batch.status).toBe(503);
    expect(written).toEqual([]);
    expect(await metricValue(registry, 'chainlog_ingest_transactions_rejected_total', { reason: 'mining-backlog' })).toBe(3);
    expect((await post(url, { from: fine, to: 'bob', amount: 1 })).status).toBe(202);
    // The same id is not poisoned by the refusal: once mining caught up it is accepted.
    backlogged.clear();
    expect((await post(url, { id: 'behind-1', from: behind, to: 'bob', amount: 1 })).status).toBe(202);
  });

  it('still replays the answer of a request acknowledged before the backlog', async () => {
    const backlogged = new Set<number>();
    const { url } = await serve(fakeLog(async (messages) => messages.map((message) => ({ partition: message.partition, offset: 7 }))), { backlogged });
    const sender = await senderOn(0);
    const first = await post(url, { id: 'early', from: sender, to: 'bob', amount: 1 });
    expect(first.status).toBe(202);
    backlogged.add(0);
    const again = await post(url, { id: 'early', from: sender, to: 'bob', amount: 1 });
    expect([again.status, again.headers.get('idempotent-replayed')]).toEqual([202, 'true']);
  });
});

describe('contentTypeProblem', () => {
  it.each([
    ['application/json', undefined],
    ['application/json; charset=utf-8', undefined],
    ['Application/JSON; Charset="UTF-8"', undefined],
    [undefined, 'is missing; send application/json'],
    ['application/json-patch+json', 'must be application/json, got "application/json-patch+json"'],
    ['application/json; charset=utf-16', 'charset must be utf-8, got "utf-16"'],
  ])('%s → %s', (header, problem) => {
    expect(contentTypeProblem(header)).toBe(problem);
  });
});
