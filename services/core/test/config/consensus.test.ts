// The consensus settings every node reads the same way: the permissioned ledger, and the allow-list also from a
// file (ALLOWED_MINER_KEYS_FILE).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type ConfigError, EnvReader, readConsensusConfig } from '../../src/config/index.js';

const KEY_A = 'a'.repeat(64);
const KEY_B = 'b'.repeat(64);

function read(env: Record<string, string>): { params?: ReturnType<typeof readConsensusConfig>; problems: string[] } {
  const reader = new EnvReader(env);
  const params = readConsensusConfig(reader);
  try {
    reader.done();
    return { params, problems: [] };
  } catch (error) {
    return { problems: (error as { problems: string[] }).problems };
  }
}

describe('readConsensusConfig: the permissioned ledger', () => {
  it('reads bindings (several keys per account) and allocations when ENFORCE_BALANCES=true', () => {
    const { params } = read({
      ALLOWED_MINER_KEYS: KEY_A,
      ENFORCE_BALANCES: 'true',
      ACCOUNT_KEYS: `alice=${KEY_A},alice=${KEY_B},__proto__=${KEY_B}`,
      GENESIS_ALLOCATIONS: 'alice=1000,bob=0',
    });
    expect(params?.ledger).toEqual({ accountKeys: { alice: [KEY_A, KEY_B], ['__proto__']: [KEY_B] }, allocations: { alice: 1000, bob: 0 } });
    expect(Object.getPrototypeOf(params?.ledger?.accountKeys)).toBe(Object.prototype);
  });

  it('reads the bindings from ACCOUNT_KEYS_FILE too (commas, spaces or newlines), never both forms at once', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'chainlog-accounts-')), 'account-keys');
    writeFileSync(file, `alice=${KEY_A},bob=${KEY_A}\ncarol=${KEY_B}\n`);
    const { params } = read({ ALLOWED_MINER_KEYS: KEY_A, ENFORCE_BALANCES: 'true', ACCOUNT_KEYS_FILE: file });
    expect(params?.ledger?.accountKeys).toEqual({ alice: [KEY_A], bob: [KEY_A], carol: [KEY_B] });
    expect(read({ ALLOWED_MINER_KEYS: KEY_A, ENFORCE_BALANCES: 'true', ACCOUNT_KEYS_FILE: file, ACCOUNT_KEYS: `dave=${KEY_A}` }).problems.join('\n')).toMatch(/only one of ACCOUNT_KEYS and ACCOUNT_KEYS_FILE/);
    expect(read({ ALLOWED_MINER_KEYS: KEY_A, ENFORCE_BALANCES: 'true', ACCOUNT_KEYS_FILE: `${file}.missing` }).problems.join('\n')).toMatch(/ACCOUNT_KEYS_FILE names a file that cannot be read/);
  });

  it('has no ledger by default, and names every problem', () => {
    expect(read({}).params?.ledger).toBeUndefined();
    const { problems } = read({ ENFORCE_BALANCES: 'true', ACCOUNT_KEYS: 'alice=xyz', GENESIS_ALLOCATIONS: 'bob=1.5,bob=2,0=3' });
    expect(problems.join('\n')).toMatch(/ALLOWED_MINER_KEYS/);
    expect(problems.filter((problem) => problem.includes('ACCOUNT_KEYS entries'))).toHaveLength(1);
    expect(problems.filter((problem) => problem.includes('GENESIS_ALLOCATIONS entries'))).toHaveLength(2);
    expect(read({ GENESIS_ALLOCATIONS: 'bob=2' }).problems.join('\n')).toMatch(/need ENFORCE_BALANCES=true/);
    expect(read({ ALLOWED_MINER_KEYS: KEY_A, ENFORCE_BALANCES: 'true', ACCOUNT_KEYS: `${KEY_A}=${KEY_B}` }).problems.join('\n')).toMatch(/is a key account|key account, bound to that key alone/);
  });
});

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const readStrict = (env: Record<string, string>) => {
  const reader = new EnvReader(env);
  const config = readConsensusConfig(reader);
  reader.done();
  return config;
};

describe('readConsensusConfig: the allow-list', () => {
  it('is open (no allowedMiners) when neither ALLOWED_MINER_KEYS nor its _FILE is set', () => {
    expect(readStrict({}).allowedMiners).toBeUndefined();
    expect(readStrict({ ALLOWED_MINER_KEYS: ' ' }).allowedMiners).toBeUndefined();
  });

  it('reads the keys inline or from a file, separated by commas, spaces or newlines, without duplicates', () => {
    expect(readStrict({ ALLOWED_MINER_KEYS: `${A}, ${B}` }).allowedMiners).toEqual([A, B]);
    const file = join(mkdtempSync(join(tmpdir(), 'chainlog-allow-')), 'allowed-miner-keys');
    writeFileSync(file, `${A}\n${B},${A}\n`);
    expect(readStrict({ ALLOWED_MINER_KEYS_FILE: file }).allowedMiners).toEqual([A, B]);
  });

  it('names a malformed key, a missing file, and both forms set at once', () => {
    const problems = (env: Record<string, string>): string => {
      try {
        readStrict(env);
      } catch (error) {
        return (error as ConfigError).problems.join('\n');
      }
      throw new Error('expected a ConfigError');
    };
    expect(problems({ ALLOWED_MINER_KEYS: 'XYZ' })).toContain('ALLOWED_MINER_KEYS must list raw Ed25519 public keys');
    expect(problems({ ALLOWED_MINER_KEYS_FILE: '/nonexistent/keys' })).toContain('ALLOWED_MINER_KEYS_FILE names a file that cannot be read');
    expect(problems({ ALLOWED_MINER_KEYS: A, ALLOWED_MINER_KEYS_FILE: '/x' })).toContain('set only one of ALLOWED_MINER_KEYS and ALLOWED_MINER_KEYS_FILE');
  });
});
