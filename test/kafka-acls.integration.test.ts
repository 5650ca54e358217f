// Kafka authentication and authorization against a real broker: SASL/SCRAM-SHA-512 with one principal per
// service and KRaft's StandardAuthorizer (no ACL, no access), the ACLs of scripts/lib/kafka-acls.ts. Every
// service works with its own principal (a transaction goes through ingest, a miner commits it, the auditor
// reports it), and what a principal is not granted is denied: ingest cannot write the blockchain, a miner
// cannot write transactions, the auditor cannot write the blockchain, a wrong password does not connect.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { checkpointTopicSpec, ensureTopics } from '@chainlog/core/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type RunningBroker } from '../scripts/lib/kafka-broker.js';
import { allocatePort } from '../scripts/lib/ports.js';
import { applyServiceAcls, DEFAULT_PRINCIPALS, saslAclBrokerProperties, scramFormatArguments } from '../scripts/lib/kafka-acls.js';
import { run, Stack } from './support/chaos.js';
import { getJson, ServiceProcess, SOURCE_NODE_ARGS } from './support/processes.js';
import { eventually } from './support/kafka.js';

// A replay-window chain, so that the miners write checkpoints (every block) and every reader restores from them:
// the checkpoint path runs under the ACLs too.
const CHECKPOINTS = `acls-checkpoints-${randomBytes(4).toString('hex')}`;
const REPLAY_ENV = { REPLAY_WINDOW_MS: '600000', TOPIC_CHECKPOINTS: CHECKPOINTS, CHECKPOINT_EVERY_BLOCKS: '1' };

const PASSWORDS = Object.fromEntries(Object.values(DEFAULT_PRINCIPALS).map((user) => [user, `scram-${randomBytes(12).toString('hex')}`]));

describe('Kafka SASL/SCRAM and ACLs: one principal per service, least privilege', () => {
  const dir = mkdtempSync(join(tmpdir(), 'chainlog-acls-'));
  const ports = { plain: 0, controller: 0, sasl: 0 };
  let broker: RunningBroker;
  let stack: Stack;

  const saslEnv = (user: string): Record<string, string> => ({
    KAFKA_BROKERS: `127.0.0.1:${ports.sasl}`,
    KAFKA_SASL_MECHANISM: 'scram-sha-512',
    KAFKA_SASL_USERNAME: user,
    KAFKA_SASL_PASSWORD: PASSWORDS[user] as string,
  });
  const client = (user: string, password = PASSWORDS[user] as string): Kafka =>
    new Kafka({
      clientId: `acl-test-${user}`,
      brokers: [`127.0.0.1:${ports.sasl}`],
      sasl: { mechanism: 'scram-sha-512', username: user, password },
      logLevel: logLevel.NOTHING,
      retry: { retries: 1 },
    });
  /** The error a write by `user` to `topic` ends with, or 'written'. */
  const write = async (user: string, topic: string): Promise<string> => {
    const producer = client(user).producer({ allowAutoTopicCreation: false });
    try {
      await producer.connect();
      await producer.send({ topic, messages: [{ key: 'x', value: '{"not":"a block"}' }] });
      return 'written';
    } catch (error) {
      // kafkajs reports the broker's TOPIC_AUTHORIZATION_FAILED as a type, or (metadata phase) in the message.
      const { type, message } = error as { type?: string; message: string };
      return type ?? (/Topic authorization failed/.test(message) ? 'TOPIC_AUTHORIZATION_FAILED' : message);
    } finally {
      await producer.disconnect().catch(() => undefined);
    }
  };

  beforeAll(async () => {
    ports.plain = await allocatePort();
    ports.controller = await allocatePort();
    ports.sasl = await allocatePort();
    broker = await startBroker({
      dataDir: join(dir, 'kafka'),
      port: ports.plain,
      controllerPort: ports.controller,
      heapMb: 384,
      // The plaintext listener on 127.0.0.1 is the test's admin (topics, ACLs); the services use SASL only.
      extraProperties: saslAclBrokerProperties(ports, ['User:ANONYMOUS']),
      formatArguments: scramFormatArguments(PASSWORDS),
    });
    stack = new Stack({
      brokers: broker.brokers,
      prefix: 'acls',
      partitions: 1,
      miners: 1,
      difficulty: 4,
      permissioned: true,
      supervise: false,
      ingestEnv: { ...saslEnv(DEFAULT_PRINCIPALS.ingest), REPLAY_WINDOW_MS: REPLAY_ENV.REPLAY_WINDOW_MS },
      // The group the ACLs grant the miners (the stack would otherwise pick a unique one).
      minerEnv: { ...saslEnv(DEFAULT_PRINCIPALS.miner), ...REPLAY_ENV, MINER_GROUP_ID: 'chainlog-miners' },
      auditorEnv: { ...saslEnv(DEFAULT_PRINCIPALS.auditor), ...REPLAY_ENV },
    });
    const admin = new Kafka({ clientId: 'acl-test-admin', brokers: [broker.brokers], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      // The provisioning makes the checkpoint topic (a service may not create topics).
      await ensureTopics(admin, [checkpointTopicSpec(CHECKPOINTS)]);
      await applyServiceAcls(admin, {
        transactions: stack.topics.TOPIC_TRANSACTIONS,
        blockchain: stack.topics.TOPIC_BLOCKCHAIN,
        audit: stack.topics.TOPIC_AUDIT,
        deadLetter: stack.topics.TOPIC_DEAD_LETTER,
        checkpoints: CHECKPOINTS,
      });
    } finally {
      await admin.disconnect();
    }
    await stack.start();
  }, 240_000);

  afterAll(async () => {
    await stack?.dispose();
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it('every service works with its own principal: a transaction is accepted, mined and reported committed', async () => {
    const response = await fetch(`${stack.ingestUrl}/v1/transactions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'acl-1', from: 'alice', to: 'bob', amount: 3 }),
    });
    expect(response.status, await response.clone().text()).toBe(202);
    await eventually(async () => {
      const { status, body } = await getJson<{ status: string }>(`${stack.auditorUrl}/v1/transactions/acl-1`);
      expect({ status, committed: body.status }).toEqual({ status: 200, committed: 'committed' });
    }, 120_000, 500);
    // The miner wrote checkpoints with its own principal (they are written only after a block, every block here).
    const admin = new Kafka({ clientId: 'acl-test-admin', brokers: [broker.brokers], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      await eventually(async () => {
        const [offsets] = await admin.fetchTopicOffsets(CHECKPOINTS);
        expect(Number(offsets?.high ?? 0)).toBeGreaterThan(0);
      }, 60_000, 500);
    } finally {
      await admin.disconnect();
    }
  }, 180_000);

  it('the read-only principal reads the chain with the CLI (chain tail --kafka, chain verify) and writes nothing', async () => {
    const { reader } = DEFAULT_PRINCIPALS;
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      ...stack.consensusEnv,
      ...REPLAY_ENV,
      TOPIC_TRANSACTIONS: stack.topics.TOPIC_TRANSACTIONS,
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: reader,
      KAFKA_SASL_PASSWORD: PASSWORDS[reader] as string,
    };
    const cli = (args: string[]) => run(process.execPath, [...SOURCE_NODE_ARGS, 'services/cli/src/main.ts', ...args, '--brokers', `127.0.0.1:${ports.sasl}`, '--json'], 120_000, env);
    const tail = await cli(['chain', 'tail', '-n', '1', '--kafka', '--topic', stack.topics.TOPIC_BLOCKCHAIN]);
    expect(tail.code, tail.stderr).toBe(0);
    expect(tail.stdout).toMatch(/"hash":\s*"[0-9a-f]{64}"/);
    const verify = await cli(['chain', 'verify', '--topic', stack.topics.TOPIC_BLOCKCHAIN, '--timeout', '60s']);
    expect(verify.code, verify.stderr).toBe(0);
    expect((JSON.parse(verify.stdout) as { ok: boolean; height: number }).ok).toBe(true);
    expect(await write(reader, stack.topics.TOPIC_BLOCKCHAIN)).toBe('TOPIC_AUTHORIZATION_FAILED');
    expect(await write(reader, stack.topics.TOPIC_TRANSACTIONS)).toBe('TOPIC_AUTHORIZATION_FAILED');
  }, 180_000);

  it('a service started before its topic is provisioned waits for it (naming the broker code) instead of exiting', async () => {
    // A fresh install: the auditor may not create its audit topic (no CREATE grant); the topics Job does, later.
    const audit = `acls-late-audit-${randomBytes(4).toString('hex')}`;
    const topics = { transactions: stack.topics.TOPIC_TRANSACTIONS, blockchain: stack.topics.TOPIC_BLOCKCHAIN, audit, deadLetter: stack.topics.TOPIC_DEAD_LETTER, checkpoints: CHECKPOINTS };
    const admin = new Kafka({ clientId: 'acl-test-admin', brokers: [broker.brokers], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    const auditor = new ServiceProcess('late-auditor', 'auditor', {
      ...stack.auditor.env,
      TOPIC_AUDIT: audit,
      HTTP_PORT: String(await allocatePort()),
    });
    try {
      await applyServiceAcls(admin, topics);
      auditor.start();
      const waiting = await auditor.waitForLog((line) => line.msg.startsWith('topics cannot be provisioned yet'), 90_000, 'wait for the topic');
      expect(String(waiting.problem)).toContain(`${audit}: TOPIC_AUTHORIZATION_FAILED`);
      expect(auditor.alive).toBe(true);
      // Not ready meanwhile (0: not listening yet).
      expect(await fetch(`${auditor.url}/readyz`).then((response) => response.status, () => 0)).not.toBe(200);
      // The provisioning catches up: the waiting auditor starts without a restart.
      await ensureTopics(admin, [{ topic: audit, partitions: 1 }]);
      await auditor.ready(120_000);
      expect(auditor.runs).toHaveLength(1);
    } finally {
      await auditor.dispose();
      await admin.disconnect();
    }
  }, 240_000);

  it('denies every write a principal is not granted', async () => {
    const { ingest, miner, auditor } = DEFAULT_PRINCIPALS;
    const { TOPIC_TRANSACTIONS: transactions, TOPIC_BLOCKCHAIN: blockchain, TOPIC_AUDIT: audit } = stack.topics;
    // Forged blocks straight onto the ledger: only miners may write it.
    expect(await write(ingest, blockchain)).toBe('TOPIC_AUTHORIZATION_FAILED');
    expect(await write(auditor, blockchain)).toBe('TOPIC_AUTHORIZATION_FAILED');
    // Transactions that bypass ingest's validation: only ingest may write them.
    expect(await write(miner, transactions)).toBe('TOPIC_AUTHORIZATION_FAILED');
    expect(await write(auditor, transactions)).toBe('TOPIC_AUTHORIZATION_FAILED');
    // The audit trail: only the auditor.
    expect(await write(ingest, audit)).toBe('TOPIC_AUTHORIZATION_FAILED');
    // Checkpoints: only the miners (a forged checkpoint would be a shortcut past the chain's validation).
    expect(await write(ingest, CHECKPOINTS)).toBe('TOPIC_AUTHORIZATION_FAILED');
    expect(await write(auditor, CHECKPOINTS)).toBe('TOPIC_AUTHORIZATION_FAILED');
    expect(await write(miner, audit)).toBe('TOPIC_AUTHORIZATION_FAILED');
    // And what is granted does work (the denial above is the ACL, not a broken client).
    expect(await write(ingest, transactions)).toBe('written');
    // A wrong password never connects.
    const intruder = client(ingest, 'wrong-password').producer();
    await expect(intruder.connect()).rejects.toThrow(/SASL SCRAM SHA512 authentication failed|Authentication failed/i);
  }, 120_000);
});
