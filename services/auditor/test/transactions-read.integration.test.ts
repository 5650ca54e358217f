// Read-your-writes on a real broker (docs/architecture.md): a transaction whose record is on the transactions
// topic is never answered `unknown`, however soon after the write's acknowledgement it is asked for, because a
// lookup that finds nothing first waits for the auditor's transactions follower to read up to the end offsets
// fetched after the request arrived. A follower that cannot get there in time (here: not started yet, as when
// the auditor starts before the chain exists) makes the answer a retryable 503, never `unknown`; an id that is
// truly not on the topic is still a 404 `unknown`.
import type { Kafka, Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTopics } from '@chainlog/core/kafka';
import { eventually, kafkaBrokers, testKafka, uniqueTopic } from '../../../test/support/kafka.js';
import { readConfig } from '../src/config.js';
import { PENDING_RETRY_SECONDS } from '../src/http/routes.js';
import type { AuditorService } from '../src/service.js';
import { ChainBuilder, PARAMS_ENV } from './support/chain-builder.js';
import { openApiValidator } from './support/openapi-validator.js';
import { RunningAuditors } from './support/running-auditors.js';
import { untilDecided } from './support/until-decided.js';

const validate = openApiValidator();
const PARTITIONS = 2;
const auditors = new RunningAuditors();
let kafka: Kafka;
let producer: Producer;

type Topics = { blockchain: string; transactions: string; audit: string; checkpoints: string };

function newTopics(): Topics {
  return { blockchain: uniqueTopic('blockchain'), transactions: uniqueTopic('transactions'), audit: uniqueTopic('audit'), checkpoints: uniqueTopic('checkpoints') };
}

function config(topics: Topics, overrides: Record<string, string> = {}) {
  return readConfig({
    ...PARAMS_ENV,
    KAFKA_BROKERS: kafkaBrokers(),
    KAFKA_CLIENT_ID: 'chainlog-auditor-read-test',
    TOPIC_BLOCKCHAIN: topics.blockchain,
    TOPIC_TRANSACTIONS: topics.transactions,
    TOPIC_AUDIT: topics.audit,
    TOPIC_CHECKPOINTS: topics.checkpoints,
    AUDIT_PUBLISH: 'false',
    HTTP_PORT: '0',
    LOG_LEVEL: 'silent',
    ...overrides,
  });
}

async function api(service: AuditorService, path: string): Promise<{ status: number; body: Record<string, unknown>; retryAfter: string | null }> {
  const response = await fetch(`http://127.0.0.1:${auditors.port(service)}${path}`);
  return { status: response.status, body: (await response.json()) as Record<string, unknown>, retryAfter: response.headers.get('retry-after') };
}

/** Writes kcat-style records (derived ids) to one partition; resolves with their ids once acknowledged by every in-sync replica. */
async function write(topic: string, partition: number, count: number): Promise<string[]> {
  const [ack] = await producer.send({
    topic,
    acks: -1,
    messages: Array.from({ length: count }, (_, i) => ({ partition, value: JSON.stringify({ from: 'alice', to: `acct-${i % 5}`, amount: i + 1 }) })),
  });
  const base = Number(ack?.baseOffset);
  return Array.from({ length: count }, (_, i) => `tx:${topic}:${partition}:${base + i}`);
}

/** The answer for `id`; a 503 (only ever pending-catching-up, as the OpenAPI document declares it) is asked again. */
async function statusOf(service: AuditorService, id: string): Promise<{ status: number; body: Record<string, unknown>; retries: number }> {
  return untilDecided(async () => {
    const answer = await api(service, `/v1/transactions/${id}`);
    if (answer.status === 503) validate('PendingCatchingUp', answer.body);
    return answer;
  });
}

async function createTopics(topics: Topics, withChain: boolean): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await ensureTopics(admin, [
      { topic: topics.transactions, partitions: PARTITIONS },
      ...(withChain ? [{ topic: topics.blockchain, partitions: 1 }] : []),
    ]);
  } finally {
    await admin.disconnect();
  }
  if (withChain) await producer.send({ topic: topics.blockchain, acks: -1, messages: new ChainBuilder().messages().map((value) => ({ value })) });
}

beforeAll(async () => {
  kafka = testKafka();
  producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
}, 60_000);

afterAll(async () => {
  await auditors.stopAll();
  await producer?.disconnect();
});

describe('a transaction lookup right after the write is acknowledged', () => {
  const topics = newTopics();
  let service: AuditorService;

  beforeAll(async () => {
    await createTopics(topics, true);
    service = await auditors.start(config(topics));
    // The follower has read the topic once (empty): what follows measures the lookups, not the start-up.
    await eventually(() => expect(service.transactions.state).toBe('caught-up'), 30_000);
  }, 90_000);

  it('is never unknown: each record, asked for at once, is pending (or committed)', async () => {
    for (let round = 0; round < 40; round++) {
      const [id] = await write(topics.transactions, round % PARTITIONS, 1);
      const { status, body } = await statusOf(service, id as string);
      expect(status, `round ${round}: ${JSON.stringify(body)}`).toBe(200);
      expect(['pending', 'committed']).toContain(body.status);
      expect(body.transactionId).toBe(id);
    }
  }, 120_000);

  it('is never unknown for the last record of a burst, nor for the first', async () => {
    const ids = await write(topics.transactions, 1, 300);
    for (const id of [ids.at(-1), ids[0]] as string[]) {
      const { status, body } = await statusOf(service, id);
      expect(status, JSON.stringify(body)).toBe(200);
      expect(body).toMatchObject({ status: 'pending', partition: 1, transactionId: id });
    }
  }, 60_000);

  it('still answers 404 unknown for an id that is on no record, and counts it', async () => {
    const before = (await auditors.metric(service, 'chainlog_auditor_transaction_lookups_not_found_total', 'outcome="unknown"')) ?? 0;
    const { status, body, retries } = await statusOf(service, `tx:${topics.transactions}:0:999999`);
    expect(status).toBe(404);
    validate('UnknownTransaction', body);
    expect(body).toMatchObject({ status: 'unknown' });
    expect(retries).toBe(0);
    expect(await auditors.metric(service, 'chainlog_auditor_transaction_lookups_not_found_total', 'outcome="unknown"')).toBe(before + 1);
  }, 30_000);
});

describe('a transaction lookup while the transactions follower cannot have read the topic', () => {
  it('answers 503 pending-catching-up (never unknown) until it has, then pending', async () => {
    // With a replay window the follower starts after the chain is found (it reads from the checkpoint's
    // offsets): an auditor started before the blockchain topic exists has read no record yet.
    const topics = newTopics();
    await createTopics(topics, false);
    const [id] = await write(topics.transactions, 0, 1);
    const service = await auditors.launch(config(topics, { REPLAY_WINDOW_MS: '600000' }));
    for (const asked of [id as string, `tx:${topics.transactions}:0:999999`]) {
      const { status, body, retryAfter } = await api(service, `/v1/transactions/${asked}`);
      expect(status, JSON.stringify(body)).toBe(503);
      expect(retryAfter).toBe(String(PENDING_RETRY_SECONDS));
      validate('PendingCatchingUp', body);
      expect(body.error).toMatchObject({ code: 'pending-catching-up' });
      // How far behind, once the end offsets are fetched (a loaded broker may not answer within the wait: then 0 and 0).
      const { partitionsBehind, recordsBehind } = body.error as { partitionsBehind: number; recordsBehind: number };
      if (partitionsBehind > 0) expect({ partitionsBehind, recordsBehind }).toEqual({ partitionsBehind: 1, recordsBehind: 1 });
    }
    expect(await auditors.metric(service, 'chainlog_auditor_transaction_lookups_not_found_total', 'outcome="pending-catching-up"')).toBe(2);

    await createTopics(topics, true);
    await service.caughtUpNow(60_000);
    const { status, body } = await statusOf(service, id as string);
    expect(status, JSON.stringify(body)).toBe(200);
    expect(body).toMatchObject({ status: 'pending', partition: 0, offset: 0 });
    expect((await statusOf(service, `tx:${topics.transactions}:0:999999`)).status).toBe(404);
    await auditors.stop(service);
  }, 120_000);
});
