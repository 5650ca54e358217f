// Configuration: defaults, every variable, and one ConfigError naming every bad variable.
import { ConfigError } from '@chainlog/core/config';
import { describe, expect, it } from 'vitest';
import { readConfig } from '../src/config.js';

function problems(env: Record<string, string>): string[] {
  try {
    readConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('readConfig', () => {
  it('has working defaults', () => {
    const config = readConfig({});
    expect(config).toMatchObject({
      httpPort: 8080,
      maxBatchSize: 1000,
      maxBodyBytes: 1024 * 1024,
      produceTimeoutMs: 5000,
      maxInflightRequests: 256,
      requireTransactionSignatures: false,
      auditorPublicUrl: 'http://localhost:8082',
      metadataRefreshMs: 10_000,
      retryAfterSeconds: 2,
      shutdownGraceMs: 15_000,
      topics: { transactions: 'transactions' },
      kafka: { brokers: ['127.0.0.1:9092'], clientId: 'chainlog-ingest' },
    });
  });

  it('reads every variable', () => {
    const config = readConfig({
      KAFKA_BROKERS: 'k1:9092,k2:9093',
      TOPIC_TRANSACTIONS: 'tx',
      HTTP_PORT: '9000',
      MAX_BATCH_SIZE: '10',
      MAX_BODY_BYTES: '4096',
      PRODUCE_TIMEOUT_MS: '250',
      MAX_INFLIGHT_REQUESTS: '3',
      REQUIRE_TRANSACTION_SIGNATURES: 'true',
      AUDITOR_PUBLIC_URL: 'https://ledger.example.com/audit/',
      METADATA_REFRESH_MS: '500',
      RETRY_AFTER_SECONDS: '7',
      SHUTDOWN_GRACE_MS: '1000',
    });
    expect(config).toMatchObject({
      kafka: { brokers: ['k1:9092', 'k2:9093'] },
      topics: { transactions: 'tx' },
      httpPort: 9000,
      maxBatchSize: 10,
      maxBodyBytes: 4096,
      produceTimeoutMs: 250,
      maxInflightRequests: 3,
      requireTransactionSignatures: true,
      auditorPublicUrl: 'https://ledger.example.com/audit',
      metadataRefreshMs: 500,
      retryAfterSeconds: 7,
      shutdownGraceMs: 1000,
    });
  });

  it('reads the ledger rules as every node reads the consensus parameters', () => {
    const key = 'ab'.repeat(32);
    expect(readConfig({}).ledger).toBeUndefined();
    const config = readConfig({ ENFORCE_BALANCES: 'true', ALLOWED_MINER_KEYS: key, ACCOUNT_KEYS: `alice=${key}`, GENESIS_ALLOCATIONS: 'alice=5' });
    expect(config.ledger).toEqual({ accountKeys: { alice: [key] }, allocations: { alice: 5 } });
    expect(problems({ ENFORCE_BALANCES: 'true' })).toEqual(['ENFORCE_BALANCES=true needs a permissioned chain (ALLOWED_MINER_KEYS)']);
  });

  it('names every bad variable in one error', () => {
    const found = problems({
      MAX_BATCH_SIZE: '0',
      MAX_BODY_BYTES: 'lots',
      PRODUCE_TIMEOUT_MS: '-5',
      MAX_INFLIGHT_REQUESTS: '1.5',
      REQUIRE_TRANSACTION_SIGNATURES: 'maybe',
      AUDITOR_PUBLIC_URL: 'ftp://auditor',
      HTTP_PORT: '70000',
      KAFKA_BROKERS: 'no-port',
    });
    for (const name of ['MAX_BATCH_SIZE', 'MAX_BODY_BYTES', 'PRODUCE_TIMEOUT_MS', 'MAX_INFLIGHT_REQUESTS', 'REQUIRE_TRANSACTION_SIGNATURES', 'AUDITOR_PUBLIC_URL', 'HTTP_PORT', 'KAFKA_BROKERS']) {
      expect(found.filter((problem) => problem.startsWith(name))).toHaveLength(1);
    }
    expect(found).toHaveLength(8);
  });

  it('shares the signature policy with the consensus (one setting), and names the old variable', () => {
    expect(readConfig({ REQUIRE_TRANSACTION_SIGNATURES: 'true' }).requireTransactionSignatures).toBe(true);
    expect(problems({ REQUIRE_SIGNATURES: 'true' })).toEqual(['REQUIRE_SIGNATURES was renamed REQUIRE_TRANSACTION_SIGNATURES: set REQUIRE_TRANSACTION_SIGNATURES instead']);
  });

  it('rejects a URL that is not absolute', () => {
    expect(problems({ AUDITOR_PUBLIC_URL: 'auditor:8082/x?y' })).toEqual([expect.stringContaining('AUDITOR_PUBLIC_URL must be an http(s) URL')]);
    expect(problems({ AUDITOR_PUBLIC_URL: '/relative' })).toEqual([expect.stringContaining('AUDITOR_PUBLIC_URL must be an absolute http(s) URL')]);
  });

  it('requires the shutdown grace to outlast the produce timeout', () => {
    expect(problems({ PRODUCE_TIMEOUT_MS: '5000', SHUTDOWN_GRACE_MS: '5000' })).toEqual([
      expect.stringMatching(/^SHUTDOWN_GRACE_MS \(5000\) must be greater than PRODUCE_TIMEOUT_MS \(5000\)/),
    ]);
  });

  it('guards the replay window: a timestamp tolerance (W/4) and a mining-backlog limit (W/2) that leave part of W for mining', () => {
    expect(readConfig({ REPLAY_WINDOW_MS: '60000' })).toMatchObject({ timestampToleranceMs: 15_000, miningBacklogLimitMs: 30_000, minerGroupId: 'chainlog-miners' });
    expect(readConfig({ REPLAY_WINDOW_MS: '60000', MINING_BACKLOG_LIMIT_MS: '0', MINER_GROUP_ID: 'm' })).toMatchObject({ miningBacklogLimitMs: undefined, minerGroupId: 'm' });
    const off = readConfig({});
    expect([off.timestampToleranceMs, off.miningBacklogLimitMs]).toEqual([undefined, undefined]);
    expect(problems({ REPLAY_WINDOW_MS: '60000', TIMESTAMP_TOLERANCE_MS: '20000', MINING_BACKLOG_LIMIT_MS: '40000' })).toEqual([
      expect.stringMatching(/^TIMESTAMP_TOLERANCE_MS \(20000\) plus MINING_BACKLOG_LIMIT_MS \(40000\) must stay below REPLAY_WINDOW_MS \(60000\)/),
    ]);
    expect(problems({ MINING_BACKLOG_LIMIT_MS: '1000' })).toEqual([expect.stringMatching(/^MINING_BACKLOG_LIMIT_MS applies only to a chain with a replay window/)]);
    expect(problems({ MINER_GROUP_ID: 'no spaces' })).toEqual([expect.stringMatching(/^MINER_GROUP_ID/)]);
  });
});
