// Configuration: defaults and every problem reported at once (main's exit status: main.integration.test.ts).
import { describe, expect, it } from 'vitest';
import { ConfigError } from '@chainlog/core/config';
import { verificationSourceThread } from '@chainlog/core/kafka';
import { readConfig } from '../src/config.js';

describe('readConfig', () => {
  it('has defaults for everything', () => {
    const config = readConfig({});
    expect(config).toMatchObject({
      httpPort: 8082,
      topics: { transactions: 'transactions', blockchain: 'blockchain', audit: 'audit' },
      consensus: { minDifficulty: 16, blockReward: 50, requireTransactionSignatures: false },
      recentLimit: 1000,
      blockCacheBytes: 16 * 2 ** 20,
      pendingTrackLimit: 1_000_000,
      publishAuditEvents: true,
      auditQueueLimit: 100_000,
    });
    expect(config.consensus.allowedMiners).toBeUndefined();
  });

  it('reads the consensus parameters the miners read', () => {
    const key = 'ab'.repeat(32);
    const config = readConfig({ DIFFICULTY: '4', BLOCK_REWARD: '7', ALLOWED_MINER_KEYS: key, REQUIRE_TRANSACTION_SIGNATURES: 'true', CONSENSUS_MAX_BLOCK_TRANSACTIONS: '10' });
    expect(config.consensus).toEqual({ minDifficulty: 4, blockReward: 7, allowedMiners: [key], requireTransactionSignatures: true, maxBlockTransactions: 10 });
  });

  it('names every problem at once', () => {
    let error: unknown;
    try {
      readConfig({ HTTP_PORT: 'x', DIFFICULTY: '-1', ALLOWED_MINER_KEYS: 'nothex', AUDIT_RECENT_LIMIT: '0', AUDIT_PUBLISH: 'maybe', TOPIC_AUDIT: 'blockchain' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    for (const name of ['HTTP_PORT', 'DIFFICULTY', 'ALLOWED_MINER_KEYS', 'AUDIT_RECENT_LIMIT', 'AUDIT_PUBLISH', 'the blockchain and audit topics must differ']) {
      expect(problems).toContain(name);
    }
  });

  it('keeps the index in memory without DATA_DIR, on disk in an absolute DATA_DIR, and refuses a relative one', () => {
    expect(readConfig({}).dataDir).toBeUndefined();
    expect(readConfig({ DATA_DIR: '' }).dataDir).toBeUndefined();
    expect(readConfig({ DATA_DIR: '/var/lib/chainlog/auditor' }).dataDir).toBe('/var/lib/chainlog/auditor');
    expect(() => readConfig({ DATA_DIR: 'data/auditor' })).toThrow(/DATA_DIR must be an absolute path/);
  });

  it('reads the checkpoint settings the miners read, and never writes checkpoints itself', () => {
    expect(readConfig({}).checkpoints).toMatchObject({ topic: 'checkpoints', restore: true, verify: true });
    expect(readConfig({ TOPIC_CHECKPOINTS: 'cps', CHECKPOINT_RESTORE: 'false' }).checkpoints).toMatchObject({ topic: 'cps', restore: false });
  });

  it('reads the background verification on its own thread unless CHECKPOINT_VERIFY_WORKER asks for a worker', () => {
    expect(verificationSourceThread(readConfig({}).checkpoints)).toBe('calling');
    expect(verificationSourceThread(readConfig({ CHECKPOINT_VERIFY_WORKER: 'true' }).checkpoints)).toBe('auto');
    expect(verificationSourceThread(readConfig({ CHECKPOINT_VERIFY_WORKER: 'false' }).checkpoints)).toBe('calling');
    expect(() => readConfig({ CHECKPOINT_VERIFY_WORKER: 'sometimes' })).toThrow(/CHECKPOINT_VERIFY_WORKER must be true or false/);
  });
});
