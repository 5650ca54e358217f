// The Ledger resource against a real kube-apiserver (etcd + kube-apiserver v1.34, see
// support/kube-api-server.ts): the CRD the chart installs (charts/chainlog/crds/) is accepted, applies its
// defaults, and refuses what the issue says the API server must refuse, with a clear message.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { CHART_DIR } from './support/helm.js';
import { startKubeApiServer, type KubeApiServer, type KubeObject } from './support/kube-api-server.js';

let kube: KubeApiServer;
const NAMESPACE = 'ledgers';
const LEDGERS = `/apis/chainlog.dev/v1alpha1/namespaces/${NAMESPACE}/ledgers`;

beforeAll(async () => {
  kube = await startKubeApiServer();
  const crd = parseYaml(readFileSync(join(CHART_DIR, 'crds', 'ledgers.chainlog.dev.yaml'), 'utf8')) as KubeObject;
  await kube.apply(crd);
  await kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } });
  // The CRD is served once Established.
  for (let i = 0; ; i++) {
    const { body } = await kube.request('GET', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/ledgers.chainlog.dev');
    if ((body.status?.conditions ?? []).some((c: { type: string; status: string }) => c.type === 'Established' && c.status === 'True')) break;
    if (i > 100) throw new Error('the Ledger CRD never became Established');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}, 180_000);

afterAll(async () => {
  await kube?.stop();
});

function ledger(name: string, spec: Record<string, unknown>): KubeObject {
  return { apiVersion: 'chainlog.dev/v1alpha1', kind: 'Ledger', metadata: { name, namespace: NAMESPACE }, spec };
}

const EXTERNAL = { external: { bootstrapServers: '127.0.0.1:9092' } };

async function create(object: KubeObject): Promise<{ status: number; body: any }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  return kube.request('POST', LEDGERS, { body: object });
}

describe('the Ledger CRD on a real API server', () => {
  it('accepts a minimal Ledger and fills in every default', async () => {
    const { status, body } = await create(ledger('minimal', { kafka: EXTERNAL }));
    expect(status).toBe(201);
    expect(body.spec).toMatchObject({
      partitions: 2,
      maxPartitions: 64,
      logLevel: 'info',
      image: { repository: 'chainlog', pullPolicy: 'IfNotPresent' },
      topics: { transactions: 'transactions', blockchain: 'blockchain', audit: 'audit', deadLetter: 'transactions-dlq', deletionPolicy: 'Retain', replicationFactor: -1 },
      consensus: { difficulty: 16, blockReward: 50, requireTransactionSignatures: false },
      ingest: { replicas: 2, service: { type: 'ClusterIP', port: 8080 } },
      miners: { powWorkers: 1 },
      auditor: { replicas: 2 },
      monitoring: { serviceMonitor: { enabled: false } },
    });
  });

  it('refuses a partition decrease, through the object and through /scale, naming the rule', async () => {
    expect((await create(ledger('grow-only', { kafka: EXTERNAL, partitions: 4 }))).status).toBe(201);
    const patch = await kube.request('PATCH', `${LEDGERS}/grow-only`, { body: { spec: { partitions: 3 } }, contentType: 'application/merge-patch+json' });
    expect(patch.status).toBe(422);
    expect(patch.body.message).toContain('partitions can never decrease');
    const scale = await kube.request('PATCH', `${LEDGERS}/grow-only/scale`, { body: { spec: { replicas: 1 } }, contentType: 'application/merge-patch+json' });
    expect(scale.status).toBe(422);
    expect(scale.body.message).toContain('partitions can never decrease');
    const grow = await kube.request('PATCH', `${LEDGERS}/grow-only/scale`, { body: { spec: { replicas: 6 } }, contentType: 'application/merge-patch+json' });
    expect(grow.status).toBe(200);
    expect((await kube.request('GET', `${LEDGERS}/grow-only`)).body.spec.partitions).toBe(6);
  });

  it('refuses out-of-range consensus values and more partitions than the ceiling', async () => {
    const { status, body } = await create(ledger('out-of-range', { kafka: EXTERNAL, partitions: 65, consensus: { difficulty: 65, blockReward: -1 } }));
    expect(status).toBe(422);
    expect(body.message).toContain('spec.consensus.difficulty');
    expect(body.message).toContain('spec.consensus.blockReward');
    expect(body.message).toContain('partitions must not exceed maxPartitions');
    expect((await create(ledger('raised-ceiling', { kafka: EXTERNAL, partitions: 65, maxPartitions: 128 }))).status).toBe(201);
  });

  it('requires exactly one of external or bundled Kafka, and no switch between them', async () => {
    const both = await create(ledger('both', { kafka: { ...EXTERNAL, bundled: {} } }));
    expect(both.status).toBe(422);
    expect(both.body.message).toContain('set exactly one of external or bundled');
    const neither = await create(ledger('neither', { kafka: {} }));
    expect(neither.status).toBe(422);
    expect(neither.body.message).toContain('set exactly one of external or bundled');
    expect((await create(ledger('switch', { kafka: EXTERNAL }))).status).toBe(201);
    const switched = await kube.request('PATCH', `${LEDGERS}/switch`, { body: { spec: { kafka: { external: null, bundled: {} } } }, contentType: 'application/merge-patch+json' });
    expect(switched.status).toBe(422);
    expect(switched.body.message).toContain('switching between external and bundled');
  });

  it('keeps topic names immutable and validates permissioned mode and SASL', async () => {
    expect((await create(ledger('names', { kafka: EXTERNAL }))).status).toBe(201);
    const renamed = await kube.request('PATCH', `${LEDGERS}/names`, { body: { spec: { topics: { blockchain: 'other' } } }, contentType: 'application/merge-patch+json' });
    expect(renamed.status).toBe(422);
    expect(renamed.body.message).toContain('topic names cannot change');
    const keys = await create(ledger('keys', { kafka: EXTERNAL, consensus: { permissioned: { allowedMinerKeys: ['not-hex'] } } }));
    expect(keys.status).toBe(422);
    expect(keys.body.message).toContain('minerKeysSecret');
    expect(keys.body.message).toContain('allowedMinerKeys[0]');
    const sasl = await create(ledger('sasl', { kafka: { external: { bootstrapServers: 'k:9093', sasl: { passwordSecret: { name: 'kafka-user' } } } } }));
    expect(sasl.status).toBe(422);
    expect(sasl.body.message).toContain('set exactly one of username or usernameSecret');
  });
});
