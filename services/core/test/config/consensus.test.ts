import { describe, expect, it } from 'vitest';
import { EnvReader, readConsensusConfig } from '../../src/config/index.js';

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

  it('has no ledger by default, and names every problem', () => {
    expect(read({}).params?.ledger).toBeUndefined();
    const { problems } = read({ ENFORCE_BALANCES: 'true', ACCOUNT_KEYS: 'alice=xyz', GENESIS_ALLOCATIONS: 'bob=1.5,bob=2,0=3' });
    expect(problems.join('\n')).toMatch(/ALLOWED_MINER_KEYS/);
    expect(problems.filter((problem) => problem.includes('ACCOUNT_KEYS entries'))).toHaveLength(1);
    expect(problems.filter((problem) => problem.includes('GENESIS_ALLOCATIONS entries'))).toHaveLength(2);
    expect(read({ GENESIS_ALLOCATIONS: 'bob=2' }).problems.join('\n')).toMatch(/need ENFORCE_BALANCES=true/);
  });
});
