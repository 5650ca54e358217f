// The auditor against a real broker: a valid permissioned chain and every class of forged block written
// straight to a fresh blockchain topic; rejections reported in the API, the metrics and the audit topic;
// the canonical chain continuing past them; pending → committed with a verifiable proof; the verify
// command (topic and kcat dump) agreeing with the service; a restart catching up without re-publishing.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kafka, Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTopics } from '@chainlog/core/kafka';
import { encodeBlock, REJECTION_REASONS, toTransaction, type Transaction, verifyInclusionProof } from '@chainlog/core/protocol';
import { eventually, kafkaBrokers, testKafka, uniqueTopic } from '../../../test/support/kafka.js';
import { readConfig } from '../src/config.js';
import type { AuditEvent } from '../src/kafka/audit-event.js';
import type { VerifyReport } from '@chainlog/core/verify';
import { runCli } from '../../cli/src/cli.js';
import type { AuditorService } from '../src/service.js';
import { ChainBuilder, minerB, PARAMS_ENV, signedTransaction, topicTransaction } from './support/chain-builder.js';
import { forgeries, type Forgery } from './support/forgeries.js';
import { openApiValidator } from './support/openapi-validator.js';
import { RunningAuditors } from './support/running-auditors.js';

const validate = openApiValidator();
const topics = { blockchain: uniqueTopic('blockchain'), transactions: uniqueTopic('transactions'), audit: uniqueTopic('audit') };
const T0 = Date.now() - 120_000;

let kafka: Kafka;
let producer: Producer;
let service: AuditorService;
let builder: ChainBuilder;
/** Every message written to the blockchain topic, in offset order. */
const published: Buffer[] = [];
/** Offsets of the forgeries, with the reason each must get. */
const forged: Array<Forgery & { offset: number }> = [];

function env(): Record<string, string> {
  return {
    ...PARAMS_ENV,
    KAFKA_BROKERS: kafkaBrokers(),
    KAFKA_CLIENT_ID: 'chainlog-auditor-test',
    TOPIC_BLOCKCHAIN: topics.blockchain,
    TOPIC_TRANSACTIONS: topics.transactions,
    TOPIC_AUDIT: topics.audit,
    HTTP_PORT: '0',
    LOG_LEVEL: 'silent',
  };
}

const auditors = new RunningAuditors();

function startService(): Promise<AuditorService> {
  return auditors.start(readConfig(env()));
}

function portOf(at: AuditorService): number {
  return auditors.port(at);
}

async function publish(messages: Buffer[]): Promise<number> {
  const [ack] = await producer.send({ topic: topics.blockchain, acks: -1, messages: messages.map((value) => ({ value })) });
  published.push(...messages);
  return Number(ack?.baseOffset ?? -1);
}

async function api(path: string, at = service): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`http://127.0.0.1:${portOf(at)}${path}`);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function metricsText(at = service): Promise<string> {
  return (await fetch(`http://127.0.0.1:${portOf(at)}/metrics`)).text();
}

/** The value of one series, matching the given labels (and service="auditor"). */
function metric(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match?.[1] !== name) continue;
    const found = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (found.service !== 'auditor') continue;
    if (Object.entries(labels).every(([key, value]) => found[key] === value)) return Number(match[3]);
  }
  return undefined;
}

async function readAuditEvents(count: number): Promise<AuditEvent[]> {
  const consumer = kafka.consumer({ groupId: uniqueTopic('audit-reader') });
  const events: AuditEvent[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: topics.audit, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${events.length} of ${count} audit events`)), 30_000);
      void consumer.run({
        eachMessage: async ({ message }) => {
          events.push(JSON.parse(message.value?.toString('utf8') ?? 'null') as AuditEvent);
          if (events.length >= count) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return events;
}

async function auditTopicEnd(): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return Number((await admin.fetchTopicOffsets(topics.audit))[0]?.high ?? -1);
  } finally {
    await admin.disconnect();
  }
}

beforeAll(async () => {
  kafka = testKafka();
  const admin = kafka.admin();
  await admin.connect();
  // The audit topic is left to the auditor to create.
  await ensureTopics(admin, [
    { topic: topics.blockchain, partitions: 1 },
    { topic: topics.transactions, partitions: 2 },
  ]);
  await admin.disconnect();
  producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();

  // Three kcat-style transactions on partition 0, then a chain that commits them.
  await producer.send({
    topic: topics.transactions,
    acks: -1,
    messages: [0, 1, 2].map((i) => ({ partition: 0, key: 'alice', value: '{"from":"alice","to":"bob","amount":3}', timestamp: String(T0 + i) })),
  });
  builder = new ChainBuilder();
  const b1 = builder.next({
    transactions: [0, 1, 2].map((offset) => topicTransaction(topics.transactions, 0, offset, {}, T0 + offset)),
    sources: [{ topic: topics.transactions, partition: 0, firstOffset: 0, lastOffset: 2 }],
    timestamp: T0 + 5_000,
  });
  const b2 = builder.next({ transactions: [signedTransaction('v-1', 'carol', 'dave', 5, T0)], signer: minerB, miner: 'miner-b', timestamp: T0 + 6_000 });
  await publish(builder.messages());
  const attacks = forgeries(b2, b1.transactions[1] as Transaction, b1);
  const first = await publish(attacks.map((attack) => attack.bytes));
  attacks.forEach((attack, i) => forged.push({ ...attack, offset: first + i }));
  builder.next({ timestamp: T0 + 7_000 });
  builder.next({ timestamp: T0 + 8_000 });
  await publish(builder.blocks.slice(3).map(encodeBlock));

  service = await startService();
}, 120_000);

afterAll(async () => {
  if (service !== undefined) await auditors.stop(service);
  await producer?.disconnect();
});

describe('the auditor on a real broker', () => {
  it('rebuilds the canonical chain from the topic, past every forgery, and reports ready', async () => {
    const head = await api('/v1/chain/head');
    validate('Head', head.body);
    expect(head.body).toMatchObject({ height: 4, hash: builder.tip.hash, offset: published.length - 1, caughtUp: true, appliedOffset: published.length - 1 });
    expect((await api('/readyz')).status).toBe(200);
    const page = await api('/v1/blocks?from=0&limit=100');
    expect((page.body.blocks as Array<{ hash: string }>).map((block) => block.hash)).toEqual(builder.blocks.map((block) => block.hash));
    expect((await api('/v1/blocks/3')).body).toMatchObject({ offset: 3 + forged.length, confirmations: 2, block: builder.blocks[3] });
  });

  it('records every forged block with its offset, reason and claimed miner in /v1/audit', async () => {
    const { body } = await api('/v1/audit');
    validate('AuditReport', body);
    const report = body as never as {
      rejected: { total: number; byReason: Record<string, number>; recent: Array<{ offset: number; reason: string; claimedMiner: string | null; claimedIndex: number | null }> };
      forks: { total: number; recent: Array<{ offset: number; reason: string; canonicalHashAtIndex: string | null }> };
    };
    expect(report.rejected.total).toBe(forged.length);
    expect([...report.rejected.recent].reverse().map(({ offset, reason }) => ({ offset, reason }))).toEqual(
      forged.map(({ offset, reason }) => ({ offset, reason })),
    );
    for (const record of report.rejected.recent) {
      const forgery = forged.find((candidate) => candidate.offset === record.offset) as Forgery;
      if (forgery.reason === 'malformed') continue;
      expect(record.claimedMiner, forgery.name).toBe(forgery.name === 'replayed earlier block' ? 'miner-a' : 'miner-a');
      expect(record.claimedIndex, forgery.name).toBe(forgery.name === 'replayed earlier block' ? 1 : 3);
    }
    const expectedTotals = Object.fromEntries(REJECTION_REASONS.map((reason) => [reason, forged.filter((f) => f.reason === reason).length]));
    expect(report.rejected.byReason).toEqual(expectedTotals);
    // Forks listed apart: the broken hash link and the replayed block (the canonical block 1 it lost to).
    expect(report.forks.total).toBe(2);
    expect([...report.forks.recent].reverse()).toEqual([
      expect.objectContaining({ reason: 'fork', canonicalHashAtIndex: null }),
      expect.objectContaining({ reason: 'stale', canonicalHashAtIndex: builder.blocks[1]?.hash }),
    ]);
  });

  it('counts rejections by reason in chainlog_auditor_blocks_rejected_total, every reason pre-registered', async () => {
    const text = await metricsText();
    for (const reason of REJECTION_REASONS) {
      expect(metric(text, 'chainlog_auditor_blocks_rejected_total', { reason }), reason).toBe(forged.filter((f) => f.reason === reason).length);
    }
    expect(metric(text, 'chainlog_chain_height')).toBe(4);
    // All five blocks were on the topic before the auditor started: replayed history, not commits.
    expect(metric(text, 'chainlog_auditor_blocks_replayed_total')).toBe(5);
    expect(metric(text, 'chainlog_auditor_blocks_accepted_total')).toBe(0);
    expect(metric(text, 'chainlog_auditor_transactions_committed_total')).toBe(0);
    // These blocks were on the topic before the auditor started: replayed history is no commit latency.
    expect(metric(text, 'chainlog_transaction_commit_latency_seconds_count')).toBe(0);
    expect(metric(text, 'chainlog_auditor_caught_up')).toBe(1);
  });

  it('publishes one audit event per rejected block to the audit topic', async () => {
    await service.publisher?.flushed();
    const events = await readAuditEvents(forged.length);
    expect(events).toHaveLength(forged.length);
    for (const [i, forgery] of forged.entries()) {
      const event = events[i] as AuditEvent;
      expect(event, forgery.name).toMatchObject({
        schema: 'chainlog.audit.v1',
        type: 'block-rejected',
        id: `${topics.blockchain}:${forgery.offset}`,
        blockchainTopic: topics.blockchain,
        offset: forgery.offset,
        reason: forgery.reason,
        fork: forgery.reason === 'fork' || forgery.reason === 'stale',
        chainHeight: 2,
        auditor: 'chainlog-auditor-test',
      });
      expect(event.detail.length).toBeGreaterThan(0);
    }
    expect(metric(await metricsText(), 'chainlog_auditor_audit_events_published_total')).toBe(forged.length);
  });

  it('keeps balances, flags overdrafts and serves histories', async () => {
    const balances = Object.fromEntries(
      await Promise.all(['0', 'alice', 'bob', 'carol', 'dave', 'miner-a', 'miner-b'].map(async (id) => [id, (await api(`/v1/accounts/${id}`)).body.balance])),
    );
    expect(balances).toEqual({ '0': -200, alice: -9, bob: 9, carol: -5, dave: 5, 'miner-a': 150, 'miner-b': 50 });
    const audit = (await api('/v1/audit')).body as never as { overdrafts: { total: number; overdrawnAccounts: Array<{ account: string }> } };
    expect(audit.overdrafts.total).toBe(4);
    expect(audit.overdrafts.overdrawnAccounts.map((account) => account.account)).toEqual(['alice', 'carol']);
    const page = await api('/v1/accounts/bob?from=1&limit=1');
    expect(page.body).toMatchObject({ transactionCount: 3, next: 2, history: [{ transactionId: `tx:${topics.transactions}:0:1`, direction: 'credit' }] });
    expect((await api('/v1/accounts/bob?limit=500')).status).toBe(400);
    expect((await api('/v1/accounts/zed')).status).toBe(404);
    expect(await api('/v1/transactions/nope')).toMatchObject({ status: 404, body: { status: 'unknown' } });
  });

  it('shows a transaction pending with its partition lag, then committed with a proof that verifies', async () => {
    const enqueuedAt = Date.now() - 3_000;
    const value = '{"id":"late-1","from":"erin","to":"frank","amount":2}';
    await producer.send({ topic: topics.transactions, acks: -1, messages: [{ partition: 1, key: 'erin', value, timestamp: String(enqueuedAt) }] });
    const pending = await eventually(async () => {
      const response = await api('/v1/transactions/late-1');
      expect(response.body.status).toBe('pending');
      return response;
    });
    validate('PendingTransaction', pending.body);
    expect(pending.body).toMatchObject({ partition: 1, offset: 0, enqueuedAt: new Date(enqueuedAt).toISOString() });
    const lag = ((await api('/v1/audit')).body as never as { commitLag: Array<{ partition: number; pending: number; oldestAgeSeconds: number }> }).commitLag;
    expect(lag).toEqual([
      expect.objectContaining({ partition: 0, pending: 0, oldestAgeSeconds: 0 }),
      expect.objectContaining({ partition: 1, pending: 1 }),
    ]);
    expect(lag[1]?.oldestAgeSeconds).toBeGreaterThanOrEqual(3);
    let text = await metricsText();
    expect(metric(text, 'chainlog_auditor_pending_transactions', { partition: '1' })).toBe(1);
    expect(metric(text, 'chainlog_auditor_pending_transactions', { partition: '0' })).toBe(0);
    expect(metric(text, 'chainlog_auditor_oldest_pending_transaction_age_seconds', { partition: '1' })).toBeGreaterThanOrEqual(3);

    const transaction = toTransaction(JSON.parse(value) as never, { topic: topics.transactions, partition: 1, offset: 0, timestamp: enqueuedAt });
    const block = builder.next({ transactions: [transaction], sources: [{ topic: topics.transactions, partition: 1, firstOffset: 0, lastOffset: 0 }], timestamp: Date.now() });
    const offset = await publish([encodeBlock(block)]);
    await service.follower.waitUntilApplied(offset, 20_000);
    const committed = await api('/v1/transactions/late-1');
    validate('CommittedTransaction', committed.body);
    expect(committed.body).toMatchObject({ status: 'committed', blockIndex: 5, position: 1, blockHash: block.hash, confirmations: 1, merkleRoot: block.merkleRoot });
    const { transaction: stored, proof, merkleRoot } = committed.body as never;
    expect(stored).toEqual(transaction);
    expect(verifyInclusionProof(stored, proof, merkleRoot)).toBe(true);
    expect(verifyInclusionProof(stored, proof, builder.blocks[4]?.merkleRoot as string)).toBe(false);
    text = await metricsText();
    expect(metric(text, 'chainlog_auditor_pending_transactions', { partition: '1' })).toBe(0);
    expect(metric(text, 'chainlog_auditor_oldest_pending_transaction_age_seconds', { partition: '1' })).toBe(0);
    expect(metric(text, 'chainlog_auditor_blocks_accepted_total')).toBe(1);
    expect(metric(text, 'chainlog_auditor_transactions_committed_total')).toBe(1);
    // A live block: observed from the transaction's timestamp (at least 3 s ago) until the auditor saw it.
    expect(metric(text, 'chainlog_transaction_commit_latency_seconds_count')).toBe(1);
    expect(metric(text, 'chainlog_transaction_commit_latency_seconds_bucket', { le: '2' })).toBe(0);
  });

  it('agrees with chainlog chain verify on the topic and on a kcat dump: same height, head and rejections', async () => {
    const head = (await api('/v1/chain/head')).body;
    const audit = (await api('/v1/audit')).body as never as { rejected: { recent: Array<Record<string, unknown>> } };
    const serviceRejections = [...audit.rejected.recent]
      .reverse()
      .map(({ offset, reason, detail, claimedIndex, claimedMiner }) => ({ offset, reason, detail, claimedIndex, claimedMiner }));
    const asOffsets = (report: VerifyReport, toOffset: (position: number) => number) =>
      report.rejections.map(({ position, reason, detail, claimedIndex, claimedMiner }) => ({
        offset: toOffset(position),
        reason,
        detail,
        claimedIndex: claimedIndex ?? null,
        claimedMiner: claimedMiner ?? null,
      }));

    let out = '';
    // `chainlog chain verify`, in-process.
    const verify = (args: string[]): Promise<number> =>
      runCli({
        argv: ['chain', 'verify', ...args, '--json'],
        env: env(),
        stdout: { write: (text: string) => (out += text) },
        stderr: { write: () => true },
        stdin: (async function* () {})(),
        signal: new AbortController().signal,
      });
    expect(await verify(['--topic', topics.blockchain, '--brokers', kafkaBrokers()])).toBe(1);
    const fromTopic = JSON.parse(out) as VerifyReport;
    expect(fromTopic).toMatchObject({ height: head.height, headHash: head.hash, messages: published.length, rejected: forged.length });
    expect(asOffsets(fromTopic, (position) => position)).toEqual(serviceRejections);

    // kcat -C -e writes every message followed by a newline; use the real kcat when it is installed.
    const synthesized = Buffer.concat(published.flatMap((message) => [message, Buffer.from('\n')]));
    const kcat = spawnSync('kcat', ['-C', '-b', kafkaBrokers(), '-t', topics.blockchain, '-e', '-q'], { timeout: 30_000 });
    const dump = kcat.status === 0 ? kcat.stdout : synthesized;
    if (kcat.status === 0) expect(dump.equals(synthesized)).toBe(true);
    const path = join(mkdtempSync(join(tmpdir(), 'chainlog-dump-')), 'blockchain.jsonl');
    writeFileSync(path, dump);
    out = '';
    expect(await verify(['--file', path])).toBe(1);
    const fromFile = JSON.parse(out) as VerifyReport;
    expect(fromFile).toMatchObject({ height: head.height, headHash: head.hash, messages: published.length });
    expect(asOffsets(fromFile, (line) => line - 1)).toEqual(serviceRejections);
  });

  it('catches up from the topic after a restart, without publishing the audit events again', async () => {
    const before = {
      head: (await api('/v1/chain/head')).body,
      audit: (await api('/v1/audit')).body as never as { rejected: { recent: Array<Record<string, unknown>> } },
    };
    const auditEnd = await auditTopicEnd();
    expect(auditEnd).toBe(forged.length);
    await auditors.stop(service);

    // The chain grows while the auditor is down.
    const block = builder.next({ timestamp: Date.now() });
    const offset = await publish([encodeBlock(block)]);
    service = await startService();
    expect(service.follower.appliedOffset).toBe(offset);
    const head = (await api('/v1/chain/head')).body;
    expect(head).toMatchObject({ height: 6, hash: block.hash, caughtUp: true });
    const after = (await api('/v1/audit')).body as never as { rejected: { recent: Array<Record<string, unknown>> } };
    const withoutTime = (records: Array<Record<string, unknown>>) => records.map(({ observedAt: _observedAt, ...rest }) => rest);
    expect(withoutTime(after.rejected.recent)).toEqual(withoutTime(before.audit.rejected.recent));
    expect((await api('/v1/transactions/late-1')).body).toMatchObject({ status: 'committed', confirmations: 2 });
    expect((await api('/v1/accounts/frank')).body).toMatchObject({ balance: 2 });
    await service.publisher?.flushed();
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await auditTopicEnd()).toBe(auditEnd);
    expect(metric(await metricsText(), 'chainlog_auditor_audit_events_published_total')).toBe(0);
    expect(metric(await metricsText(), 'chainlog_auditor_blocks_rejected_total', { reason: 'malformed' })).toBe(2);
  });
});
