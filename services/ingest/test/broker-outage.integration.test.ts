// A broker that stops mid-test: ingest answers 503 with Retry-After within bounded time (never 202, never
// a hang), reports not ready, and accepts again once the broker is back, with the retried request's ids.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureTopics } from '@chainlog/core/kafka';
import { afterAll, describe, expect, it } from 'vitest';
import { startBroker, type RunningBroker } from '../../../scripts/lib/kafka-broker.js';
import { allocatePort } from '../../../scripts/lib/ports.js';
import { eventually, testKafka, uniqueTopic } from '../../../test/support/kafka.js';
import { idFromKey } from '../src/domain/ids.js';
import { getJson, post, startIngest, topicEnd, TopicReader, type RunningIngest } from './helpers.js';

const PRODUCE_TIMEOUT_MS = 2000;
const dataDir = mkdtempSync(join(tmpdir(), 'chainlog-ingest-outage-'));
let broker: RunningBroker | undefined;
let ingest: RunningIngest | undefined;

afterAll(async () => {
  await ingest?.stop();
  await broker?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('ingest when the broker goes away', () => {
  it('answers 503 with Retry-After in bounded time, then 202 again after the broker restarts', async () => {
    const ports = { port: await allocatePort(), controllerPort: await allocatePort() };
    broker = await startBroker({ dataDir, ...ports, heapMb: 256 });
    const kafka = testKafka(broker.brokers);
    const topic = uniqueTopic('ingest-outage');
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, [{ topic, partitions: 2 }]);
    await admin.disconnect();

    ingest = await startIngest({
      KAFKA_BROKERS: broker.brokers,
      TOPIC_TRANSACTIONS: topic,
      PRODUCE_TIMEOUT_MS: String(PRODUCE_TIMEOUT_MS),
      KAFKA_CONNECTION_TIMEOUT_MS: '1000',
      KAFKA_REQUEST_TIMEOUT_MS: '2000',
      METADATA_REFRESH_MS: '1000',
      RETRY_AFTER_SECONDS: '1',
      SHUTDOWN_GRACE_MS: '5000',
    });
    const url = ingest.url;
    await eventually(async () => expect((await getJson(`${url}/readyz`)).status).toBe(200), 30_000);
    const before = await post(url, { from: 'alice', to: 'bob', amount: 1 }, { 'Idempotency-Key': 'before-outage' });
    expect(before.status).toBe(202);

    await broker.stop();
    // Every request during the outage is answered 503 within the produce timeout (plus slack for a
    // loaded machine), whether it was sent to Kafka or waited behind a send that was.
    for (const attempt of [0, 1, 2]) {
      const reply = await post(url, { from: 'alice', to: 'bob', amount: 2 }, { 'Idempotency-Key': 'during-outage' });
      expect({ attempt, status: reply.status }).toEqual({ attempt, status: 503 });
      expect(reply.headers.get('retry-after')).toBe('1');
      expect(reply.body.error.code).toBe('kafka-unavailable');
      expect(reply.elapsedMs).toBeLessThan(PRODUCE_TIMEOUT_MS + 3000);
    }
    await eventually(async () => {
      const readiness = await getJson(`${url}/readyz`);
      expect(readiness.status).toBe(503);
      expect(readiness.body.status).toBe('not-ready');
      expect(readiness.body.reason).toEqual(expect.any(String));
    }, 30_000);

    broker = await startBroker({ dataDir, ...ports, heapMb: 256 });
    // The client retries the request it got 503 for, with the same Idempotency-Key, until accepted.
    const retried = await eventually(
      async () => {
        const reply = await post(url, { from: 'alice', to: 'bob', amount: 2 }, { 'Idempotency-Key': 'during-outage' });
        expect(reply.status).toBe(202);
        return reply;
      },
      90_000,
      500,
    );
    expect(retried.body.id).toBe(idFromKey('during-outage', undefined, 'alice'));
    await eventually(async () => expect((await getJson(`${url}/readyz`)).status).toBe(200), 30_000);

    // The acknowledged writes are on the topic where the 202s said. A send that timed out during the
    // outage may have landed too: then the id appears twice, and the chain keeps only the first.
    // A broker that has just restarted may still answer "does not host this topic-partition" to some
    // requests while it loads its logs: wait until both writes are visible in its offsets.
    await eventually(async () => expect(await topicEnd(kafka, topic)).toBeGreaterThanOrEqual(2), 60_000, 500);
    const reader = new TopicReader(kafka);
    await reader.start(topic);
    try {
      await eventually(() => {
        expect(reader.byId(idFromKey('before-outage', undefined, 'alice')).map(({ partition, offset }) => ({ partition, offset }))).toEqual([
          { partition: before.body.partition, offset: before.body.offset },
        ]);
        expect(reader.byId(idFromKey('during-outage', undefined, 'alice')).map(({ partition, offset }) => ({ partition, offset }))).toContainEqual({
          partition: retried.body.partition,
          offset: retried.body.offset,
        });
      }, 30_000);
    } finally {
      await reader.stop();
    }
  }, 300_000);
});
