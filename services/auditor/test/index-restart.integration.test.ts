// The auditor's index on disk (DATA_DIR) against a real broker, on a chain with a replay window and a miner's
// signed checkpoint (and a newer one signed by an outsider, refused): a fresh volume continues from the checkpoint, is ready at the tip and back-fills the
// blocks below it, never answering "unknown" for a committed transaction meanwhile; a restart on the same
// volume answers old ids at once, without a back-fill, and shows the audit log and overdrafts it had (counted
// once); a broker too slow for the start-up check is asked again, not taken for a recreated topic; an index open
// when the OS stopped is rebuilt; a volume whose chain is no longer the topic's (the topic recreated with another
// chain) is detected and rebuilt, never served.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isDeepStrictEqual } from 'node:util';
import { join } from 'node:path';
import type { Kafka, Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureCheckpointTopic, ensureTopics, probeMessageAt } from '@chainlog/core/kafka';
import { type Block, type InclusionProof, type Signer, type Transaction, verifyInclusionProof } from '@chainlog/core/protocol';
import { eventually, kafkaBrokers, testKafka, uniqueTopic } from '../../../test/support/kafka.js';
import { readConfig } from '../src/config.js';
import type { AuditorService, AuditorServiceOptions } from '../src/service.js';
import { ChainBuilder, minerA, outsider, PARAMS_ENV, topicTransaction } from './support/chain-builder.js';
import { publishCheckpoint } from './support/publish-checkpoint.js';
import { RunningAuditors } from './support/running-auditors.js';
import { untilDecided } from './support/until-decided.js';

const WINDOW_MS = 600_000;
const topics = { blockchain: uniqueTopic('blockchain'), transactions: uniqueTopic('transactions'), audit: uniqueTopic('audit'), checkpoints: uniqueTopic('checkpoints') };
const T0 = Date.now() - 60_000;
/** Blocks after genesis; the checkpoint is at CHECKPOINT_AT, so the blocks below it are back-filled. */
const BLOCKS = 12;
const CHECKPOINT_AT = 9;
const RECORDS_PER_BLOCK = 3;

let kafka: Kafka;
let producer: Producer;
let blocks: Block[];
const dataDirs: string[] = [];
const auditors = new RunningAuditors();

function env(dataDir: string, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    ...PARAMS_ENV,
    REPLAY_WINDOW_MS: String(WINDOW_MS),
    KAFKA_BROKERS: kafkaBrokers(),
    KAFKA_CLIENT_ID: 'chainlog-auditor-index-test',
    TOPIC_BLOCKCHAIN: topics.blockchain,
    TOPIC_TRANSACTIONS: topics.transactions,
    TOPIC_AUDIT: topics.audit,
    TOPIC_CHECKPOINTS: topics.checkpoints,
    AUDIT_PUBLISH: 'false',
    DATA_DIR: dataDir,
    HTTP_PORT: '0',
    LOG_LEVEL: 'silent',
    ...overrides,
  };
}

function newDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'chainlog-auditor-data-'));
  dataDirs.push(dir);
  return dir;
}

function startService(dataDir: string, overrides: Record<string, string> = {}, options: AuditorServiceOptions = {}): Promise<AuditorService> {
  return auditors.start(readConfig(env(dataDir, overrides)), options);
}

async function api(service: AuditorService, path: string): Promise<{ status: number; body: Record<string, unknown>; retryAfter: string | null }> {
  const response = await fetch(`http://127.0.0.1:${auditors.port(service)}${path}`);
  return { status: response.status, body: (await response.json()) as Record<string, unknown>, retryAfter: response.headers.get('retry-after') };
}

/** The audit report's findings (not the head or the commit lag, which move with time). */
function findings(report: Record<string, unknown>): Record<string, unknown> {
  const { rejected, forks, anomalies, overdrafts } = report;
  return { rejected, forks, anomalies, overdrafts };
}

/** What the auditor's counters say it found: rejections by reason, overdrafts. */
async function foundMetrics(service: AuditorService): Promise<Record<string, number | undefined>> {
  return {
    stale: await auditors.metric(service, 'chainlog_auditor_blocks_rejected_total', 'reason="stale"'),
    malformed: await auditors.metric(service, 'chainlog_auditor_blocks_rejected_total', 'reason="malformed"'),
    overdrafts: await auditors.metric(service, 'chainlog_auditor_overdrafts_total'),
  };
}

/** Records of partition 0 and a chain committing them (derived ids, exempt from the window) signed by miner A. */
async function publishChain(): Promise<Block[]> {
  const builder = new ChainBuilder();
  for (let block = 0; block < BLOCKS; block++) {
    const first = block * RECORDS_PER_BLOCK;
    const offsets = Array.from({ length: RECORDS_PER_BLOCK }, (_, i) => first + i);
    builder.next({
      transactions: offsets.map((offset) => topicTransaction(topics.transactions, 0, offset, { to: `acct-${offset % 4}`, amount: offset + 1 }, T0 + offset)),
      sources: [{ topic: topics.transactions, partition: 0, firstOffset: first, lastOffset: first + RECORDS_PER_BLOCK - 1 }],
      timestamp: T0 + 10_000 + block * 1000,
    });
  }
  const records = BLOCKS * RECORDS_PER_BLOCK;
  await producer.send({
    topic: topics.transactions,
    acks: -1,
    messages: Array.from({ length: records }, (_, offset) => ({
      partition: 0,
      key: 'alice',
      value: JSON.stringify({ from: 'alice', to: `acct-${offset % 4}`, amount: offset + 1 }),
      timestamp: String(T0 + offset),
    })),
  });
  // After the chain (blocks stay at offset = index): a replayed block (stale, a fork reason) and garbage
  // (malformed), rejected above the checkpoint, so every start replays them; alice pays without funds: overdrafts.
  const tampering = [builder.messages()[3] as Buffer, Buffer.from('not a block')];
  await producer.send({ topic: topics.blockchain, acks: -1, messages: [...builder.messages(), ...tampering].map((value) => ({ value })) });
  return builder.blocks;
}

/** A checkpoint at block `at` (offset = index: the topic holds the chain only), as miner A would write it by default. */
function writeCheckpoint(at = CHECKPOINT_AT, writer = 'miner-0', signer: Signer = minerA): Promise<void> {
  const params = readConfig(env('/unused')).consensus;
  return publishCheckpoint({ kafka, params, blocks, at, blockchainTopic: topics.blockchain, checkpointTopic: topics.checkpoints, writer, signer });
}

const idAt = (index: number, position: number): string => (blocks[index]?.transactions[position]?.id as string) ?? '';

beforeAll(async () => {
  kafka = testKafka();
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [
    { topic: topics.blockchain, partitions: 1 },
    { topic: topics.transactions, partitions: 1 },
  ]);
  await ensureCheckpointTopic(admin, topics.checkpoints);
  await admin.disconnect();
  producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  blocks = await publishChain();
  await writeCheckpoint();
  // The newest checkpoint on the topic, signed by a key that may not write blocks: refused, never trusted.
  await writeCheckpoint(BLOCKS - 1, 'intruder', outsider);
}, 120_000);

afterAll(async () => {
  await auditors.stopAll();
  await producer?.disconnect();
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
});

describe('the auditor index on disk', () => {
  let dataDir: string;
  /** What an auditor that replayed the whole chain (no DATA_DIR, no checkpoint) answers. */
  const reference = new Map<string, Record<string, unknown>>();
  let oldIds: string[];
  let paths: string[];
  /** The fresh volume's audit report and counted findings, which a restart must show unchanged. */
  let audit: Record<string, unknown>;
  let found: Record<string, number | undefined>;
  beforeAll(() => {
    oldIds = [idAt(1, 1), idAt(4, 0), idAt(CHECKPOINT_AT - 1, 2)];
    paths = [...oldIds.map((id) => `/v1/transactions/${id}`), '/v1/accounts/acct-1', '/v1/accounts/miner-a', '/v1/blocks/2'];
  });

  it('fresh volume: continues from the checkpoint, ready at the tip, old ids 503 index-building (never unknown) until back-filled', async () => {
    const replay = await startService(newDataDir(), { DATA_DIR: '', CHECKPOINT_RESTORE: 'false' });
    try {
      for (const path of paths) reference.set(path, (await api(replay, path)).body);
    } finally {
      await auditors.stop(replay);
    }
    expect(reference.get(paths[0] as string)).toMatchObject({ status: 'committed', blockIndex: 1 });

    dataDir = newDataDir();
    const service = await startService(dataDir);
    expect(await auditors.metric(service, 'chainlog_checkpoint_restores_total', 'outcome="restored"')).toBe(1);
    expect(await auditors.metric(service, 'chainlog_checkpoint_rejected_total', 'problem="untrusted-signer"')).toBe(1);
    expect(service.state.indexProgress()).toMatchObject({ height: BLOCKS });
    // Ready at the tip: the blocks after the checkpoint are answered at once.
    const late = await api(service, `/v1/transactions/${idAt(BLOCKS, 1)}`);
    expect(late.body).toMatchObject({ status: 'committed', blockIndex: BLOCKS, confirmations: 1 });
    const proof = late.body.proof as InclusionProof;
    expect(verifyInclusionProof(late.body.transaction as Transaction, proof, blocks[BLOCKS]?.merkleRoot as string)).toBe(true);
    // Until the back-fill is done, an old id is either answered right or refused as retryable: never "unknown",
    // never another answer than the replay's. Every answer is recorded; the wait only ends on all answered.
    // (On this small chain the back-fill may finish before the first request: the 503's shape is tested on the API.)
    const wrong: unknown[] = [];
    await eventually(async () => {
      let answered = 0;
      for (const path of paths) {
        const { status, body, retryAfter } = await api(service, path);
        if (status === 503 && (body.error as { code?: string }).code === 'index-building' && Number(retryAfter) > 0) continue;
        // Deep equality: JSON objects have no key order (a transaction sliced from the wire bytes has its keys sorted).
        if (status === 200 && isDeepStrictEqual(body, reference.get(path))) answered++;
        else wrong.push({ path, status, body });
      }
      expect(answered).toBe(paths.length);
    }, 60_000);
    expect(wrong).toEqual([]);
    expect(await auditors.metric(service, 'chainlog_auditor_index_missing_blocks')).toBe(0);
    await eventually(async () => expect(await auditors.metric(service, 'chainlog_chain_verification_ratio')).toBe(1), 30_000);
    audit = findings((await api(service, '/v1/audit')).body);
    expect(audit).toMatchObject({ rejected: { total: 2, byReason: { stale: 1, malformed: 1 } }, forks: { total: 1 } });
    expect((audit.overdrafts as { total: number; recent: unknown[] }).recent.length).toBeGreaterThan(0);
    found = await foundMetrics(service);
    expect(found).toMatchObject({ stale: 1, malformed: 1 });
    expect(found.overdrafts).toBe((audit.overdrafts as { total: number }).total);
    await auditors.stop(service);
  }, 180_000);

  it('restart on the same volume: old ids and balances answered at once, nothing rebuilt', async () => {
    const service = await startService(dataDir);
    expect(service.state.indexProgress()).toMatchObject({ complete: true, ledgerComplete: true, height: BLOCKS });
    for (const path of paths) expect((await api(service, path)).body).toEqual(reference.get(path));
    // The audit log and the recent overdrafts survived the restart as they were (when observed included), and the
    // replayed rejections were neither recorded nor counted again.
    expect(findings((await api(service, '/v1/audit')).body)).toEqual(audit);
    expect(await foundMetrics(service)).toEqual(found);
    for (const reason of ['other-chain', 'not-on-chain', 'corrupt', 'unsupported-format', 'os-crash']) {
      expect(await auditors.metric(service, 'chainlog_auditor_index_rebuilds_total', `reason="${reason}"`)).toBe(0);
    }
    await auditors.stop(service);
  }, 120_000);

  it('a broker too slow to answer the start-up check: the index is kept and the check retried (not ready meanwhile), never rebuilt', async () => {
    let asked = 0;
    const readiness: unknown[] = [];
    // The real broker, asked twice with a deadline it cannot meet: what a slow or paused broker looks like at start-up.
    const slowAtFirst: typeof probeMessageAt = (client, topic, offset, logger) => {
      asked++;
      // The service being started (listening already: startService registers it before start()).
      const starting = auditors.latest();
      if (starting !== undefined) readiness.push({ ready: starting.readiness().ready, blockchain: starting.readiness().detail.blockchain });
      return probeMessageAt(client, topic, offset, logger, asked <= 2 ? 1 : 15_000);
    };
    const service = await startService(dataDir, {}, { probeMessageAt: slowAtFirst });
    expect(asked).toBe(3);
    expect(await auditors.metric(service, 'chainlog_auditor_index_check_retries_total')).toBe(2);
    // Between the attempts the auditor said why it was not ready.
    expect(readiness.slice(1)).toEqual([
      { ready: false, blockchain: 'checking-stored-index' },
      { ready: false, blockchain: 'checking-stored-index' },
    ]);
    for (const reason of ['other-chain', 'not-on-chain', 'corrupt', 'unsupported-format', 'os-crash']) {
      expect(await auditors.metric(service, 'chainlog_auditor_index_rebuilds_total', `reason="${reason}"`)).toBe(0);
    }
    expect(service.state.indexProgress()).toMatchObject({ complete: true, ledgerComplete: true, height: BLOCKS });
    for (const path of paths) expect((await api(service, path)).body).toEqual(reference.get(path));
    expect(service.readiness().ready).toBe(true);
    await auditors.stop(service);
  }, 120_000);

  it('an index open when the operating system stopped (its marker names another boot) is rebuilt as os-crash, then answers the same', async () => {
    writeFileSync(join(dataDir, 'index.open'), JSON.stringify({ bootId: 'a-boot-before-the-crash' }));
    const service = await startService(dataDir);
    expect(await auditors.metric(service, 'chainlog_auditor_index_rebuilds_total', 'reason="os-crash"')).toBe(1);
    await eventually(async () => expect(await auditors.metric(service, 'chainlog_auditor_index_missing_blocks')).toBe(0), 60_000);
    await eventually(async () => {
      for (const path of paths) expect((await api(service, path)).body).toEqual(reference.get(path));
    }, 30_000);
    await auditors.stop(service);
  }, 120_000);

  it('a volume whose chain is not the topic\'s any more (topic recreated with another chain) is rebuilt, never served', async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.deleteTopics({ topics: [topics.blockchain] });
      await eventually(async () => expect(await admin.listTopics()).not.toContain(topics.blockchain), 30_000);
      await eventually(async () => {
        await ensureTopics(admin, [{ topic: topics.blockchain, partitions: 1 }]);
        expect(Number((await admin.fetchTopicOffsets(topics.blockchain))[0]?.high)).toBe(0);
      }, 30_000);
    } finally {
      await admin.disconnect();
    }
    // Another chain: empty blocks with other timestamps, so every hash differs; as long as the old one and more.
    const other = new ChainBuilder();
    for (let block = 0; block < BLOCKS + 2; block++) other.next({ timestamp: T0 + 50_000 + block * 1000 });
    await producer.send({ topic: topics.blockchain, acks: -1, messages: other.messages().map((value) => ({ value })) });

    const service = await startService(dataDir);
    expect(await auditors.metric(service, 'chainlog_auditor_index_rebuilds_total', 'reason="not-on-chain"')).toBe(1);
    // The miner's checkpoint names the old chain's block: refused, and the auditor replays from genesis.
    expect(await auditors.metric(service, 'chainlog_checkpoint_rejected_total', 'problem="not-on-chain"')).toBe(1);
    expect((await api(service, '/v1/chain/head')).body).toMatchObject({ height: BLOCKS + 2, hash: other.tip.hash });
    // The old chain's transactions were never committed on this one: their records are pending again. Never
    // unknown, however far the transactions follower (started with the rebuild) is: until it has read the record,
    // a retryable 503 pending-catching-up (read-your-writes), asked again as a client would.
    const old = await untilDecided(() => api(service, `/v1/transactions/${oldIds[0]}`));
    expect(old.body).toMatchObject({ status: 'pending', partition: 0 });
    expect((await api(service, '/v1/blocks/2')).body).toMatchObject({ block: { hash: other.blocks[2]?.hash } });
    expect((await api(service, '/v1/accounts/acct-1')).status).toBe(404);
    await auditors.stop(service);
  }, 180_000);
});
