// The service against the real broker: what a 202 promises is on the topic (partition, key, content,
// offset), every kind of bad input gets its 4xx JSON error and writes nothing, and the operational
// endpoints answer.
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { ensureTopics } from '@chainlog/core/kafka';
import { signerFromSeed, signTransaction } from '@chainlog/core/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, testKafka, uniqueTopic } from '../../../test/support/kafka.js';
import { partitionForKey } from '../src/domain/partitioning.js';
import { buildOpenApiDocument } from '../src/http/openapi.js';
import { idFromKey } from '../src/domain/ids.js';
import { getJson, metricValue, post, startIngest, topicEnd, TopicReader, type RunningIngest } from './helpers.js';

const PARTITIONS = 3;
const kafka = testKafka();
const topic = uniqueTopic('ingest-tx');
const reader = new TopicReader(kafka);
let ingest: RunningIngest;

beforeAll(async () => {
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [{ topic, partitions: PARTITIONS }]);
  await admin.disconnect();
  ingest = await startIngest({
    TOPIC_TRANSACTIONS: topic,
    MAX_BATCH_SIZE: '50',
    MAX_BODY_BYTES: '16384',
    AUDITOR_PUBLIC_URL: 'https://auditor.example.com/ledger/',
  });
  await eventually(async () => expect((await getJson(`${ingest.url}/readyz`)).status).toBe(200), 30_000);
  await reader.start(topic);
});

afterAll(async () => {
  await ingest?.stop();
  await reader.stop();
});

/** Waits until the message with this id was consumed, and returns it. */
async function consumed(id: string) {
  return eventually(() => {
    const found = reader.byId(id);
    expect(found).toHaveLength(1);
    return found[0]!;
  }, 30_000);
}

describe('accepted transactions', () => {
  it('puts one transaction on the topic, keyed and partitioned by sender, where the 202 says', async () => {
    const before = Date.now();
    const reply = await post(ingest.url, { from: 'alice', to: 'bob', amount: 3 });
    expect(reply.status).toBe(202);
    const { id, partition, offset, statusUrl } = reply.body as { id: string; partition: number; offset: number; statusUrl: string };
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(partition).toBe(partitionForKey('alice', PARTITIONS));
    expect(statusUrl).toBe(`https://auditor.example.com/ledger/v1/transactions/${id}`);
    expect(reply.headers.get('location')).toBe(statusUrl);
    expect(reply.headers.get('x-request-id')).toBeTruthy();

    const message = await consumed(id);
    expect(message).toMatchObject({ partition, offset, key: 'alice' });
    expect(message.value).toEqual({ id, from: 'alice', to: 'bob', amount: 3, timestamp: expect.any(Number) });
    const { timestamp } = message.value as { timestamp: number };
    expect(timestamp).toBeGreaterThanOrEqual(before);
    expect(timestamp).toBeLessThanOrEqual(Date.now());
  });

  it('puts a batch on the topic with Idempotency-Key ids, in order per sender, at the offsets it reports', async () => {
    const senders = ['alice', 'bob', 'carol', 'dave', 'erin'];
    const batch = Array.from({ length: 20 }, (_, index) => ({
      from: senders[index % senders.length]!,
      to: 'zed',
      amount: index + 1,
      ...(index === 7 ? { id: 'explicit-7', timestamp: 1234 } : {}),
    }));
    const key = uniqueTopic('batch');
    const reply = await post(ingest.url, batch, { 'Idempotency-Key': key });
    expect(reply.status).toBe(202);
    const accepted = reply.body.transactions as { id: string; partition: number; offset: number; statusUrl: string }[];
    expect(accepted.map((transaction) => transaction.id)).toEqual(batch.map((item, index) => (index === 7 ? 'explicit-7' : idFromKey(key, index, item.from))));

    for (const [index, transaction] of accepted.entries()) {
      const item = batch[index]!;
      expect(transaction.partition).toBe(partitionForKey(item.from, PARTITIONS));
      const message = await consumed(transaction.id);
      expect(message).toMatchObject({ partition: transaction.partition, offset: transaction.offset, key: item.from });
      expect(message.value).toMatchObject({ ...item, id: transaction.id });
    }
    // One sender's transactions keep their order: one partition, increasing offsets.
    for (const sender of senders) {
      const own = accepted.filter((_, index) => batch[index]!.from === sender);
      expect(new Set(own.map((transaction) => transaction.partition)).size).toBe(1);
      const offsets = own.map((transaction) => transaction.offset);
      expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
    }
    // Offsets in each partition are the produce response's base offset plus the message's index.
    for (let partition = 0; partition < PARTITIONS; partition++) {
      const offsets = accepted.filter((transaction) => transaction.partition === partition).map((transaction) => transaction.offset);
      expect(offsets).toEqual(offsets.map((_, i) => offsets[0]! + i));
    }
  });

  it('answers a retry with the first answer, without producing again; refuses other content under the key (409)', async () => {
    const key = uniqueTopic('retry');
    const id = idFromKey(key, undefined, 'frank');
    const first = await post(ingest.url, { from: 'frank', to: 'gina', amount: 5 }, { 'Idempotency-Key': key });
    const retry = await post(ingest.url, { from: 'frank', to: 'gina', amount: 5 }, { 'Idempotency-Key': key });
    expect([first.status, retry.status]).toEqual([202, 202]);
    expect(first.body.id).toBe(id);
    expect(retry.body).toEqual(first.body);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    // Same key, other content: 409 naming the key, and the first transaction stands.
    for (const amount of [6, 7]) {
      const other = await post(ingest.url, { from: 'frank', to: 'gina', amount }, { 'Idempotency-Key': key });
      expect(other.status).toBe(409);
      expect(other.body.error).toMatchObject({ code: 'idempotency-conflict', field: 'Idempotency-Key', id });
      expect(other.body.error.message).toContain(`Idempotency-Key "${key}"`);
    }
    // Another sender with the same key gets ids of its own: nobody can squat frank's.
    const squatter = await post(ingest.url, { from: 'mallory', to: 'gina', amount: 6 }, { 'Idempotency-Key': key });
    expect(squatter.status).toBe(202);
    expect(squatter.body.id).not.toBe(id);
    // A client-chosen id is held the same way.
    const own = uniqueTopic('own');
    expect((await post(ingest.url, { id: own, from: 'frank', to: 'gina', amount: 1 })).status).toBe(202);
    const taken = await post(ingest.url, { id: own, from: 'mallory', to: 'gina', amount: 1 });
    expect(taken.status).toBe(409);
    expect(taken.body.error).toMatchObject({ code: 'idempotency-conflict', field: 'id', id: own });
    await eventually(() => expect(reader.byId(id).map((message) => [message.offset, (message.value as { amount: number }).amount])).toEqual([[first.body.offset, 5]]), 30_000);
    await eventually(() => expect(reader.byId(own)).toHaveLength(1), 30_000);
  });

  it('reports the right offsets for concurrent requests that share produce requests', async () => {
    const key = uniqueTopic('concurrent');
    const replies = await Promise.all(
      Array.from({ length: 24 }, (_, request) =>
        post(
          ingest.url,
          Array.from({ length: 1 + (request % 4) }, (_, item) => ({ from: `sender-${(request + item) % 7}`, to: 'pool', amount: 1 + item })),
          { 'Idempotency-Key': `${key}-r${request}` },
        ),
      ),
    );
    const accepted = replies.flatMap((reply) => {
      expect(reply.status).toBe(202);
      return reply.body.transactions as { id: string; partition: number; offset: number }[];
    });
    expect(new Set(accepted.map(({ partition, offset }) => `${partition}:${offset}`)).size).toBe(accepted.length);
    for (const { id, partition, offset } of accepted) {
      expect(await consumed(id)).toMatchObject({ partition, offset });
    }
  });

  it('passes a signed transaction through byte for byte in meaning', async () => {
    const signer = signerFromSeed(createHash('sha256').update('ingest integration signer').digest());
    const signed = signTransaction({ id: uniqueTopic('signed'), from: 'henry', to: 'iris', amount: 9, timestamp: 1_700_000_000_000 }, signer);
    const reply = await post(ingest.url, signed);
    expect(reply.status).toBe(202);
    expect((await consumed(signed.id)).value).toEqual(signed);
  });

  it('accepts a gzip-encoded body and charset=utf-8', async () => {
    const id = uniqueTopic('gzip');
    const reply = await post(ingest.url, gzipSync(JSON.stringify({ id, from: 'jo', to: 'kim', amount: 1 })), {
      'content-type': 'application/json; charset=UTF-8',
      'content-encoding': 'gzip',
    });
    expect(reply.status).toBe(202);
    expect(reply.body.id).toBe(id);
  });
});

describe('bad input', () => {
  const valid = { from: 'alice', to: 'bob', amount: 3 };
  const batchWithBadItem = [valid, valid, valid, { ...valid, amount: 3.5 }, valid];
  const cases: { name: string; body: unknown; headers?: Record<string, string>; status: number; error: Record<string, unknown> }[] = [
    { name: 'malformed JSON', body: '{"from": "alice",', status: 400, error: { code: 'malformed-json', field: '$' } },
    { name: 'an empty body', body: '', status: 400, error: { code: 'malformed-json', problem: 'is empty' } },
    { name: 'a string amount', body: { ...valid, amount: '3' }, status: 400, error: { code: 'invalid-transaction', field: 'amount', problem: 'must be a number' } },
    { name: 'a negative amount', body: { ...valid, amount: -3 }, status: 400, error: { code: 'invalid-transaction', field: 'amount', problem: 'must be at least 1' } },
    { name: 'a zero amount', body: { ...valid, amount: 0 }, status: 400, error: { code: 'invalid-transaction', field: 'amount', problem: 'must be at least 1' } },
    { name: 'a non-finite amount', body: '{"from":"alice","to":"bob","amount":1e400}', status: 400, error: { code: 'invalid-transaction', field: 'amount' } },
    { name: 'an over-precise amount', body: { ...valid, amount: 3.5 }, status: 400, error: { code: 'invalid-transaction', field: 'amount', problem: 'must be an integer number of minor units' } },
    { name: 'an oversize account', body: { ...valid, to: 'b'.repeat(65) }, status: 400, error: { code: 'invalid-transaction', field: 'to' } },
    { name: 'an unknown field', body: { ...valid, note: 'x' }, status: 400, error: { code: 'invalid-transaction', field: 'note', problem: 'is not a known field' } },
    { name: 'a missing field', body: { from: 'alice', amount: 3 }, status: 400, error: { code: 'invalid-transaction', field: 'to', problem: 'is required' } },
    { name: 'a body that is a number', body: 42, status: 400, error: { code: 'invalid-transaction', field: '$' } },
    { name: 'a batch with one bad item', body: batchWithBadItem, status: 400, error: { code: 'invalid-transaction', field: 'amount', index: 3 } },
    { name: 'an empty batch', body: [], status: 400, error: { code: 'empty-batch' } },
    { name: 'an oversize batch', body: Array.from({ length: 51 }, () => valid), status: 413, error: { code: 'batch-too-large' } },
    { name: 'an oversize body', body: { ...valid, to: 'x'.repeat(20_000) }, status: 413, error: { code: 'body-too-large' } },
    { name: 'a bad signature', body: { ...valid, id: 'sig', timestamp: 1, publicKey: 'a'.repeat(64), signature: 'b'.repeat(128) }, status: 400, error: { code: 'invalid-signature', field: 'signature' } },
    { name: 'an invalid Idempotency-Key', body: valid, headers: { 'Idempotency-Key': 'not valid!' }, status: 400, error: { code: 'invalid-idempotency-key', field: 'Idempotency-Key' } },
    { name: 'text/plain', body: JSON.stringify(valid), headers: { 'content-type': 'text/plain' }, status: 415, error: { code: 'unsupported-media-type', field: 'Content-Type' } },
    { name: 'form data', body: 'from=alice', headers: { 'content-type': 'application/x-www-form-urlencoded' }, status: 415, error: { code: 'unsupported-media-type' } },
    { name: 'a non-UTF-8 charset', body: JSON.stringify(valid), headers: { 'content-type': 'application/json; charset=latin1' }, status: 415, error: { code: 'unsupported-media-type' } },
    { name: 'an unknown content encoding', body: JSON.stringify(valid), headers: { 'content-encoding': 'zstd-ish' }, status: 415, error: { code: 'unsupported-encoding' } },
  ];

  it('answers each with its 4xx JSON error naming the problem, and writes nothing', async () => {
    const endBefore = await topicEnd(kafka, topic);
    const acceptedBefore = await metricValue(ingest.registry, 'chainlog_ingest_transactions_accepted_total');
    for (const { name, body, headers, status, error } of cases) {
      const reply = await post(ingest.url, body, headers);
      expect({ name, status: reply.status }).toEqual({ name, status });
      expect(reply.headers.get('content-type')).toMatch(/^application\/json/);
      expect(reply.body.error, name).toMatchObject(error);
      expect(reply.body.error.message, name).toEqual(expect.any(String));
    }
    // Whatever was in flight from earlier tests has landed: the topic did not grow.
    expect(await topicEnd(kafka, topic)).toBe(endBefore);
    expect(await metricValue(ingest.registry, 'chainlog_ingest_transactions_accepted_total')).toBe(acceptedBefore);
    expect(await metricValue(ingest.registry, 'chainlog_ingest_transactions_rejected_total', { reason: 'invalid-field' })).toBeGreaterThanOrEqual(5 + 9);
    for (const reason of ['malformed-json', 'empty-batch', 'batch-too-large', 'body-too-large', 'unsupported-media-type', 'bad-signature', 'unsupported-encoding']) {
      expect(await metricValue(ingest.registry, 'chainlog_ingest_transactions_rejected_total', { reason }), reason).toBeGreaterThan(0);
    }
  });
});

describe('operational endpoints', () => {
  it('reports health, readiness with the partition count, and metrics', async () => {
    expect(await getJson(`${ingest.url}/healthz`)).toEqual({ status: 200, body: { status: 'ok' } });
    expect(await getJson(`${ingest.url}/readyz`)).toEqual({ status: 200, body: { status: 'ready', topic, partitions: PARTITIONS } });
    const metrics = await (await fetch(`${ingest.url}/metrics`)).text();
    for (const name of [
      'chainlog_ingest_transactions_accepted_total',
      'chainlog_ingest_transactions_rejected_total',
      'chainlog_ingest_produce_duration_seconds_bucket',
      'chainlog_ingest_inflight_requests',
      'chainlog_ingest_batch_size_bucket',
      'chainlog_ingest_topic_partitions',
    ]) {
      expect(metrics).toContain(name);
    }
    expect(await metricValue(ingest.registry, 'chainlog_ingest_inflight_requests')).toBe(0);
  });

  it('serves the OpenAPI document with the instance’s limits', async () => {
    const { status, body } = await getJson(`${ingest.url}/openapi.json`);
    expect(status).toBe(200);
    expect(body).toEqual(buildOpenApiDocument({ maxBatchSize: 50, maxBodyBytes: 16384 }));
  });

  it('is not ready and answers 503 with Retry-After while the topic does not exist', async () => {
    const missing = await startIngest({ TOPIC_TRANSACTIONS: uniqueTopic('ingest-missing'), RETRY_AFTER_SECONDS: '3' });
    try {
      await eventually(async () => {
        const readiness = await getJson(`${missing.url}/readyz`);
        expect(readiness.status).toBe(503);
        expect(readiness.body.reason).toMatch(/does not exist/);
      }, 30_000);
      const reply = await post(missing.url, { from: 'alice', to: 'bob', amount: 1 });
      expect(reply.status).toBe(503);
      expect(reply.headers.get('retry-after')).toBe('3');
      expect(reply.body.error.code).toBe('kafka-unavailable');
    } finally {
      await missing.stop();
    }
  });
});
