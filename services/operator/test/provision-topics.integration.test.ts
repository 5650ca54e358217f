// The topic-provisioning entry point (the Helm hook Job's program) against the real broker.
import { ConfigResourceTypes } from 'kafkajs';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partitionCount } from '@chainlog/core/kafka';
import type { Logger } from '@chainlog/core/logging';
import { kafkaBrokers, testKafka, uniqueTopic } from '../../../test/support/kafka.js';
import { runToExit, type LogLine } from '../../../test/support/processes.js';
import { NEVER_DECREASE, run } from '../src/provision-topics.js';

function capturingLogger(): { lines: LogLine[]; makeLogger: (level: string) => Logger } {
  const lines: LogLine[] = [];
  const makeLogger = (level: string): Logger =>
    pino(
      { level, formatters: { level: (label) => ({ level: label }) } },
      { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) },
    );
  return { lines, makeLogger };
}

interface TopicEnv {
  KAFKA_BROKERS: string;
  KAFKA_CONNECTION_TIMEOUT_MS: string;
  TOPIC_TRANSACTIONS: string;
  TOPIC_BLOCKCHAIN: string;
  TOPIC_AUDIT: string;
  TOPIC_DEAD_LETTER: string;
  TOPIC_CHECKPOINTS: string;
}

function topicEnv(prefix: string): TopicEnv {
  return {
    KAFKA_BROKERS: kafkaBrokers(),
    KAFKA_CONNECTION_TIMEOUT_MS: '2000',
    TOPIC_TRANSACTIONS: uniqueTopic(`${prefix}-tx`),
    TOPIC_BLOCKCHAIN: uniqueTopic(`${prefix}-chain`),
    TOPIC_AUDIT: uniqueTopic(`${prefix}-audit`),
    TOPIC_DEAD_LETTER: uniqueTopic(`${prefix}-dlq`),
    TOPIC_CHECKPOINTS: uniqueTopic(`${prefix}-checkpoints`),
  };
}

describe('provision-topics', () => {
  const admin = testKafka().admin();
  beforeAll(() => admin.connect());
  afterAll(() => admin.disconnect());

  it('creates the five topics when missing: transactions with N partitions, the others with one, infinite retention, checkpoints compacted', async () => {
    const env = { ...topicEnv('create'), TRANSACTIONS_PARTITIONS: '3' };
    const { lines, makeLogger } = capturingLogger();
    expect(await run(env, makeLogger)).toBe(0);

    expect(await partitionCount(admin, env.TOPIC_TRANSACTIONS)).toBe(3);
    for (const topic of [env.TOPIC_BLOCKCHAIN, env.TOPIC_AUDIT, env.TOPIC_DEAD_LETTER]) {
      expect(await partitionCount(admin, topic)).toBe(1);
    }
    const described = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: env.TOPIC_BLOCKCHAIN, configNames: ['retention.ms'] }],
    });
    expect(described.resources[0]?.configEntries[0]?.configValue).toBe('-1');
    const checkpoints = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: env.TOPIC_CHECKPOINTS, configNames: ['cleanup.policy'] }],
    });
    expect(checkpoints.resources[0]?.configEntries[0]?.configValue).toBe('compact');
    expect(await partitionCount(admin, env.TOPIC_CHECKPOINTS)).toBe(1);

    const created = lines.filter((line) => line.level === 'info' && line.msg.startsWith('created '));
    expect(created.map((line) => line.msg).sort()).toEqual(
      [
        `created ${env.TOPIC_TRANSACTIONS} with 3 partition(s)`,
        `created ${env.TOPIC_BLOCKCHAIN} with 1 partition(s)`,
        `created ${env.TOPIC_AUDIT} with 1 partition(s)`,
        `created ${env.TOPIC_DEAD_LETTER} with 1 partition(s)`,
        `created ${env.TOPIC_CHECKPOINTS} with 1 partition(s)`,
      ].sort(),
    );
    const summary = lines.at(-1);
    expect(summary?.partitions).toEqual({
      [env.TOPIC_TRANSACTIONS]: 3,
      [env.TOPIC_BLOCKCHAIN]: 1,
      [env.TOPIC_AUDIT]: 1,
      [env.TOPIC_DEAD_LETTER]: 1,
      [env.TOPIC_CHECKPOINTS]: 1,
    });
  });

  it('grows the transactions topic when the count went up, is idempotent, and never decreases (with a warning)', async () => {
    const env = { ...topicEnv('grow'), TRANSACTIONS_PARTITIONS: '2' };
    expect(await run(env, capturingLogger().makeLogger)).toBe(0);
    expect(await partitionCount(admin, env.TOPIC_TRANSACTIONS)).toBe(2);

    const grow = capturingLogger();
    expect(await run({ ...env, TRANSACTIONS_PARTITIONS: '4' }, grow.makeLogger)).toBe(0);
    expect(await partitionCount(admin, env.TOPIC_TRANSACTIONS)).toBe(4);
    expect(grow.lines.map((line) => line.msg)).toContain(`grew ${env.TOPIC_TRANSACTIONS} from 2 to 4 partitions`);
    expect(grow.lines.filter((line) => line.level === 'warn')).toEqual([]);

    const again = capturingLogger();
    expect(await run({ ...env, TRANSACTIONS_PARTITIONS: '4' }, again.makeLogger)).toBe(0);
    expect(again.lines.at(-1)?.msg).toBe('topics already provisioned, nothing to do');

    const shrink = capturingLogger();
    expect(await run({ ...env, TRANSACTIONS_PARTITIONS: '1' }, shrink.makeLogger)).toBe(0);
    expect(await partitionCount(admin, env.TOPIC_TRANSACTIONS)).toBe(4);
    const warnings = shrink.lines.filter((line) => line.level === 'warn');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ topic: env.TOPIC_TRANSACTIONS, requestedPartitions: 1, existingPartitions: 4 });
    expect(warnings[0]?.msg).toContain(NEVER_DECREASE);
  });

  it('exits 2 on invalid configuration and names every problem', async () => {
    const { lines, makeLogger } = capturingLogger();
    const code = await run(
      { KAFKA_BROKERS: 'not a broker', TRANSACTIONS_PARTITIONS: '0', TOPIC_REPLICATION_FACTOR: '0', TOPIC_AUDIT: 'bad name!' },
      makeLogger,
    );
    expect(code).toBe(2);
    expect(lines).toHaveLength(1);
    const problems = lines[0]?.problems as string[];
    expect(problems.join('\n')).toMatch(/KAFKA_BROKERS/);
    expect(problems.join('\n')).toMatch(/TRANSACTIONS_PARTITIONS/);
    expect(problems.join('\n')).toMatch(/TOPIC_REPLICATION_FACTOR/);
    expect(problems.join('\n')).toMatch(/TOPIC_AUDIT/);
  });

  it('exits 1 when Kafka cannot be reached', async () => {
    const { lines, makeLogger } = capturingLogger();
    const code = await run(
      { KAFKA_BROKERS: '127.0.0.1:1', KAFKA_CONNECTION_TIMEOUT_MS: '200', KAFKA_REQUEST_TIMEOUT_MS: '500', LOG_LEVEL: 'error' },
      makeLogger,
    );
    expect(code).toBe(1);
    expect(lines.some((line) => line.msg === 'topic provisioning failed')).toBe(true);
  });

  it('runs as a standalone program: pino JSON on stdout and the exit code', async () => {
    const env = { ...topicEnv('program'), TRANSACTIONS_PARTITIONS: '2' };
    const result = await runToExit('operator', env, { script: 'services/operator/src/provision-topics.ts' });
    expect(result.code).toBe(0);
    const lines = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as LogLine);
    expect(lines.every((line) => line.service === 'provision-topics' && typeof line.time === 'string')).toBe(true);
    expect(lines.map((line) => line.msg)).toContain(`created ${env.TOPIC_TRANSACTIONS} with 2 partition(s)`);
    expect(await partitionCount(admin, env.TOPIC_TRANSACTIONS)).toBe(2);
  });
});
