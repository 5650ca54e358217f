// The miner-keys Job's pure part: which keys a Secret lacks, the allow-list it implies, and its configuration.
import { ConfigError } from '@chainlog/core/config';
import { signerFromSeed } from '@chainlog/core/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { planMinerKeys, readMinerKeysConfig } from '../src/miner-keys.js';

const seed = (byte: number): string => Buffer.alloc(32, byte).toString('hex');
const publicKey = (hex: string): string => signerFromSeed(Buffer.from(hex, 'hex')).publicKey;
let counter = 0;
const fakeSeed = (): Buffer => Buffer.alloc(32, 0x40 + (counter++ % 100));
const perMiner = { count: 3, generate: true, perMiner: true, keyName: 'miner.key' };

describe('planMinerKeys', () => {
  it('generates every key of an empty Secret and allows exactly their public keys, in ordinal order', () => {
    const plan = planMinerKeys({}, perMiner);
    expect(Object.keys(plan.add)).toEqual(['miner-0.key', 'miner-1.key', 'miner-2.key']);
    expect(plan.allowed).toEqual(Object.values(plan.add).map(publicKey));
    expect(new Set(plan.allowed).size).toBe(3);
    expect(plan.problems).toEqual([]);
  });

  it('keeps every existing key (also beyond the count, so a former miner\'s blocks stay valid) and adds only the missing', () => {
    const existing = { 'miner-0.key': `${seed(1)}\n`, 'miner-7.key': seed(7), 'unrelated': 'x' };
    const plan = planMinerKeys(existing, perMiner, fakeSeed);
    expect(Object.keys(plan.add)).toEqual(['miner-1.key', 'miner-2.key']);
    expect(plan.allowed).toEqual([publicKey(seed(1)), publicKey(plan.add['miner-1.key']!), publicKey(plan.add['miner-2.key']!), publicKey(seed(7))]);
  });

  it('with generation off, names the missing keys instead of inventing them', () => {
    const plan = planMinerKeys({ 'miner-0.key': seed(1) }, { ...perMiner, generate: false });
    expect(plan.add).toEqual({});
    expect(plan.problems).toEqual([
      expect.stringContaining('no key "miner-1.key"'),
      expect.stringContaining('no key "miner-2.key"'),
    ]);
  });

  it('reports a malformed key without echoing it, and never replaces it', () => {
    const plan = planMinerKeys({ 'miner-0.key': 'not-a-key-SECRET' }, { ...perMiner, count: 1 });
    expect(plan.add).toEqual({});
    expect(plan.problems).toHaveLength(1);
    expect(plan.problems[0]).toContain('"miner-0.key" is not an Ed25519 private key');
    expect(plan.problems[0]).not.toContain('SECRET');
  });

  it('with one shared key, allows just that key', () => {
    const plan = planMinerKeys({ 'shared.key': seed(9), 'miner-0.key': seed(1) }, { ...perMiner, perMiner: false, keyName: 'shared.key' });
    expect(plan).toEqual({ add: {}, allowed: [publicKey(seed(9))], problems: [] });
  });

  it('is idempotent: applying a plan leaves nothing to add and the same allow-list', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.subarray([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]), (count, present) => {
        const existing = Object.fromEntries(present.map((i) => [`miner-${i}.key`, seed(i + 1)]));
        const first = planMinerKeys(existing, { ...perMiner, count });
        const second = planMinerKeys({ ...existing, ...first.add }, { ...perMiner, count });
        expect(second.add).toEqual({});
        expect(second.allowed).toEqual(first.allowed);
        expect(first.allowed.length).toBe(new Set([...present, ...Array.from({ length: count }, (_, i) => i)]).size);
      }),
      { numRuns: 50 },
    );
  });
});

describe('readMinerKeysConfig', () => {
  const env = { KUBECONFIG: '/tmp/kubeconfig', NAMESPACE: 'ledger', MINER_KEYS_SECRET: 'r-miner-keys', MINER_ALLOWLIST_CONFIGMAP: 'r-allowed-miner-keys' };

  it('reads the names, the count and the defaults', () => {
    expect(readMinerKeysConfig({ ...env, MINER_KEY_COUNT: '64' })).toMatchObject({ namespace: 'ledger', secret: 'r-miner-keys', configMap: 'r-allowed-miner-keys', count: 64, generate: true, perMiner: true });
  });

  it('names every bad variable at once', () => {
    let problems: string[] = [];
    try {
      readMinerKeysConfig({ KUBECONFIG: '/tmp/kubeconfig', NAMESPACE: 'ledger', MINER_KEY_COUNT: '0', MINER_KEYS_GENERATE: 'maybe' });
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      problems = (error as ConfigError).problems;
    }
    expect(problems.join('\n')).toMatch(/MINER_KEYS_SECRET[\s\S]*MINER_ALLOWLIST_CONFIGMAP[\s\S]*MINER_KEY_COUNT[\s\S]*MINER_KEYS_GENERATE/);
  });
});
