// The miner's configuration: defaults, the ordinal's sources, cross-field checks, and all problems at once (main's exit status: main.integration.test.ts).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '@chainlog/core/config';
import { signerFromSeed } from '@chainlog/core/protocol';
import { ordinalFromHostname, readConfig } from '../src/config.js';

const SEED = '11'.repeat(32);
const PUBLIC_KEY = signerFromSeed(Buffer.from(SEED, 'hex')).publicKey;

function problemsOf(env: Record<string, string>): string[] {
  try {
    readConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('readConfig', () => {
  it('has the documented defaults', () => {
    const config = readConfig({ HOSTNAME: 'chainlog-miner-2' });
    expect(config).toMatchObject({
      httpPort: 8081,
      minerId: 'chainlog-miner-2',
      ordinal: 2,
      ordinalSource: 'HOSTNAME',
      replicas: undefined,
      groupId: 'chainlog-miners',
      sessionTimeoutMs: 30_000,
      difficulty: 16,
      cutAtPendingTransactions: 3,
      maxBlockWaitMs: 1000,
      signer: undefined,
      powWorkers: 1,
      transactionsPartitions: 2,
      consensus: { minDifficulty: 16, blockReward: 50, requireTransactionSignatures: false },
    });
    expect(config.topics).toEqual({ transactions: 'transactions', blockchain: 'blockchain', audit: 'audit', deadLetter: 'transactions-dlq' });
  });

  it('takes the ordinal from MINER_ORDINAL, else POD_INDEX, else the pod name', () => {
    expect(readConfig({ HOSTNAME: 'miner-7', POD_INDEX: '4', MINER_ORDINAL: '1' })).toMatchObject({ ordinal: 1, ordinalSource: 'MINER_ORDINAL' });
    expect(readConfig({ HOSTNAME: 'miner-7', POD_INDEX: '4' })).toMatchObject({ ordinal: 4, ordinalSource: 'POD_INDEX' });
    expect(readConfig({ HOSTNAME: 'laptop' })).toMatchObject({ ordinal: 0, ordinalSource: 'default' });
    expect([ordinalFromHostname('chainlog-miner-12'), ordinalFromHostname('miner-01'), ordinalFromHostname('miner')]).toEqual([12, undefined, undefined]);
  });

  it('signs with MINER_PRIVATE_KEY or MINER_PRIVATE_KEY_FILE, and a permissioned chain needs an allowed key', () => {
    expect(readConfig({ HOSTNAME: 'm-0', MINER_PRIVATE_KEY: SEED }).signer?.publicKey).toBe(PUBLIC_KEY);
    const dir = mkdtempSync(join(tmpdir(), 'miner-key-'));
    writeFileSync(join(dir, 'key'), `${SEED}\n`);
    expect(readConfig({ HOSTNAME: 'm-0', MINER_PRIVATE_KEY_FILE: join(dir, 'key'), ALLOWED_MINER_KEYS: PUBLIC_KEY }).signer?.publicKey).toBe(PUBLIC_KEY);

    expect(problemsOf({ HOSTNAME: 'm-0', ALLOWED_MINER_KEYS: PUBLIC_KEY })).toEqual([expect.stringMatching(/MINER_PRIVATE_KEY .*is required/)]);
    expect(problemsOf({ HOSTNAME: 'm-0', ALLOWED_MINER_KEYS: 'ab'.repeat(32), MINER_PRIVATE_KEY: SEED })).toEqual([
      expect.stringMatching(/is not in ALLOWED_MINER_KEYS/),
    ]);
  });

  it('reports every bad variable at once, without echoing the private key', () => {
    const problems = problemsOf({
      HOSTNAME: 'm-0',
      MINER_ID: 'not an account!',
      DIFFICULTY: 'hard',
      CUT_AT_PENDING_TRANSACTIONS: '0',
      POW_WORKERS: '100',
      MINER_PRIVATE_KEY: 'secret-value',
      MINER_SESSION_TIMEOUT_MS: '10',
      HTTP_PORT: '-1',
    });
    expect(problems).toHaveLength(7);
    for (const name of ['MINER_ID', 'DIFFICULTY', 'CUT_AT_PENDING_TRANSACTIONS', 'POW_WORKERS', 'MINER_PRIVATE_KEY', 'MINER_SESSION_TIMEOUT_MS', 'HTTP_PORT']) {
      expect(problems.some((problem) => problem.startsWith(name))).toBe(true);
    }
    expect(problems.join('\n')).not.toContain('secret-value');
  });

  it('names the cut threshold apart from the consensus cap, and the old variable', () => {
    expect(problemsOf({ HOSTNAME: 'm-0', MAX_BLOCK_TRANSACTIONS: '5' })).toEqual(['MAX_BLOCK_TRANSACTIONS was renamed CUT_AT_PENDING_TRANSACTIONS: set CUT_AT_PENDING_TRANSACTIONS instead']);
  });

  it('keeps a block (coinbase included) within CONSENSUS_MAX_BLOCK_TRANSACTIONS', () => {
    expect(problemsOf({ HOSTNAME: 'm-0', CUT_AT_PENDING_TRANSACTIONS: '3', CONSENSUS_MAX_BLOCK_TRANSACTIONS: '4' })).toEqual([]);
    expect(problemsOf({ HOSTNAME: 'm-0', CUT_AT_PENDING_TRANSACTIONS: '4', CONSENSUS_MAX_BLOCK_TRANSACTIONS: '4' })).toEqual([
      expect.stringMatching(/CUT_AT_PENDING_TRANSACTIONS \(4\) plus the coinbase/),
    ]);
  });

  it('takes up to TAKE_UP_TO_TRANSACTIONS per block: the consensus limit minus the coinbase, else 1000 or the cut threshold', () => {
    expect(readConfig({ HOSTNAME: 'm-0' }).takeUpToTransactions).toBe(1000);
    expect(readConfig({ HOSTNAME: 'm-0', CUT_AT_PENDING_TRANSACTIONS: '5000' }).takeUpToTransactions).toBe(5000);
    expect(readConfig({ HOSTNAME: 'm-0', CONSENSUS_MAX_BLOCK_TRANSACTIONS: '101' }).takeUpToTransactions).toBe(100);
    expect(readConfig({ HOSTNAME: 'm-0', TAKE_UP_TO_TRANSACTIONS: '20', CONSENSUS_MAX_BLOCK_TRANSACTIONS: '101' }).takeUpToTransactions).toBe(20);
    expect(readConfig({ HOSTNAME: 'm-0' }).takeUpToBytes).toBe(900_000);
    expect(problemsOf({ HOSTNAME: 'm-0', CUT_AT_PENDING_TRANSACTIONS: '10', TAKE_UP_TO_TRANSACTIONS: '9' })).toEqual([
      'TAKE_UP_TO_TRANSACTIONS (9) must be at least CUT_AT_PENDING_TRANSACTIONS (10)',
    ]);
    expect(problemsOf({ HOSTNAME: 'm-0', TAKE_UP_TO_TRANSACTIONS: '100', CONSENSUS_MAX_BLOCK_TRANSACTIONS: '100' })).toEqual([
      expect.stringMatching(/TAKE_UP_TO_TRANSACTIONS \(100\) plus the coinbase must fit CONSENSUS_MAX_BLOCK_TRANSACTIONS \(100\): set it to at most 99/),
    ]);
    expect(problemsOf({ HOSTNAME: 'm-0', TAKE_UP_TO_BYTES: '100' })).toEqual([expect.stringMatching(/^TAKE_UP_TO_BYTES/)]);
  });
});
