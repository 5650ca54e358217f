// The Ledger resource and its operator against a real kube-apiserver (etcd + kube-apiserver v1.34, see
// support/kube-api-server.ts) and the real Kafka broker:
//   - the CRD the chart installs (charts/chainlog/crds/) is accepted, applies its defaults, and refuses what
//     the API server must refuse, with a clear message;
//   - the operator, running with a token of the chart's own ServiceAccount and Role (operator.mode=ledgers),
//     creates every object a Ledger implies with owner references, creates and grows its topics, reports
//     status and conditions, rolls only what a spec change changes, follows `kubectl scale` on the Ledger,
//     adopts a scale-up of the miner StatefulSet and reverts a scale-down, corrects drift, reports an
//     unreachable Kafka, keeps two Ledgers apart, keeps the topics on delete (deletes them with
//     deletionPolicy Delete), and hands over to a stand-by through its Lease.
// No controller-manager runs: no Pods and no garbage collection; readiness is simulated through /status.
import { cpSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { closeServer, listen } from '@chainlog/core/http';
import type { LogLevel } from '@chainlog/core/config';
import { createLogger } from '@chainlog/core/logging';
import { createMetricsRegistry } from '@chainlog/core/metrics';
import { ConfigResourceTypes, type Admin } from 'kafkajs';
import type { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { readConfig } from '../services/operator/src/config.js';
import { loadKubeConfig } from '../services/operator/src/kube/kube.js';
import { run as runMinerKeysJob } from '../services/operator/src/miner-keys.js';
import { createLedgerOperator, type LedgerOperator } from '../services/operator/src/ledger/service.js';
import { CHART_DIR, helm, helmTemplate, parseManifests, REPO_ROOT } from './support/helm.js';
import { eventually, kafkaBrokers, testKafka, uniqueTopic } from './support/kafka.js';
import { startKubeApiServer, type KubeApiServer, type KubeObject } from './support/kube-api-server.js';

let kube: KubeApiServer;
let admin: Admin;
const LOG_LEVEL = (process.env.TEST_LOG_LEVEL as LogLevel | undefined) ?? 'silent';
const NAMESPACE = 'ledgers';
const LEDGERS = `/apis/chainlog.dev/v1alpha1/namespaces/${NAMESPACE}/ledgers`;

beforeAll(async () => {
  admin = testKafka().admin();
  await admin.connect();
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
  await admin?.disconnect();
});

function ledger(name: string, spec: Record<string, unknown>, namespace = NAMESPACE): KubeObject {
  return { apiVersion: 'chainlog.dev/v1alpha1', kind: 'Ledger', metadata: { name, namespace }, spec };
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
      topics: { transactions: 'transactions', blockchain: 'blockchain', audit: 'audit', deadLetter: 'transactions-dlq', checkpoints: 'checkpoints', deletionPolicy: 'Retain', replicationFactor: -1 },
      consensus: { difficulty: 16, blockReward: 50, requireTransactionSignatures: false, enforceBalances: false },
      ingest: { replicas: 2, service: { type: 'ClusterIP', port: 8080 } },
      miners: { powWorkers: 1 },
      auditor: { replicas: 2, storage: { ephemeral: false, size: '10Gi' } },
      checkpoints: {},
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

  it('the ledger rules need a permissioned chain, their maps need the rules, and account names are checked; the replay window is bounded', async () => {
    const permissioned = { allowedMinerKeys: ['c'.repeat(64)], minerKeysSecret: { name: 'keys' } };
    const open = await create(ledger('rules-open', { kafka: EXTERNAL, consensus: { enforceBalances: true } }));
    expect(open.status).toBe(422);
    expect(open.body.message).toContain('consensus.enforceBalances needs permissioned');
    const maps = await create(ledger('rules-off', { kafka: EXTERNAL, consensus: { permissioned, genesisAllocations: { alice: 5 } } }));
    expect(maps.status).toBe(422);
    expect(maps.body.message).toContain('accountKeys and genesisAllocations need enforceBalances');
    const badName = await create(ledger('rules-name', { kafka: EXTERNAL, consensus: { permissioned, enforceBalances: true, genesisAllocations: { 'no spaces': 5 } } }));
    expect(badName.status).toBe(422);
    expect(badName.body.message).toContain('account names are');
    const window = await create(ledger('rules-window', { kafka: EXTERNAL, consensus: { replayWindowMs: 999 } }));
    expect(window.status).toBe(422);
    expect(window.body.message).toContain('spec.consensus.replayWindowMs');
    const good = await create(
      ledger('rules-good', { kafka: EXTERNAL, consensus: { permissioned, replayWindowMs: 86_400_000, enforceBalances: true, accountKeys: { alice: ['d'.repeat(64)] }, genesisAllocations: { alice: 1_000_000 } }, checkpoints: { everyBlocks: 10 } }),
    );
    expect(good.status, JSON.stringify(good.body)).toBe(201);
    expect(good.body.spec.auditor.storage).toMatchObject({ ephemeral: false, size: '10Gi' });
    expect(good.body.spec.topics.checkpoints).toBe('checkpoints');
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

  it('accepts the Ledgers the chart renders from its values (bundled, permissioned, TLS and SASL)', async () => {
    const key = 'c'.repeat(64);
    const sets = [
      { kafka: { bundled: { enabled: true } }, consensus: { allowedMinerKeys: [key] }, miner: { signingKeys: { existingSecret: 'keys' }, config: { powWorkers: 2 } }, metrics: { serviceMonitor: { enabled: true } } },
      {
        kafka: {
          bootstrapServers: 'k1:9093,k2:9093',
          tls: { enabled: true, ca: { existingSecret: 'ca' }, clientCert: { existingSecret: 'user' } },
          sasl: { enabled: true, existingSecret: 'user', usernameKey: 'username', passwordKey: 'password' },
        },
        ingest: { service: { type: 'NodePort', nodePort: 30080 }, config: { maxBatchSize: 10 } },
        auditor: { config: { blockCacheBytes: 1000 } },
      },
    ];
    for (const values of sets) {
      const [rendered] = parseManifests(
        await helmTemplate([{ operator: { mode: 'ledgers' } }, values], { namespace: NAMESPACE, extraArgs: ['--show-only', 'templates/ledger.yaml'] }),
      );
      const response = await kube.request('POST', `${LEDGERS}?dryRun=All`, { body: rendered });
      expect(response.status, JSON.stringify(response.body?.message)).toBe(201);
    }
  });

  it('accepts the example Ledgers of k8s/examples and the one of k8s/ledgers', async () => {
    const files = [...readdirSync(join(REPO_ROOT, 'k8s', 'examples')).map((file) => join('k8s', 'examples', file)), join('k8s', 'ledgers', 'ledger-chainlog.yaml')];
    expect(files.length).toBeGreaterThanOrEqual(4);
    for (const file of files) {
      const object = parseYaml(readFileSync(join(REPO_ROOT, file), 'utf8')) as KubeObject;
      expect(object.kind, file).toBe('Ledger');
      const response = await kube.request('POST', `${LEDGERS}?dryRun=All`, { body: { ...object, metadata: { ...object.metadata, namespace: NAMESPACE } } });
      expect(response.status, `${file}: ${JSON.stringify(response.body?.message)}`).toBe(201);
    }
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

// --- The operator ------------------------------------------------------------------------------------

const OP_NAMESPACE = 'chainlog';
const OP_LEDGERS = `/apis/chainlog.dev/v1alpha1/namespaces/${OP_NAMESPACE}/ledgers`;
type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any -- tests read arbitrary JSON

interface RunningOperator {
  operator: LedgerOperator;
  registry: Registry;
  server: Server;
  stop(options?: { releaseLease?: boolean }): Promise<void>;
}

async function startOperator(token: string, identity: string): Promise<RunningOperator> {
  const config = readConfig({
    NAMESPACE: OP_NAMESPACE,
    KUBECONFIG: kube.writeKubeconfig(token, OP_NAMESPACE),
    POD_NAME: identity,
    LOG_LEVEL,
    HTTP_PORT: '0',
    RESYNC_INTERVAL_MS: '1000',
    LEASE_DURATION_SECONDS: '3',
    // Nothing answers at the auditors' Service names outside a cluster; a closed local port fails fast.
    AUDITOR_URL_TEMPLATE: 'http://127.0.0.1:1',
  });
  const logger = createLogger('operator', config.logLevel).child({ identity });
  const registry = createMetricsRegistry('operator');
  const operator = createLedgerOperator({ config, logger, registry, kubeConfig: loadKubeConfig(config.kube), watchTimeoutSeconds: 20 });
  const server = await listen(operator.app, 0, '127.0.0.1');
  operator.start();
  let stopped = false;
  return {
    operator,
    registry,
    server,
    async stop(options = {}) {
      if (stopped) return;
      stopped = true;
      await operator.stop(options);
      await closeServer(server, 1000);
    },
  };
}

async function get(path: string): Promise<Json> {
  const { status, body } = await kube.request('GET', path);
  if (status !== 200) throw new Error(`GET ${path}: HTTP ${status} ${JSON.stringify(body?.message ?? body)}`);
  return body;
}

const apps = (kind: 'deployments' | 'statefulsets', name: string): string => `/apis/apps/v1/namespaces/${OP_NAMESPACE}/${kind}/${name}`;
const networkPolicy = (name: string): string => `/apis/networking.k8s.io/v1/namespaces/${OP_NAMESPACE}/networkpolicies/${name}`;

async function mergePatch(path: string, body: unknown, manager = 'kubectl'): Promise<Json> {
  const { status, body: result } = await kube.request('PATCH', `${path}?fieldManager=${manager}`, { body, contentType: 'application/merge-patch+json' });
  if (status !== 200) throw new Error(`PATCH ${path}: HTTP ${status} ${JSON.stringify(result?.message ?? result)}`);
  return result;
}

function condition(ledger: Json, type: string): { status: string; reason: string; message: string } | undefined {
  return (ledger.status?.conditions ?? []).find((entry: { type: string }) => entry.type === type);
}

async function ledgerEvents(name: string): Promise<{ reason: string; type: string; message: string }[]> {
  const { body } = await kube.request('GET', `/api/v1/namespaces/${OP_NAMESPACE}/events?fieldSelector=involvedObject.kind%3DLedger,involvedObject.name%3D${name}`);
  return body.items;
}

async function partitionsOf(topic: string): Promise<number | undefined> {
  const topics = await admin.listTopics();
  if (!topics.includes(topic)) return undefined;
  return (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]?.partitions.length;
}

function topicNames(prefix: string): { transactions: string; blockchain: string; audit: string; deadLetter: string; checkpoints: string } {
  return {
    transactions: uniqueTopic(`${prefix}-tx`),
    blockchain: uniqueTopic(`${prefix}-chain`),
    audit: uniqueTopic(`${prefix}-audit`),
    deadLetter: uniqueTopic(`${prefix}-dlq`),
    checkpoints: uniqueTopic(`${prefix}-checkpoints`),
  };
}

/** What the kubelet and the workload controllers would report: every replica ready, the current spec seen. */
async function markReady(kind: 'deployments' | 'statefulsets', name: string): Promise<void> {
  const object = await get(apps(kind, name));
  const replicas = object.spec.replicas ?? 1;
  const status = { replicas, readyReplicas: replicas, availableReplicas: replicas, updatedReplicas: replicas, observedGeneration: object.metadata.generation };
  const { status: code } = await kube.request('PATCH', `${apps(kind, name)}/status`, { body: { status }, contentType: 'application/merge-patch+json' });
  expect(code).toBe(200);
}

describe('the operator keeps Ledgers (with the chart\'s ServiceAccount and Role)', () => {
  let token: string;
  let first: RunningOperator;
  let second: RunningOperator | undefined;
  const alphaTopics = topicNames('alpha');

  beforeAll(async () => {
    await kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: OP_NAMESPACE } });
    const rbac = parseManifests(
      await helmTemplate([{ operator: { mode: 'ledgers' } }], {
        release: 'chainlog',
        namespace: OP_NAMESPACE,
        extraArgs: ['--show-only', 'templates/operator/serviceaccount.yaml', '--show-only', 'templates/operator/rbac.yaml'],
      }),
    );
    expect(rbac.map((object) => object.kind).sort()).toEqual(['Role', 'RoleBinding', 'ServiceAccount']);
    for (const object of rbac) await kube.apply(object as KubeObject);
    token = await kube.serviceAccountToken(OP_NAMESPACE, 'chainlog-operator');
    first = await startOperator(token, 'operator-a');
  }, 120_000);

  afterAll(async () => {
    await second?.stop();
    await first?.stop();
  });

  it('a Ledger gets every object it implies, owned by it and applied by one field manager, and its topics', async () => {
    const created = await kube.request('POST', OP_LEDGERS, {
      body: ledger('alpha', { kafka: { external: { bootstrapServers: kafkaBrokers() } }, topics: alphaTopics, partitions: 2 }, OP_NAMESPACE),
    });
    expect(created.status).toBe(201);
    const uid = created.body.metadata.uid;
    const expected = [
      `/api/v1/namespaces/${OP_NAMESPACE}/serviceaccounts/alpha`,
      apps('statefulsets', 'alpha-miner'),
      `/api/v1/namespaces/${OP_NAMESPACE}/services/alpha-miner-headless`,
      apps('deployments', 'alpha-ingest'),
      `/api/v1/namespaces/${OP_NAMESPACE}/services/alpha-ingest`,
      apps('statefulsets', 'alpha-auditor'),
      `/api/v1/namespaces/${OP_NAMESPACE}/services/alpha-auditor`,
      ...['alpha-miner', 'alpha-ingest', 'alpha-auditor'].map((name) => `/apis/policy/v1/namespaces/${OP_NAMESPACE}/poddisruptionbudgets/${name}`),
      ...['alpha-miner', 'alpha-ingest', 'alpha-auditor'].map((name) => networkPolicy(name)),
    ];
    await eventually(async () => {
      for (const path of expected) {
        const object = await get(path);
        expect(object.metadata.ownerReferences, path).toEqual([
          { apiVersion: 'chainlog.dev/v1alpha1', kind: 'Ledger', name: 'alpha', uid, controller: true, blockOwnerDeletion: true },
        ]);
        const appliers = object.metadata.managedFields.filter((entry: { operation: string }) => entry.operation === 'Apply').map((entry: { manager: string }) => entry.manager);
        expect(appliers, path).toEqual(['chainlog-operator']);
      }
    }, 30_000);
    expect(await partitionsOf(alphaTopics.transactions)).toBe(2);
    for (const topic of [alphaTopics.blockchain, alphaTopics.audit, alphaTopics.deadLetter, alphaTopics.checkpoints]) expect(await partitionsOf(topic)).toBe(1);
    // The checkpoint topic compacted (one current checkpoint per writer), made here: a miner may lack the ACL to.
    const described = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: alphaTopics.checkpoints, configNames: ['cleanup.policy'] }] });
    expect(described.resources[0]?.configEntries[0]?.configValue).toBe('compact');
    // The auditor keeps its index on a claim of its own per replica (DATA_DIR), kept when the Ledger goes.
    const auditor = await get(apps('statefulsets', 'alpha-auditor'));
    expect(auditor.spec.volumeClaimTemplates.map((claim: { metadata: { name: string }; spec: { resources: { requests: { storage: string } } } }) => [claim.metadata.name, claim.spec.resources.requests.storage])).toEqual([['data', '10Gi']]);
    expect(auditor.spec.template.spec.containers[0].env).toContainEqual({ name: 'DATA_DIR', value: '/var/lib/chainlog/auditor' });

    // Locked down by default: ingest and the auditor take their HTTP port from anyone, the miners only /metrics from
    // the monitoring namespace; each selects its own component of this Ledger; Kafka egress on the bootstrap port.
    const port = kafkaBrokers().split(',')[0]?.split(':').at(-1) ?? '';
    for (const [name, component, ingress] of [
      ['alpha-ingest', 'ingest', [{ ports: [{ port: 8080, protocol: 'TCP' }] }]],
      ['alpha-auditor', 'auditor', [{ ports: [{ port: 8082, protocol: 'TCP' }] }]],
      ['alpha-miner', 'miner', [{ ports: [{ port: 8081, protocol: 'TCP' }], from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }] }]],
    ] as const) {
      const policy = await get(networkPolicy(name));
      expect(policy.spec.podSelector.matchLabels, name).toEqual({ 'chainlog.dev/ledger': 'alpha', 'app.kubernetes.io/component': component });
      expect(policy.spec.policyTypes).toEqual(['Ingress', 'Egress']);
      expect(policy.spec.ingress, name).toEqual(ingress);
      expect(policy.spec.egress, name).toContainEqual({ ports: [{ port: Number(port), protocol: 'TCP' }] });
    }
    // External Kafka: the operator renders no Kafka policy.
    expect((await kube.request('GET', networkPolicy('alpha-kafka'))).status).toBe(404);

    const miner = await get(apps('statefulsets', 'alpha-miner'));
    expect(miner.spec.replicas).toBe(2);
    const env = Object.fromEntries(miner.spec.template.spec.containers[0].env.map((entry: { name: string; value?: string }) => [entry.name, entry.value]));
    expect(env).toMatchObject({ KAFKA_BROKERS: kafkaBrokers(), TOPIC_TRANSACTIONS: alphaTopics.transactions, DIFFICULTY: '16', MINER_GROUP_ID: 'chainlog-miners-alpha' });
    // Nothing in the pod template depends on the scale: growing never rolls the miners that run.
    expect(env).not.toHaveProperty('MINER_REPLICAS');
    expect(env).not.toHaveProperty('TRANSACTIONS_PARTITIONS');

    const status = await eventually(async () => {
      const current = await get(`${OP_LEDGERS}/alpha`);
      expect(current.status?.observedGeneration).toBe(current.metadata.generation);
      expect(condition(current, 'KafkaReachable')?.status).toBe('True');
      expect(condition(current, 'TopicsReady')?.status).toBe('True');
      return current;
    }, 30_000);
    // deletionPolicy Retain: no finalizer, so the Ledger can go also with the operator gone (`helm uninstall`).
    expect(status.metadata.finalizers ?? []).toEqual([]);
    expect(status.status).toMatchObject({ partitions: 2, miners: 2, readyMiners: 0, selector: 'app.kubernetes.io/name=chainlog,app.kubernetes.io/instance=alpha,app.kubernetes.io/component=miner' });
    expect(condition(status, 'Ready')).toMatchObject({ status: 'False', reason: 'WorkloadsNotReady' });
    expect(condition(status, 'Progressing')?.status).toBe('True');
    const reasons = (await ledgerEvents('alpha')).map((event) => event.reason);
    expect(reasons).toContain('Created');
    expect(reasons).toContain('TopicCreated');
  });

  it('status follows the workloads: Ready once every workload is ready with the current spec', async () => {
    await markReady('statefulsets', 'alpha-miner');
    await markReady('deployments', 'alpha-ingest');
    await markReady('statefulsets', 'alpha-auditor');
    const ready = await eventually(async () => {
      const current = await get(`${OP_LEDGERS}/alpha`);
      expect(condition(current, 'Ready')).toMatchObject({ status: 'True', reason: 'LedgerReady' });
      return current;
    }, 30_000);
    expect(ready.status.readyMiners).toBe(2);
    expect(ready.status).toMatchObject({ auditors: 2, readyAuditors: 2 });
    expect(condition(ready, 'Progressing')?.status).toBe('False');
    expect(condition(ready, 'Degraded')?.status).toBe('False');
    const metrics = await first.registry.getSingleMetricAsString('chainlog_operator_ledger_ready');
    expect(metrics).toMatch(new RegExp(`chainlog_operator_ledger_ready\\{namespace="${OP_NAMESPACE}",ledger="alpha"[^}]*\\} 1`));
  });

  it('a spec change rolls only what it changes', async () => {
    const before = {
      ingest: await get(apps('deployments', 'alpha-ingest')),
      auditor: await get(apps('statefulsets', 'alpha-auditor')),
      miner: await get(apps('statefulsets', 'alpha-miner')),
    };
    await mergePatch(`${OP_LEDGERS}/alpha`, { spec: { ingest: { replicas: 3 } } });
    await eventually(async () => expect((await get(apps('deployments', 'alpha-ingest'))).spec.replicas).toBe(3), 30_000);
    const ingest = await get(apps('deployments', 'alpha-ingest'));
    expect(ingest.spec.template).toEqual(before.ingest.spec.template);
    expect((await get(apps('statefulsets', 'alpha-auditor'))).metadata.generation).toBe(before.auditor.metadata.generation);
    expect((await get(apps('statefulsets', 'alpha-miner'))).metadata.generation).toBe(before.miner.metadata.generation);

    await mergePatch(`${OP_LEDGERS}/alpha`, { spec: { miners: { logLevel: 'debug' } } });
    await eventually(async () => {
      const miner = await get(apps('statefulsets', 'alpha-miner'));
      const level = miner.spec.template.spec.containers[0].env.find((entry: { name: string }) => entry.name === 'LOG_LEVEL');
      expect(level.value).toBe('debug');
    }, 30_000);
    expect((await get(apps('statefulsets', 'alpha-auditor'))).metadata.generation).toBe(before.auditor.metadata.generation);
    expect((await get(apps('deployments', 'alpha-ingest'))).metadata.generation).toBe(ingest.metadata.generation);
  });

  it('`kubectl scale ledger/alpha --replicas=4` grows the partitions and the miners, and rolls no miner', async () => {
    const template = (await get(apps('statefulsets', 'alpha-miner'))).spec.template;
    await mergePatch(`${OP_LEDGERS}/alpha/scale`, { spec: { replicas: 4 } });
    await eventually(async () => {
      expect(await partitionsOf(alphaTopics.transactions)).toBe(4);
      expect((await get(apps('statefulsets', 'alpha-miner'))).spec.replicas).toBe(4);
      expect((await get(`${OP_LEDGERS}/alpha`)).status.partitions).toBe(4);
    }, 30_000);
    expect((await get(apps('statefulsets', 'alpha-miner'))).spec.template).toEqual(template);
    const scale = await get(`${OP_LEDGERS}/alpha/scale`);
    expect(scale.spec.replicas).toBe(4);
    expect(scale.status.selector).toContain('app.kubernetes.io/component=miner');
    expect((await ledgerEvents('alpha')).map((event) => event.reason)).toContain('PartitionsGrown');
  });

  it('`kubectl scale statefulset/alpha-miner` up is adopted into the Ledger; down is reverted with a Warning', async () => {
    await mergePatch(`${apps('statefulsets', 'alpha-miner')}/scale`, { spec: { replicas: 5 } });
    await eventually(async () => {
      expect((await get(`${OP_LEDGERS}/alpha`)).spec.partitions).toBe(5);
      expect(await partitionsOf(alphaTopics.transactions)).toBe(5);
    }, 30_000);
    expect((await ledgerEvents('alpha')).map((event) => event.reason)).toContain('MinerScaleAdopted');

    await mergePatch(`${apps('statefulsets', 'alpha-miner')}/scale`, { spec: { replicas: 2 } });
    await eventually(async () => {
      expect((await get(apps('statefulsets', 'alpha-miner'))).spec.replicas).toBe(5);
      const reverted = (await ledgerEvents('alpha')).find((event) => event.reason === 'MinerScaleReverted');
      expect(reverted?.type).toBe('Warning');
      expect(reverted?.message).toContain('kubectl scale ledger/alpha --replicas=N');
    }, 30_000);
    expect((await get(`${OP_LEDGERS}/alpha`)).spec.partitions).toBe(5);
  });

  it('drift is corrected: a changed Deployment is put back as the Ledger says', async () => {
    await mergePatch(apps('deployments', 'alpha-ingest'), { spec: { replicas: 1 } }, 'someone');
    await eventually(async () => expect((await get(apps('deployments', 'alpha-ingest'))).spec.replicas).toBe(3), 30_000);
    await kube.request('DELETE', `/api/v1/namespaces/${OP_NAMESPACE}/services/alpha-auditor`);
    await eventually(async () => expect((await get(`/api/v1/namespaces/${OP_NAMESPACE}/services/alpha-auditor`)).spec.ports[0].port).toBe(8082), 30_000);
  });

  it('upgrading from an operator that ran the auditor as a Deployment: the Deployment is pruned, the StatefulSet stays', async () => {
    // What an operator of an earlier version left behind: the auditor Deployment, owned by the Ledger and labelled.
    const owner = await get(`${OP_LEDGERS}/alpha`);
    const labels = { 'app.kubernetes.io/name': 'chainlog', 'app.kubernetes.io/instance': 'alpha', 'app.kubernetes.io/component': 'auditor', 'chainlog.dev/ledger': 'alpha' };
    const selector = { 'app.kubernetes.io/name': 'chainlog', 'app.kubernetes.io/instance': 'alpha', 'app.kubernetes.io/component': 'auditor' };
    const old = await kube.request('POST', `/apis/apps/v1/namespaces/${OP_NAMESPACE}/deployments`, {
      body: {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'alpha-auditor', namespace: OP_NAMESPACE, labels, ownerReferences: [{ apiVersion: 'chainlog.dev/v1alpha1', kind: 'Ledger', name: 'alpha', uid: owner.metadata.uid, controller: true, blockOwnerDeletion: true }] },
        spec: { replicas: 2, selector: { matchLabels: selector }, template: { metadata: { labels }, spec: { containers: [{ name: 'auditor', image: 'chainlog:old' }] } } },
      },
    });
    expect(old.status).toBe(201);
    await eventually(async () => expect((await kube.request('GET', apps('deployments', 'alpha-auditor'))).status).toBe(404), 60_000);
    expect((await get(apps('statefulsets', 'alpha-auditor'))).spec.replicas).toBe(2);
    expect((await ledgerEvents('alpha')).map((event) => event.message)).toContain('Deleted Deployment/alpha-auditor: the Ledger no longer implies it');
  });

  it('an unreachable Kafka: KafkaReachable=False, Ready=False, Degraded, and a Warning Event', async () => {
    const created = await kube.request('POST', OP_LEDGERS, { body: ledger('offline', { kafka: { external: { bootstrapServers: '127.0.0.1:1' } }, topics: topicNames('offline') }, OP_NAMESPACE) });
    expect(created.status).toBe(201);
    const current = await eventually(async () => {
      const seen = await get(`${OP_LEDGERS}/offline`);
      expect(condition(seen, 'KafkaReachable')?.status).toBe('False');
      return seen;
    }, 30_000);
    expect(condition(current, 'KafkaReachable')?.reason).toBe('Unreachable');
    expect(condition(current, 'Ready')).toMatchObject({ status: 'False', reason: 'KafkaUnreachable' });
    expect(condition(current, 'Degraded')?.status).toBe('True');
    expect(condition(current, 'TopicsReady')?.status).toBe('False');
    expect(condition(current, 'Ready')?.message).toContain('127.0.0.1:1');
    expect((await ledgerEvents('offline')).find((event) => event.reason === 'KafkaUnreachable')?.type).toBe('Warning');
    // The miners wait for their topic; ingest and auditor are there (they wait for Kafka themselves).
    expect((await kube.request('GET', apps('statefulsets', 'offline-miner'))).status).toBe(404);
    expect((await get(apps('deployments', 'offline-ingest'))).metadata.ownerReferences[0].name).toBe('offline');
  });

  it('a bundled Kafka: the operator runs its broker StatefulSet and Services, and points every service at it', async () => {
    const created = await kube.request('POST', OP_LEDGERS, { body: ledger('bundled', { kafka: { bundled: { replicas: 3 } }, topics: topicNames('bundled') }, OP_NAMESPACE) });
    expect(created.status).toBe(201);
    const broker = await eventually(async () => get(apps('statefulsets', 'bundled-kafka')), 30_000);
    expect(broker.spec.replicas).toBe(3);
    expect(broker.spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBe('8Gi');
    await eventually(async () => get(`/api/v1/namespaces/${OP_NAMESPACE}/services/bundled-kafka-headless`), 30_000);
    const ingest = await eventually(async () => get(apps('deployments', 'bundled-ingest')), 30_000);
    const brokers = ingest.spec.template.spec.containers[0].env.find((entry: { name: string }) => entry.name === 'KAFKA_BROKERS');
    expect(brokers.value).toBe(`bundled-kafka.${OP_NAMESPACE}.svc:9092`);
    // No broker pod runs here (no kubelet): the Ledger says so.
    const current = await eventually(async () => {
      const seen = await get(`${OP_LEDGERS}/bundled`);
      expect(condition(seen, 'KafkaReachable')?.status).toBe('False');
      return seen;
    }, 30_000);
    expect(current.status.bootstrapServers).toBe(`bundled-kafka.${OP_NAMESPACE}.svc:9092`);
    // The broker takes this Ledger's pods and the operator only; the nodes reach each other (replication, quorum).
    const kafkaPolicy = await eventually(async () => get(networkPolicy('bundled-kafka')), 30_000);
    expect(kafkaPolicy.metadata.ownerReferences[0]).toMatchObject({ kind: 'Ledger', name: 'bundled', controller: true });
    expect(kafkaPolicy.spec.podSelector.matchLabels).toEqual({ 'chainlog.dev/ledger': 'bundled', 'app.kubernetes.io/component': 'kafka' });
    expect(kafkaPolicy.spec.ingress).toEqual([
      {
        ports: [{ port: 9092, protocol: 'TCP' }],
        from: [{ podSelector: { matchLabels: { 'chainlog.dev/ledger': 'bundled' } } }, { podSelector: { matchLabels: { 'app.kubernetes.io/name': 'chainlog', 'app.kubernetes.io/component': 'operator' } } }],
      },
      { ports: [{ port: 9092, protocol: 'TCP' }, { port: 9093, protocol: 'TCP' }], from: [{ podSelector: { matchLabels: { 'chainlog.dev/ledger': 'bundled', 'app.kubernetes.io/component': 'kafka' } } }] },
    ]);
    const ingestPolicy = await get(networkPolicy('bundled-ingest'));
    expect(ingestPolicy.spec.egress).toContainEqual({ ports: [{ port: 9092, protocol: 'TCP' }], to: [{ podSelector: { matchLabels: { 'chainlog.dev/ledger': 'bundled', 'app.kubernetes.io/component': 'kafka' } } }] });
  });

  it('spec.networkPolicy.enabled=false removes the policies; true brings them back', async () => {
    const patch = (enabled: boolean) =>
      kube.request('PATCH', `${OP_LEDGERS}/alpha`, { body: { spec: { networkPolicy: { enabled } } }, contentType: 'application/merge-patch+json' });
    expect((await patch(false)).status).toBe(200);
    await eventually(async () => {
      for (const name of ['alpha-ingest', 'alpha-miner', 'alpha-auditor']) expect((await kube.request('GET', networkPolicy(name))).status, name).toBe(404);
    }, 30_000);
    expect((await patch(true)).status).toBe(200);
    await eventually(async () => {
      for (const name of ['alpha-ingest', 'alpha-miner', 'alpha-auditor']) expect((await kube.request('GET', networkPolicy(name))).status, name).toBe(200);
    }, 30_000);
  });

  it('spec.monitoring: dashboards as ConfigMaps; a PrometheusRule once its CRD is served (Degraded until then); disabled removes them', async () => {
    const patch = (enabled: boolean) =>
      kube.request('PATCH', `${OP_LEDGERS}/alpha`, { body: { spec: { monitoring: { prometheusRule: { enabled, labels: { release: 'kps' } }, dashboards: { enabled } } } }, contentType: 'application/merge-patch+json' });
    const configMap = (name: string) => `/api/v1/namespaces/${OP_NAMESPACE}/configmaps/${name}`;
    const rulePath = `/apis/monitoring.coreos.com/v1/namespaces/${OP_NAMESPACE}/prometheusrules/alpha`;
    const uid = (await get(`${OP_LEDGERS}/alpha`)).metadata.uid;
    const dashboards = ['alpha-dashboard-chainlog-mining', 'alpha-dashboard-chainlog-overview'];
    expect((await patch(true)).status).toBe(200);
    // No prometheus-operator CRDs in this API server yet: the dashboards still come, the rule is reported.
    await eventually(async () => {
      for (const name of dashboards) {
        const map = await get(configMap(name));
        expect(map.metadata.labels, name).toMatchObject({ grafana_dashboard: '1', 'chainlog.dev/ledger': 'alpha' });
        expect(map.metadata.ownerReferences, name).toEqual([{ apiVersion: 'chainlog.dev/v1alpha1', kind: 'Ledger', name: 'alpha', uid, controller: true, blockOwnerDeletion: true }]);
        expect(map.metadata.managedFields.filter((entry: { operation: string }) => entry.operation === 'Apply').map((entry: { manager: string }) => entry.manager)).toEqual(['chainlog-operator']);
        expect(JSON.parse(Object.values(map.data as Record<string, string>)[0] as string).panels.length, name).toBeGreaterThan(0);
      }
      expect(condition(await get(`${OP_LEDGERS}/alpha`), 'Degraded')?.message).toContain('spec.monitoring.prometheusRule.enabled needs the prometheus-operator');
    }, 30_000);

    // The prometheus-operator's CRD (its schema does not matter here: the operator's apply is what is tested).
    await kube.apply({
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'prometheusrules.monitoring.coreos.com' },
      spec: {
        group: 'monitoring.coreos.com',
        scope: 'Namespaced',
        names: { plural: 'prometheusrules', singular: 'prometheusrule', kind: 'PrometheusRule', listKind: 'PrometheusRuleList' },
        versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
      },
    } as KubeObject);
    const rule = await eventually(async () => {
      const current = await get(rulePath);
      expect(current.metadata.ownerReferences).toEqual([{ apiVersion: 'chainlog.dev/v1alpha1', kind: 'Ledger', name: 'alpha', uid, controller: true, blockOwnerDeletion: true }]);
      return current;
    }, 60_000);
    expect(rule.metadata.labels).toMatchObject({ release: 'kps', 'chainlog.dev/ledger': 'alpha' });
    const alerts = rule.spec.groups.flatMap((group: { rules: { alert?: string }[] }) => group.rules.map((entry) => entry.alert));
    expect(alerts).toContain('ChainlogTargetDown');
    await eventually(async () => expect(condition(await get(`${OP_LEDGERS}/alpha`), 'Degraded')?.message ?? '').not.toContain('prometheusRule'), 30_000);

    expect((await patch(false)).status).toBe(200);
    await eventually(async () => {
      for (const path of [rulePath, ...dashboards.map(configMap)]) expect((await kube.request('GET', path)).status, path).toBe(404);
    }, 30_000);
  });

  it('two Ledgers stay apart; deleting one removes its workloads and keeps its topics', async () => {
    const betaTopics = topicNames('beta');
    expect((await kube.request('POST', OP_LEDGERS, { body: ledger('beta', { kafka: { external: { bootstrapServers: kafkaBrokers() } }, topics: betaTopics, partitions: 3 }, OP_NAMESPACE) })).status).toBe(201);
    await eventually(async () => {
      expect(await partitionsOf(betaTopics.transactions)).toBe(3);
      expect((await get(apps('statefulsets', 'beta-miner'))).spec.replicas).toBe(3);
    }, 30_000);
    const betaMiner = await get(apps('statefulsets', 'beta-miner'));
    const betaEnv = Object.fromEntries(betaMiner.spec.template.spec.containers[0].env.map((entry: { name: string; value?: string }) => [entry.name, entry.value]));
    expect(betaEnv).toMatchObject({ TOPIC_TRANSACTIONS: betaTopics.transactions, MINER_GROUP_ID: 'chainlog-miners-beta' });
    expect(betaMiner.spec.selector.matchLabels['app.kubernetes.io/instance']).toBe('beta');
    expect(await partitionsOf(alphaTopics.transactions)).toBe(5);

    expect((await kube.request('DELETE', `${OP_LEDGERS}/beta`)).status).toBe(200);
    await eventually(async () => expect((await kube.request('GET', `${OP_LEDGERS}/beta`)).status).toBe(404), 30_000);
    // No garbage collector runs here: the operator deletes what the deleted Ledger owned itself.
    await eventually(async () => {
      for (const path of [apps('statefulsets', 'beta-miner'), apps('deployments', 'beta-ingest'), `/api/v1/namespaces/${OP_NAMESPACE}/services/beta-auditor`, networkPolicy('beta-ingest')]) {
        expect((await kube.request('GET', path)).status, path).toBe(404);
      }
    }, 30_000);
    expect(await partitionsOf(betaTopics.transactions)).toBe(3);
    expect(await partitionsOf(betaTopics.blockchain)).toBe(1);
    // alpha is untouched.
    expect((await get(apps('statefulsets', 'alpha-miner'))).spec.replicas).toBe(5);
    expect(condition(await get(`${OP_LEDGERS}/alpha`), 'Ready')?.status).toBeDefined();
  });

  it('deletionPolicy Delete deletes the topics with the Ledger', async () => {
    const gammaTopics = topicNames('gamma');
    const body = ledger('gamma', { kafka: { external: { bootstrapServers: kafkaBrokers() } }, topics: { ...gammaTopics, deletionPolicy: 'Delete' }, partitions: 1 }, OP_NAMESPACE);
    expect((await kube.request('POST', OP_LEDGERS, { body })).status).toBe(201);
    await eventually(async () => expect(await partitionsOf(gammaTopics.blockchain)).toBe(1), 30_000);
    // The finalizer keeps it until its topics are deleted.
    await eventually(async () => expect((await get(`${OP_LEDGERS}/gamma`)).metadata.finalizers).toEqual(['chainlog.dev/topics']), 30_000);
    expect((await kube.request('DELETE', `${OP_LEDGERS}/gamma`)).status).toBe(200);
    await eventually(async () => expect((await kube.request('GET', `${OP_LEDGERS}/gamma`)).status).toBe(404), 30_000);
    await eventually(async () => expect(await partitionsOf(gammaTopics.transactions)).toBeUndefined(), 30_000);
  });

  it('least privilege: the chart\'s token cannot delete Ledgers, list Secrets or touch another namespace', async () => {
    expect((await kube.request('DELETE', `${OP_LEDGERS}/alpha`, { token })).status).toBe(403);
    // ConfigMaps it lists (its dashboards); Secrets it may only get by name (the external Kafka's TLS/SASL material).
    expect((await kube.request('GET', `/api/v1/namespaces/${OP_NAMESPACE}/secrets`, { token })).status).toBe(403);
    expect((await kube.request('GET', `/api/v1/namespaces/${NAMESPACE}/configmaps`, { token })).status).toBe(403);
    expect((await kube.request('GET', `/apis/apps/v1/namespaces/${NAMESPACE}/deployments`, { token })).status).toBe(403);
    expect((await kube.request('GET', `/api/v1/namespaces/${OP_NAMESPACE}/pods`, { token })).status).toBe(403);
  });

  it('leader election: a stand-by does nothing, and takes over when the leader stops', async () => {
    second = await startOperator(token, 'operator-b');
    await eventually(() => expect(first.operator.elector.isLeader()).toBe(true));
    expect(second.operator.elector.isLeader()).toBe(false);
    await first.stop({ releaseLease: true });
    await eventually(() => expect(second?.operator.elector.isLeader()).toBe(true), 30_000);
    await mergePatch(`${OP_LEDGERS}/alpha/scale`, { spec: { replicas: 6 } });
    await eventually(async () => {
      expect(await partitionsOf(alphaTopics.transactions)).toBe(6);
      expect((await get(apps('statefulsets', 'alpha-miner'))).spec.replicas).toBe(6);
    }, 30_000);
  });
});

// --- The chart with operator.mode=ledgers: values -> Ledger -> operator ---------------------------------

describe('helm install with operator.mode=ledgers: the chart gives the operator, its Role and one Ledger from its values', () => {
  const namespace = 'helm-ledgers';
  const topics = topicNames('helm');
  let running: RunningOperator | undefined;
  let valuesFile: string;
  const ledgerPath = `/apis/chainlog.dev/v1alpha1/namespaces/${namespace}/ledgers/chainlog`;

  const helmArgs = (command: 'install' | 'upgrade', extra: string[] = []): string[] => [
    command,
    'chainlog',
    CHART_DIR,
    '--namespace',
    namespace,
    ...(command === 'install' ? ['--create-namespace'] : []),
    '--kube-apiserver',
    kube.url,
    '--kube-token',
    kube.token,
    '--kube-ca-file',
    kube.caFile,
    '-f',
    valuesFile,
    // This API server has no controllers, so the miner-keys hook Job would never complete: the test runs the
    // Job's program itself (test/miner-keys.integration.test.ts covers it with the chart's RBAC).
    '--no-hooks',
    ...extra,
  ];

  beforeAll(() => {
    valuesFile = join(kube.dir, 'ledger-values.json');
    writeFileSync(
      valuesFile,
      JSON.stringify({
        operator: { mode: 'ledgers' },
        kafka: { bootstrapServers: kafkaBrokers() },
        topics: {
          transactions: { name: topics.transactions, partitions: 2 },
          blockchain: { name: topics.blockchain },
          audit: { name: topics.audit },
          deadLetter: { name: topics.deadLetter },
        },
        consensus: { difficulty: 12 },
        ingest: { replicas: 1 },
      }),
    );
  });

  afterAll(async () => {
    await running?.stop();
  });

  it('helm install renders no workload itself; the operator, with the chart\'s env and token, creates them from the Ledger', async () => {
    const installed = await helm(helmArgs('install'));
    expect(installed.code, installed.stderr).toBe(0);
    const keysJob = { NAMESPACE: namespace, KUBECONFIG: kube.writeKubeconfig(kube.token, namespace), MINER_KEYS_SECRET: 'chainlog-miner-keys', MINER_ALLOWLIST_CONFIGMAP: 'chainlog-allowed-miner-keys', MINER_KEY_COUNT: '64', LOG_LEVEL };
    expect(await runMinerKeysJob(keysJob)).toBe(0);
    const spec = (await get(ledgerPath)).spec;
    // Permissioned by default: the Ledger points at the Job's ConfigMap and Secret.
    expect(spec.consensus).toMatchObject({
      requireTransactionSignatures: true,
      permissioned: { allowedMinerKeysFrom: { name: 'chainlog-allowed-miner-keys', key: 'allowed-miner-keys' }, minerKeysSecret: { name: 'chainlog-miner-keys', perMiner: true } },
    });
    expect(spec).toMatchObject({ partitions: 2, consensus: { difficulty: 12 }, ingest: { replicas: 1 }, kafka: { external: { bootstrapServers: kafkaBrokers() } } });
    // Helm made no workload: only the operator's Deployment.
    const deployments = (await get(`/apis/apps/v1/namespaces/${namespace}/deployments`)).items.map((item: { metadata: { name: string } }) => item.metadata.name);
    expect(deployments).toEqual(['chainlog-operator']);

    const operatorDeployment = await get(`/apis/apps/v1/namespaces/${namespace}/deployments/chainlog-operator`);
    const env: Record<string, string> = {};
    for (const entry of operatorDeployment.spec.template.spec.containers[0].env as { name: string; value?: string }[]) if (entry.value !== undefined) env[entry.name] = entry.value;
    expect(env.OPERATOR_MODE).toBe('ledgers');
    const token = await kube.serviceAccountToken(namespace, operatorDeployment.spec.template.spec.serviceAccountName);
    const config = readConfig({
      ...env,
      NAMESPACE: namespace,
      POD_NAME: 'chart-operator',
      KUBECONFIG: kube.writeKubeconfig(token, namespace),
      LOG_LEVEL,
      HTTP_PORT: '0',
      RESYNC_INTERVAL_MS: '1000',
      AUDITOR_URL_TEMPLATE: 'http://127.0.0.1:1',
    });
    const logger = createLogger('operator', config.logLevel);
    const registry = createMetricsRegistry('operator');
    const operator = createLedgerOperator({ config, logger, registry, kubeConfig: loadKubeConfig(config.kube), watchTimeoutSeconds: 20 });
    const server = await listen(operator.app, 0, '127.0.0.1');
    operator.start();
    running = { operator, registry, server, stop: async () => { await operator.stop(); await closeServer(server, 1000); } };

    await eventually(async () => {
      const miner = await get(`/apis/apps/v1/namespaces/${namespace}/statefulsets/chainlog-miner`);
      expect(miner.spec.replicas).toBe(2);
      expect((await get(`/apis/apps/v1/namespaces/${namespace}/deployments/chainlog-ingest`)).spec.replicas).toBe(1);
    }, 30_000);
    const minerPod = (await get(`/apis/apps/v1/namespaces/${namespace}/statefulsets/chainlog-miner`)).spec.template.spec;
    expect(minerPod.containers[0].env).toContainEqual({ name: 'ALLOWED_MINER_KEYS', valueFrom: { configMapKeyRef: { name: 'chainlog-allowed-miner-keys', key: 'allowed-miner-keys' } } });
    // The Secret of every miner's keys reaches the init step only; the miner container mounts its own key's copy.
    expect(minerPod.volumes).toContainEqual(expect.objectContaining({ name: 'miner-keys-all', secret: expect.objectContaining({ secretName: 'chainlog-miner-keys' }) }));
    expect(minerPod.containers[0].volumeMounts.map((mount: { name: string }) => mount.name)).not.toContain('miner-keys-all');
    const allowList = (await get(`/api/v1/namespaces/${namespace}/configmaps/chainlog-allowed-miner-keys`)).data['allowed-miner-keys'] as string;
    expect(allowList.split(',')).toHaveLength(64);
    expect(await partitionsOf(topics.transactions)).toBe(2);

    // The Lease is created at run time, so Helm does not own it: the operator's Deployment does (read with the
    // chart's token), on creation and on every renewal, so `helm uninstall` leaves no Lease behind.
    const leasePath = `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases/chainlog-ledger-operator`;
    const owner = [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'chainlog-operator', uid: operatorDeployment.metadata.uid }];
    const first = await eventually(async () => {
      const lease = await get(leasePath);
      expect(lease.metadata.ownerReferences).toEqual(owner);
      return lease;
    }, 30_000);
    await eventually(async () => {
      const renewed = await get(leasePath);
      expect(renewed.spec.renewTime).not.toBe(first.spec.renewTime);
      expect(renewed.metadata.ownerReferences).toEqual(owner);
    }, 30_000);
  });

  it('helm upgrade with more partitions grows the Ledger; one with a stale count after a kubectl scale keeps the ledger as it is', async () => {
    const upgraded = await helm(helmArgs('upgrade', ['--set', 'topics.transactions.partitions=3']));
    expect(upgraded.code, upgraded.stderr).toBe(0);
    await eventually(async () => {
      expect(await partitionsOf(topics.transactions)).toBe(3);
      expect((await get(`/apis/apps/v1/namespaces/${namespace}/statefulsets/chainlog-miner`)).spec.replicas).toBe(3);
    }, 30_000);

    await mergePatchIn(`${ledgerPath}/scale`, { spec: { replicas: 5 } });
    const stale = await helm(helmArgs('upgrade', ['--set', 'topics.transactions.partitions=3', '--set', 'ingest.replicas=2']));
    expect(stale.code, stale.stderr).toBe(0);
    const after = await get(ledgerPath);
    expect(after.spec.partitions).toBe(5);
    expect(after.spec.ingest.replicas).toBe(2);
    await eventually(async () => expect((await get(`/apis/apps/v1/namespaces/${namespace}/statefulsets/chainlog-miner`)).spec.replicas).toBe(5), 30_000);
  });
});

async function mergePatchIn(path: string, body: unknown): Promise<void> {
  const { status } = await kube.request('PATCH', path, { body, contentType: 'application/merge-patch+json' });
  expect(status).toBe(200);
}

describe('helm upgrade from a chart whose auditor was a Deployment (operator.mode=statefulset)', () => {
  const namespace = 'helm-auditor-upgrade';
  // The auditor template of the chart before #21 (commit 1788eec): a Deployment, the same Service and PDB.
  const DEPLOYMENT_TEMPLATE = `{{- /* operator.mode=ledgers: the operator renders this from the Ledger (templates/ledger.yaml). */ -}}
{{- if not (include "chainlog.ledgerMode" .) }}
{{- include "chainlog.validate" . -}}
{{- $ctx := dict "root" $ "component" "auditor" "values" .Values.auditor -}}
{{- $config := .Values.auditor.config -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "chainlog.componentName" $ctx }}
  namespace: {{ .Release.Namespace | quote }}
  labels:
    {{- include "chainlog.labels" $ctx | nindent 4 }}
  {{- with include "chainlog.annotations" (dict "root" $) }}{{ . | trim | nindent 2 }}{{- end }}
spec:
  replicas: {{ .Values.auditor.replicas }}
  revisionHistoryLimit: 5
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxSurge: 1
      maxUnavailable: 0
  selector:
    matchLabels:
      {{- include "chainlog.selectorLabels" $ctx | nindent 6 }}
  template:
    {{- $env := printf "%s%s" (include "chainlog.consensusEnv" .) (include "chainlog.optionalEnv" (list
          (dict "name" "AUDIT_RECENT_LIMIT" "value" $config.recentLimit)
          (dict "name" "BLOCK_CACHE_BYTES" "value" $config.blockCacheBytes)
          (dict "name" "PENDING_TRACK_LIMIT" "value" $config.pendingTrackLimit)
          (dict "name" "AUDIT_PUBLISH" "value" $config.publishAuditEvents)
          (dict "name" "AUDIT_QUEUE_LIMIT" "value" $config.queueLimit)
          (dict "name" "EXPLORER_ENABLED" "value" $config.explorerEnabled)
          (dict "name" "LIVE_STREAM_LIMIT" "value" $config.liveStreamLimit))) }}
    {{- $env = printf "%s%s" $env (include "chainlog.auth.env" .Values.auditor.auth) }}
    {{- include "chainlog.podTemplate" (merge (dict "env" $env "volumes" (include "chainlog.auth.volume" .Values.auditor.auth) "volumeMounts" (include "chainlog.auth.mount" .Values.auditor.auth) "serviceAccountName" (include "chainlog.serviceAccountName" .) "automountToken" false) $ctx) | nindent 4 }}

{{- end }}
`;
  let oldChart = '';

  const helmArgs = (command: 'install' | 'upgrade', chart: string): string[] => [
    command,
    'chainlog',
    chart,
    '--namespace',
    namespace,
    ...(command === 'install' ? ['--create-namespace'] : []),
    '--kube-apiserver',
    kube.url,
    '--kube-token',
    kube.token,
    '--kube-ca-file',
    kube.caFile,
    '--set',
    'operator.mode=statefulset',
    '--set',
    `kafka.bootstrapServers=${kafkaBrokers()}`,
    // No controllers here: the hook Jobs would never complete.
    '--no-hooks',
  ];

  beforeAll(() => {
    oldChart = join(kube.dir, 'chart-with-auditor-deployment');
    cpSync(CHART_DIR, oldChart, { recursive: true });
    rmSync(join(oldChart, 'templates/auditor/statefulset.yaml'));
    writeFileSync(join(oldChart, 'templates/auditor/deployment.yaml'), DEPLOYMENT_TEMPLATE);
  });

  it('Helm replaces the Deployment with the StatefulSet; the Service and the PodDisruptionBudget stay as they were', async () => {
    const installed = await helm(helmArgs('install', oldChart));
    expect(installed.code, installed.stderr).toBe(0);
    const path = (plural: string, name = 'chainlog-auditor') => `/apis/apps/v1/namespaces/${namespace}/${plural}/${name}`;
    const service = `/api/v1/namespaces/${namespace}/services/chainlog-auditor`;
    const pdb = `/apis/policy/v1/namespaces/${namespace}/poddisruptionbudgets/chainlog-auditor`;
    expect((await kube.request('GET', path('deployments'))).status).toBe(200);
    const before = { service: await get(service), pdb: await get(pdb) };

    const upgraded = await helm(helmArgs('upgrade', CHART_DIR));
    expect(upgraded.code, upgraded.stderr).toBe(0);
    expect((await kube.request('GET', path('deployments'))).status).toBe(404);
    const statefulSet = await get(path('statefulsets'));
    // The Service selects the new pods as it did the old ones.
    expect(statefulSet.spec.selector.matchLabels).toEqual(before.service.spec.selector);
    expect(statefulSet.spec.volumeClaimTemplates.map((claim: { metadata: { name: string } }) => claim.metadata.name)).toEqual(['data']);
    // Same objects (uid), same selectors: the API stays reachable through the upgrade.
    const after = { service: await get(service), pdb: await get(pdb) };
    expect(after.service.metadata.uid).toBe(before.service.metadata.uid);
    expect(after.service.spec.selector).toEqual(before.service.spec.selector);
    expect(after.pdb.metadata.uid).toBe(before.pdb.metadata.uid);
    expect(after.pdb.spec.selector).toEqual(before.pdb.spec.selector);
  });
});
