// The kafka-credentials Job's pure part: which passwords a Secret lacks; never a replaced or echoed password.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { credentialKeys, newPassword, planCredentials, readCredentialsConfig } from '../src/kafka-credentials.js';

describe('planCredentials', () => {
  it('generates one password per key of an empty Secret: the broker and every SCRAM user', () => {
    const plan = planCredentials({}, true);
    expect(Object.keys(plan.add)).toEqual(['broker', 'chainlog-admin', 'chainlog-ingest', 'chainlog-miner', 'chainlog-auditor', 'chainlog-reader']);
    expect(new Set(Object.values(plan.add)).size).toBe(6);
    for (const password of Object.values(plan.add)) expect(password).toMatch(/^[0-9a-f]{48}$/);
    expect(plan.problems).toEqual([]);
  });

  it('never replaces a password that is there, and is idempotent', () => {
    fc.assert(
      fc.property(fc.subarray(credentialKeys()), (present) => {
        const existing = Object.fromEntries(present.map((key) => [key, `kept-${key}-0123456789`]));
        const first = planCredentials(existing, true);
        expect(Object.keys(first.add).sort()).toEqual(credentialKeys().filter((key) => !present.includes(key)).sort());
        expect(planCredentials({ ...existing, ...first.add }, true)).toEqual({ add: {}, problems: [] });
      }),
    );
  });

  it('with generation off, names what is missing; a malformed password is named, never echoed', () => {
    const plan = planCredentials({ broker: 'short"SECRET', 'chainlog-admin': newPassword() }, false);
    expect(plan.add).toEqual({});
    expect(plan.problems).toHaveLength(5);
    expect(plan.problems[0]).toContain('"broker" is not a usable password');
    expect(plan.problems.join(' ')).not.toContain('SECRET');
    expect(plan.problems.slice(1).every((problem) => problem.includes('generating is off'))).toBe(true);
  });
});

describe('readCredentialsConfig', () => {
  it('needs the Secret name and a namespace', () => {
    expect(() => readCredentialsConfig({ KUBECONFIG: '/k', NAMESPACE: 'ns' })).toThrow(/KAFKA_CREDENTIALS_SECRET/);
    expect(readCredentialsConfig({ KUBECONFIG: '/k', NAMESPACE: 'ns', KAFKA_CREDENTIALS_SECRET: 'c', KAFKA_CREDENTIALS_GENERATE: 'false' })).toMatchObject({ secret: 'c', namespace: 'ns', generate: false });
  });
});
