// The chart's miner-keys hook Job (services/operator/src/miner-keys.ts) against a real kube-apiserver, with the
// environment of the Job the chart renders and the token of the ServiceAccount it renders (its Role must
// suffice, and allow nothing else): keys generated into the Secret, the allow-list derived into the ConfigMap,
// upgrades that add keys but never replace one, and a Secret that cannot be used refused without a change.
import type { LogLevel } from '@chainlog/core/config';
import { createLogger } from '@chainlog/core/logging';
import { signerFromSeed } from '@chainlog/core/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALLOWLIST_KEY, run } from '../services/operator/src/miner-keys.js';
import { render, type K8sObject } from './support/helm.js';
import { checkKubeBinaries, startKubeApiServer, type KubeApiServer } from './support/kube-api-server.js';

const NAMESPACE = 'ledger';
const SECRET = 'chainlog-miner-keys';
const CONFIG_MAP = 'chainlog-allowed-miner-keys';
const LOG_LEVEL = (process.env.TEST_LOG_LEVEL as LogLevel | undefined) ?? 'silent';

let kube: KubeApiServer;
let jobEnv: Record<string, string>;
let token: string;

beforeAll(async () => {
  checkKubeBinaries();
  kube = await startKubeApiServer();
  await kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } });
  const objects = await render([{ operator: { enabled: false }, topics: { transactions: { partitions: 3 } } }], { namespace: NAMESPACE });
  const ours = objects.filter((object) => object.metadata.name === 'chainlog-miner-keys' && object.kind !== 'NetworkPolicy');
  expect(ours.map((object) => object.kind).sort()).toEqual(['Job', 'Role', 'RoleBinding', 'ServiceAccount']);
  for (const object of ours.filter((o) => o.kind !== 'Job')) await kube.apply(object as K8sObject & { metadata: { name: string } });
  const job = ours.find((object) => object.kind === 'Job') as K8sObject;
  const container = (job.spec as { template: { spec: { containers: { env: { name: string; value?: string; valueFrom?: unknown }[] }[] } } }).template.spec.containers[0];
  jobEnv = {};
  for (const entry of container?.env ?? []) {
    if (entry.value !== undefined) jobEnv[entry.name] = entry.value;
    else if (entry.name === 'NAMESPACE') jobEnv[entry.name] = NAMESPACE; // the downward API
  }
  token = await kube.serviceAccountToken(NAMESPACE, 'chainlog-miner-keys');
}, 240_000);

afterAll(async () => {
  await kube?.stop();
});

async function runJob(overrides: Record<string, string> = {}): Promise<number> {
  return run({ ...jobEnv, KUBECONFIG: kube.writeKubeconfig(token, NAMESPACE), ...overrides }, (level) => createLogger('miner-keys', LOG_LEVEL === 'silent' ? 'silent' : level));
}

async function secretKeys(): Promise<Record<string, string>> {
  const { status, body } = await kube.request('GET', `/api/v1/namespaces/${NAMESPACE}/secrets/${SECRET}`);
  expect(status).toBe(200);
  return Object.fromEntries(Object.entries(body.data as Record<string, string>).map(([name, value]) => [name, Buffer.from(value, 'base64').toString('utf8').trim()]));
}

async function allowList(): Promise<string[]> {
  const { status, body } = await kube.request('GET', `/api/v1/namespaces/${NAMESPACE}/configmaps/${CONFIG_MAP}`);
  expect(status).toBe(200);
  return (body.data[ALLOWLIST_KEY] as string).split(',');
}

const publicKeyOf = (seed: string): string => signerFromSeed(Buffer.from(seed, 'hex')).publicKey;

describe('the miner-keys Job with the chart\'s env and ServiceAccount', () => {
  it('may touch only its Secret and ConfigMap', async () => {
    await kube.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'someone-elses', namespace: NAMESPACE }, stringData: { password: 'x' } });
    expect(jobEnv).toMatchObject({ MINER_KEYS_SECRET: SECRET, MINER_ALLOWLIST_CONFIGMAP: CONFIG_MAP, MINER_KEY_COUNT: '3', MINER_KEYS_GENERATE: 'true' });
    for (const [method, path] of [
      ['GET', `/api/v1/namespaces/${NAMESPACE}/secrets/someone-elses`],
      ['GET', `/api/v1/namespaces/${NAMESPACE}/secrets`],
      ['DELETE', `/api/v1/namespaces/${NAMESPACE}/secrets/${SECRET}`],
      ['GET', `/api/v1/namespaces/default/configmaps/${CONFIG_MAP}`],
    ] as const) {
      expect((await kube.request(method, path, { token })).status, `${method} ${path}`).toBe(403);
    }
  });

  it('generates one key per miner into the Secret and publishes exactly their public keys', async () => {
    expect(await runJob()).toBe(0);
    const keys = await secretKeys();
    expect(Object.keys(keys).sort()).toEqual(['miner-0.key', 'miner-1.key', 'miner-2.key']);
    for (const seed of Object.values(keys)) expect(seed).toMatch(/^[0-9a-f]{64}$/);
    expect(new Set(Object.values(keys)).size).toBe(3);
    expect(await allowList()).toEqual(['miner-0.key', 'miner-1.key', 'miner-2.key'].map((name) => publicKeyOf(keys[name] as string)));
  });

  it('on an upgrade adds the keys of new miners and keeps every existing one', async () => {
    const before = await secretKeys();
    expect(await runJob()).toBe(0);
    expect(await secretKeys()).toEqual(before);
    expect(await runJob({ MINER_KEY_COUNT: '5' })).toBe(0);
    const after = await secretKeys();
    expect(Object.keys(after).sort()).toEqual(['miner-0.key', 'miner-1.key', 'miner-2.key', 'miner-3.key', 'miner-4.key']);
    for (const [name, seed] of Object.entries(before)) expect(after[name], name).toBe(seed);
    // Scaled down again: the former miners' keys stay allowed, so the blocks they signed stay valid.
    expect(await runJob({ MINER_KEY_COUNT: '2' })).toBe(0);
    expect(await allowList()).toHaveLength(5);
  });

  it('refuses a Secret it may not complete or that holds a malformed key, changing nothing', async () => {
    const before = await secretKeys();
    expect(await runJob({ MINER_KEY_COUNT: '6', MINER_KEYS_GENERATE: 'false' })).toBe(1);
    expect(await secretKeys()).toEqual(before);

    const broken = { ...before, 'miner-1.key': 'not a key' };
    const { status } = await kube.request('PUT', `/api/v1/namespaces/${NAMESPACE}/secrets/${SECRET}`, {
      body: { apiVersion: 'v1', kind: 'Secret', metadata: { name: SECRET, namespace: NAMESPACE }, stringData: broken },
    });
    expect(status).toBe(200);
    const list = await allowList();
    expect(await runJob()).toBe(1);
    expect((await secretKeys())['miner-1.key']).toBe('not a key');
    expect(await allowList()).toEqual(list);
  });

  it('exits 2 naming the problem when its configuration is invalid', async () => {
    expect(await runJob({ MINER_KEY_COUNT: '0' })).toBe(2);
  });
});
