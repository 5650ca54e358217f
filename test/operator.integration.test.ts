// The operator against a real kube-apiserver (etcd + kube-apiserver v1.34, no cluster: see
// support/kube-api-server.ts) and the real Kafka broker:
//   - the chart installed with `helm install` (operator enabled), the operator running with its chart
//     ServiceAccount's token (so the chart's Role is exactly what the code needs), and its env taken from the
//     chart's Deployment;
//   - kubectl scale up -> partitions grow; partitions added with the Kafka admin -> the miners scale up;
//     kubectl scale down -> reported (Event), not fought; a `helm upgrade` with a stale partition count keeps
//     one miner per partition the operator observed;
//   - two instances: only the leader acts; a crashed leader is replaced after the lease duration, a stopped one
//     at once; the real process (main.ts) releases its Lease on SIGTERM.
// No controller-manager runs, so the StatefulSet gets no Pods; readiness is simulated through /status.
import { mkdtempSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LogLevel } from '@chainlog/core/config';
import { closeServer, listen } from '@chainlog/core/http';
import { createKafka, ensureTopics, partitionCount } from '@chainlog/core/kafka';
import { createLogger } from '@chainlog/core/logging';
import { createMetricsRegistry } from '@chainlog/core/metrics';
import type { Admin } from 'kafkajs';
import type { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadKubeConfig } from '../services/operator/src/kube/kube.js';
import { OBSERVED_PARTITIONS_ANNOTATION, readConfig } from '../services/operator/src/config.js';
import { createOperator, type Operator } from '../services/operator/src/service.js';
import { CHART_DIR, helm, helmTemplate, parseManifests, type K8sObject } from './support/helm.js';
import { eventually, kafkaBrokers, testKafka, uniqueTopic } from './support/kafka.js';
import { checkKubeBinaries, startKubeApiServer, type KubeApiServer } from './support/kube-api-server.js';
import { runToExit, ServiceProcess } from './support/processes.js';

const LOG_LEVEL = (process.env.TEST_LOG_LEVEL as LogLevel | undefined) ?? 'silent';
const RELEASE = 'chainlog';
const STATEFULSET = 'chainlog-miner';

let kube: KubeApiServer;
let admin: Admin;

beforeAll(async () => {
  admin = testKafka().admin();
  await admin.connect();
  kube = await startKubeApiServer();
}, 180_000);

afterAll(async () => {
  await kube?.stop();
  await admin?.disconnect();
});

// --- Helpers ----------------------------------------------------------------------------------------

interface RunningOperator {
  operator: Operator;
  registry: Registry;
  server: Server;
  url: string;
  stop(options?: { releaseLease?: boolean }): Promise<void>;
}

/** Starts an operator in-process with the given environment (config.ts parses it) and an HTTP server. */
async function startOperator(env: Record<string, string>, watchTimeoutSeconds?: number): Promise<RunningOperator> {
  // These tests are of the StatefulSet matcher (the chart's operator.mode=statefulset).
  const config = readConfig({ OPERATOR_MODE: 'statefulset', ...env, LOG_LEVEL, HTTP_PORT: '0' });
  const logger = createLogger('operator', config.logLevel).child({ identity: config.identity });
  const registry = createMetricsRegistry('operator');
  const operator = createOperator({
    config,
    logger,
    registry,
    kubeConfig: loadKubeConfig(config.kube),
    kafka: createKafka(config.kafka, logger, 3),
    ...(watchTimeoutSeconds !== undefined ? { watchTimeoutSeconds } : {}),
  });
  const server = await listen(operator.app, 0, '127.0.0.1');
  operator.start();
  let stopped = false;
  return {
    operator,
    registry,
    server,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async stop(options = {}) {
      if (stopped) return;
      stopped = true;
      await operator.stop(options);
      await closeServer(server, 1000);
    },
  };
}

async function metric(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const found = registry.getSingleMetric(name);
  if (found === undefined) throw new Error(`no metric ${name}`);
  const { values } = await found.get();
  return values
    .filter((value) => Object.entries(labels).every(([key, want]) => String((value.labels as Record<string, unknown>)[key]) === want))
    .reduce((sum, value) => sum + value.value, 0);
}

interface StatefulSetView {
  replicas: number;
  annotation: string | undefined;
  resourceVersion: string;
  managers: string[];
}

async function statefulSet(namespace: string, name = STATEFULSET): Promise<StatefulSetView> {
  const { status, body } = await kube.request('GET', `/apis/apps/v1/namespaces/${namespace}/statefulsets/${name}`);
  if (status !== 200) throw new Error(`GET statefulset: HTTP ${status}`);
  return {
    replicas: body.spec.replicas,
    annotation: body.metadata.annotations?.[OBSERVED_PARTITIONS_ANNOTATION],
    resourceVersion: body.metadata.resourceVersion,
    managers: (body.metadata.managedFields ?? []).map((entry: { manager: string }) => entry.manager),
  };
}

/** `kubectl scale statefulset/<name> --replicas=n` (through /scale, as the admin). */
async function kubectlScale(namespace: string, replicas: number, name = STATEFULSET): Promise<void> {
  const { status } = await kube.request('PATCH', `/apis/apps/v1/namespaces/${namespace}/statefulsets/${name}/scale?fieldManager=kubectl`, {
    body: { spec: { replicas } },
    contentType: 'application/merge-patch+json',
  });
  expect(status).toBe(200);
}

interface EventView {
  reason: string;
  message: string;
  type: string;
  count: number;
  source: string;
}

async function events(namespace: string): Promise<EventView[]> {
  const { status, body } = await kube.request('GET', `/api/v1/namespaces/${namespace}/events?fieldSelector=involvedObject.name%3D${STATEFULSET}`);
  expect(status).toBe(200);
  return (body.items as { reason: string; message: string; type: string; count: number; source: { component: string } }[]).map((event) => ({
    reason: event.reason,
    message: event.message,
    type: event.type,
    count: event.count,
    source: event.source.component,
  }));
}

// Through the shared ensureTopics: kafkajs' own waitForLeaders gives up on a 4.x broker whose metadata lags
// the controller for a moment after the creation.
async function createTopic(topic: string, partitions: number): Promise<void> {
  await ensureTopics(admin, [{ topic, partitions }]);
}

async function createNamespace(name: string): Promise<void> {
  await kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
}

async function leaseHolder(namespace: string, name: string): Promise<string | undefined> {
  const { status, body } = await kube.request('GET', `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases/${name}`);
  return status === 200 ? body.spec.holderIdentity : undefined;
}

// --- The fixture itself -------------------------------------------------------------------------------

describe('the kube-apiserver fixture', () => {
  it('fails (never skips) naming the install scripts when the binaries are missing', () => {
    const empty = mkdtempSync(join(tmpdir(), 'chainlog-empty-cache-'));
    expect(() => checkKubeBinaries(empty)).toThrow(/kube-apiserver and etcd not found in .*install-kube-apiserver\.sh.*install-etcd\.sh/);
    expect(() => checkKubeBinaries()).not.toThrow();
  });

  it('is a real, authenticated v1.34 API server', async () => {
    const version = await kube.request('GET', '/version');
    expect(version.status).toBe(200);
    expect(version.body.gitVersion).toMatch(/^v1\.34\./);
    expect((await kube.request('GET', '/api/v1/namespaces', { token: 'not-a-token' })).status).toBe(401);
  });
});

// --- The chart, installed, and the operator with the chart's ServiceAccount ----------------------------

describe('with the chart installed', () => {
  const namespace = `ledger-${Date.now().toString(36)}`;
  const topic = uniqueTopic('op-chart-tx');
  let valuesFile: string;
  let operator: RunningOperator;

  const helmArgs = (command: 'install' | 'upgrade'): string[] => [
    command,
    RELEASE,
    CHART_DIR,
    '--namespace',
    namespace,
    ...(command === 'install' ? ['--create-namespace'] : []),
    // No controller runs the provisioning hook Job; the test creates the topic itself.
    '--no-hooks',
    '--kube-apiserver',
    kube.url,
    '--kube-token',
    kube.token,
    '--kube-ca-file',
    kube.caFile,
    '-f',
    valuesFile,
  ];

  beforeAll(async () => {
    valuesFile = join(kube.dir, 'values.json');
    writeFileSync(
      valuesFile,
      JSON.stringify({
        kafka: { bootstrapServers: kafkaBrokers() },
        topics: {
          transactions: { name: topic, partitions: 2 },
          blockchain: { name: uniqueTopic('op-chart-chain') },
          audit: { name: uniqueTopic('op-chart-audit') },
          deadLetter: { name: uniqueTopic('op-chart-dlq') },
        },
        // This file tests the operator that matches the chart's own miner StatefulSet (the chart's default is ledgers).
        operator: { enabled: true, mode: 'statefulset' },
      }),
    );
    await createTopic(topic, 2);
  });

  afterAll(async () => {
    await operator?.stop();
  });

  it('helm install: the API server accepts every object of the chart (operator enabled)', async () => {
    const installed = await helm(helmArgs('install'));
    expect(installed.code, installed.stderr).toBe(0);
    const rendered = parseManifests(await helmTemplate([{}], { release: RELEASE, namespace, extraArgs: ['-f', valuesFile, '--no-hooks'] }));
    const names = rendered.map((object) => `${object.kind}/${object.metadata.name}`);
    expect(names).toEqual(expect.arrayContaining(['Deployment/chainlog-operator', 'ServiceAccount/chainlog-operator', 'Role/chainlog-operator', 'RoleBinding/chainlog-operator', `StatefulSet/${STATEFULSET}`]));
    for (const object of rendered) {
      const path = await kube.pathOf({ ...object, metadata: { ...object.metadata, namespace: object.metadata.namespace ?? namespace } });
      const { status } = await kube.request('GET', path);
      expect(status, `${object.kind}/${object.metadata.name}`).toBe(200);
    }
    expect((await statefulSet(namespace)).replicas).toBe(2);
  });

  it('runs with the env of the chart Deployment and the token of the chart ServiceAccount (the chart Role suffices)', async () => {
    const deployment = (await kube.request('GET', `/apis/apps/v1/namespaces/${namespace}/deployments/chainlog-operator`)).body as K8sObject;
    const container = (deployment.spec as { template: { spec: { containers: { env: { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[] }[] } } }).template.spec.containers[0];
    const env: Record<string, string> = {};
    for (const entry of container?.env ?? []) {
      if (entry.value !== undefined) env[entry.name] = entry.value;
      else if (entry.valueFrom?.fieldRef?.fieldPath === 'metadata.namespace') env[entry.name] = namespace;
      else if (entry.valueFrom?.fieldRef?.fieldPath === 'metadata.name') env[entry.name] = 'chainlog-operator-5d8c7-x1';
    }
    expect(env).toMatchObject({ MINER_STATEFULSET: STATEFULSET, TRANSACTIONS_PARTITIONS: '2', TOPIC_TRANSACTIONS: topic, POD_NAMESPACE: namespace });

    const token = await kube.serviceAccountToken(namespace, 'chainlog-operator');
    // Least privilege: the ServiceAccount may not delete the StatefulSet nor read Secrets.
    expect((await kube.request('DELETE', `/apis/apps/v1/namespaces/${namespace}/statefulsets/${STATEFULSET}`, { token })).status).toBe(403);
    expect((await kube.request('GET', `/api/v1/namespaces/${namespace}/secrets`, { token })).status).toBe(403);

    operator = await startOperator({
      ...env,
      KUBECONFIG: kube.writeKubeconfig(token, namespace),
      KAFKA_POLL_INTERVAL_MS: '300',
      RESYNC_INTERVAL_MS: '700',
      LEASE_DURATION_SECONDS: '5',
    });
    await eventually(async () => {
      expect(operator.operator.readiness().ready).toBe(true);
      expect(operator.operator.elector.isLeader()).toBe(true);
      expect((await statefulSet(namespace)).annotation).toBe('2');
    });
    expect(await leaseHolder(namespace, 'chainlog-miner-operator')).toBe('chainlog-operator-5d8c7-x1');
    const readyz = await fetch(`${operator.url}/readyz`);
    expect(readyz.status).toBe(200);
    expect(await readyz.json()).toMatchObject({ status: 'ready', leader: true, partitions: 2 });
    // every reconcile so far succeeded: no 403 from a missing permission
    expect(await metric(operator.registry, 'chainlog_operator_reconcile_errors_total')).toBe(0);
  });

  it('kubectl scale above the partition count: the operator grows the partitions', async () => {
    await kubectlScale(namespace, 4);
    await eventually(async () => expect(await partitionCount(admin, topic)).toBe(4));
    await eventually(async () => expect((await statefulSet(namespace)).annotation).toBe('4'));
    expect(await events(namespace)).toContainEqual(
      expect.objectContaining({ reason: 'PartitionsGrown', type: 'Normal', source: 'chainlog-operator', message: `Grew topic ${topic} from 2 to 4 partitions to match 4 miner replicas` }),
    );
  });

  it('partitions added with the Kafka admin: the operator scales the StatefulSet up to match', async () => {
    await admin.createPartitions({ topicPartitions: [{ topic, count: 6 }] });
    await eventually(async () => expect((await statefulSet(namespace)).replicas).toBe(6));
    const view = await statefulSet(namespace);
    expect(view.managers).toContain('chainlog-operator');
    await eventually(async () => expect((await statefulSet(namespace)).annotation).toBe('6'));
    expect(await events(namespace)).toContainEqual(expect.objectContaining({ reason: 'MinersScaledUp', message: expect.stringMatching(/^Scaled miners from 4 to 6 replicas/) }));
  });

  it('kubectl scale below the partition count is reported (Event), not fought', async () => {
    await kubectlScale(namespace, 3);
    await eventually(async () =>
      expect(await events(namespace)).toContainEqual(
        expect.objectContaining({ reason: 'MinersBelowPartitions', message: expect.stringMatching(new RegExp(`^3 miner replica\\(s\\) for 6 partitions of topic ${topic}`)) }),
      ),
    );
    // Several resyncs later: still 3 miners, still 6 partitions, and the report was made once.
    const before = operator.operator.reconciler.status().succeeded;
    await eventually(() => expect(operator.operator.reconciler.status().succeeded).toBeGreaterThanOrEqual(before + 3));
    expect((await statefulSet(namespace)).replicas).toBe(3);
    expect(await partitionCount(admin, topic)).toBe(6);
    expect((await events(namespace)).filter((event) => event.reason === 'MinersBelowPartitions')).toHaveLength(1);
    expect(await metric(operator.registry, 'chainlog_operator_actions_total', { action: 'report-scale-down' })).toBe(1);
  });

  it('a helm upgrade with the stale chart partition count keeps one miner per partition the operator observed; the annotation survives it', async () => {
    const upgraded = await helm(helmArgs('upgrade'));
    expect(upgraded.code, upgraded.stderr).toBe(0);
    // The values still say 2 partitions; the chart reads the operator's annotation (6) and asks for 6 miners,
    // where it used to shrink them back to 2.
    expect((await statefulSet(namespace)).replicas).toBe(6);
    const before = operator.operator.reconciler.status().succeeded;
    await eventually(() => expect(operator.operator.reconciler.status().succeeded).toBeGreaterThanOrEqual(before + 3));
    const view = await statefulSet(namespace);
    expect(view.replicas).toBe(6);
    expect(view.annotation).toBe('6');
    expect((await events(namespace)).filter((event) => event.reason === 'MinersBelowPartitions')).toHaveLength(1);
  });

  it('reports readiness and the metrics (ready miners simulated through the status subresource)', async () => {
    const patched = await kube.request('PATCH', `/apis/apps/v1/namespaces/${namespace}/statefulsets/${STATEFULSET}/status`, {
      body: { status: { replicas: 2, readyReplicas: 2, availableReplicas: 2, currentReplicas: 2, updatedReplicas: 2 } },
      contentType: 'application/merge-patch+json',
    });
    expect(patched.status).toBe(200);
    await eventually(async () => expect(await metric(operator.registry, 'chainlog_operator_ready_miners')).toBe(2));
    const text = await (await fetch(`${operator.url}/metrics`)).text();
    const sample = (line: string): number => Number(new RegExp(`^${line.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1]);
    expect(sample('chainlog_operator_partitions{service="operator"}')).toBe(6);
    expect(sample('chainlog_operator_desired_miners{service="operator"}')).toBe(6);
    expect(sample('chainlog_operator_ready_miners{service="operator"}')).toBe(2);
    expect(sample('chainlog_operator_unowned_partitions{service="operator"}')).toBe(4);
    expect(sample('chainlog_operator_is_leader{service="operator"}')).toBe(1);
    expect(sample('chainlog_operator_actions_total{action="grow-partitions",service="operator"}')).toBe(1);
    expect(sample('chainlog_operator_actions_total{action="scale-miners",service="operator"}')).toBe(1);
    expect(sample('chainlog_operator_actions_total{action="report-scale-down",service="operator"}')).toBe(1);
    expect(sample('chainlog_operator_reconcile_errors_total{service="operator"}')).toBe(0);
    expect(sample('chainlog_operator_reconcile_duration_seconds_count{service="operator"}')).toBeGreaterThan(5);
    const status = (await (await fetch(`${operator.url}/status`)).json()) as { reconcile: { last: { decision: { situation: string } } }; leaderElection: { leader: boolean } };
    expect(status.leaderElection.leader).toBe(true);
    expect(status.reconcile.last.decision.situation).toBe('matched');
    expect((await fetch(`${operator.url}/healthz`)).status).toBe(200);
  });
});

// --- RBAC and recovery --------------------------------------------------------------------------------

describe('permissions', () => {
  const namespace = `rbac-${Date.now().toString(36)}`;
  const topic = uniqueTopic('op-rbac-tx');
  let instance: RunningOperator | undefined;

  afterAll(async () => {
    await instance?.stop();
  });

  it('without its Role the operator is not ready and counts errors; once the chart Role is bound it recovers and acts', async () => {
    const rendered = parseManifests(await helmTemplate([{ operator: { mode: 'statefulset' }, kafka: { bootstrapServers: kafkaBrokers() } }], { release: RELEASE, namespace }));
    const pick = (kind: string): K8sObject => rendered.find((object) => object.kind === kind && object.metadata.name === 'chainlog-operator') as K8sObject;
    await createNamespace(namespace);
    await kube.apply(pick('ServiceAccount'));
    await kube.apply({
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: STATEFULSET, namespace },
      spec: {
        replicas: 3,
        serviceName: `${STATEFULSET}-headless`,
        selector: { matchLabels: { app: 'miner' } },
        template: { metadata: { labels: { app: 'miner' } }, spec: { containers: [{ name: 'miner', image: 'chainlog:test' }] } },
      },
    });
    await createTopic(topic, 2);
    const token = await kube.serviceAccountToken(namespace, 'chainlog-operator');
    instance = await startOperator({
      KUBECONFIG: kube.writeKubeconfig(token, namespace),
      NAMESPACE: namespace,
      POD_NAME: 'operator-rbac',
      KAFKA_BROKERS: kafkaBrokers(),
      TOPIC_TRANSACTIONS: topic,
      KAFKA_POLL_INTERVAL_MS: '300',
      RESYNC_INTERVAL_MS: '500',
      LEASE_DURATION_SECONDS: '3',
    });
    const running = instance;
    await eventually(async () => {
      const readiness = running.operator.readiness();
      expect(readiness.ready).toBe(false);
      expect(String(readiness.detail?.reason)).toMatch(/StatefulSet watch failed: HTTP 403/);
      expect(await metric(running.registry, 'chainlog_operator_reconcile_errors_total')).toBeGreaterThan(0);
    });
    expect(running.operator.elector.isLeader()).toBe(false);
    expect(await partitionCount(admin, topic)).toBe(2);

    await kube.apply(pick('Role'));
    await kube.apply(pick('RoleBinding'));
    // The watch is restarted (with backoff) until it works; then the operator leads and acts.
    await eventually(() => expect(running.operator.readiness().ready).toBe(true), 30_000);
    await eventually(() => expect(running.operator.elector.isLeader()).toBe(true), 30_000);
    await eventually(async () => expect(await partitionCount(admin, topic)).toBe(3), 30_000);
    await eventually(async () => expect((await statefulSet(namespace)).annotation).toBe('3'));
  });
});

// --- Leader election ----------------------------------------------------------------------------------

describe('leader election: two instances', () => {
  const namespace = `leader-${Date.now().toString(36)}`;
  const topic = uniqueTopic('op-leader-tx');
  const LEASE_SECONDS = 4;
  const running: RunningOperator[] = [];

  const start = async (identity: string): Promise<RunningOperator> => {
    const instance = await startOperator(
      {
        KUBECONFIG: kube.writeKubeconfig(kube.token, namespace),
        NAMESPACE: namespace,
        POD_NAME: identity,
        MINER_STATEFULSET: STATEFULSET,
        KAFKA_BROKERS: kafkaBrokers(),
        TOPIC_TRANSACTIONS: topic,
        TRANSACTIONS_PARTITIONS: '2',
        KAFKA_POLL_INTERVAL_MS: '300',
        // A long resync: reactions to a scale come from the watch, which is restarted every second.
        RESYNC_INTERVAL_MS: '60000',
        LEASE_DURATION_SECONDS: String(LEASE_SECONDS),
      },
      1,
    );
    running.push(instance);
    return instance;
  };

  beforeAll(async () => {
    await createNamespace(namespace);
    await kube.apply({
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: STATEFULSET, namespace },
      spec: {
        replicas: 2,
        serviceName: `${STATEFULSET}-headless`,
        selector: { matchLabels: { app: 'miner' } },
        template: { metadata: { labels: { app: 'miner' } }, spec: { containers: [{ name: 'miner', image: 'chainlog:test' }] } },
      },
    });
    await createTopic(topic, 2);
  });

  afterAll(async () => {
    await Promise.all(running.map((instance) => instance.stop({ releaseLease: false })));
  });

  let leader: RunningOperator;
  let follower: RunningOperator;

  it('only one leads, and only the leader acts', async () => {
    const a = await start('operator-a');
    const b = await start('operator-b');
    await eventually(() => expect([a, b].filter((instance) => instance.operator.elector.isLeader())).toHaveLength(1));
    [leader, follower] = a.operator.elector.isLeader() ? [a, b] : [b, a];
    expect(await leaseHolder(namespace, 'chainlog-miner-operator')).toBe(leader.operator.elector.identity);

    // Let both watches be restarted (1 s server timeout) before scaling: the reaction must come through a new watch.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    await kubectlScale(namespace, 3);
    await eventually(async () => expect(await partitionCount(admin, topic)).toBe(3));
    await eventually(async () => expect((await statefulSet(namespace)).annotation).toBe('3'));
    await Promise.all([leader.operator.reconciler.idle(), follower.operator.reconciler.idle()]);
    expect(await metric(leader.registry, 'chainlog_operator_actions_total', { action: 'grow-partitions' })).toBe(1);
    expect(await metric(follower.registry, 'chainlog_operator_actions_total')).toBe(0);
    expect(await metric(leader.registry, 'chainlog_operator_is_leader')).toBe(1);
    expect(await metric(follower.registry, 'chainlog_operator_is_leader')).toBe(0);
    // the follower observes all the same
    await eventually(async () => expect(await metric(follower.registry, 'chainlog_operator_partitions')).toBe(3));
    expect((await events(namespace)).filter((event) => event.reason === 'PartitionsGrown')).toHaveLength(1);
  });

  it('a leader that dies without releasing is replaced after the lease duration, not before', async () => {
    const killedAt = Date.now();
    await leader.stop({ releaseLease: false });
    await eventually(() => expect(follower.operator.elector.isLeader()).toBe(true), 20_000, 50);
    const takeoverMs = Date.now() - killedAt;
    const { retryPeriodMs, leaseDurationMs } = follower.operator.elector.timing;
    // The follower last saw a renewal at most about one retry period before the crash, and waits a lease
    // duration from then: so not much before the duration, and within it plus one retry period (+ slack).
    expect(takeoverMs).toBeGreaterThanOrEqual(leaseDurationMs - 2 * retryPeriodMs - 500);
    expect(takeoverMs).toBeLessThanOrEqual(leaseDurationMs + retryPeriodMs + 2000);
    console.info(`takeover after a crash: ${takeoverMs} ms (lease ${leaseDurationMs} ms)`);
    expect(await leaseHolder(namespace, 'chainlog-miner-operator')).toBe(follower.operator.elector.identity);

    // The new leader acts: partitions added outside the chart scale the miners up.
    await admin.createPartitions({ topicPartitions: [{ topic, count: 5 }] });
    await eventually(async () => expect((await statefulSet(namespace)).replicas).toBe(5));
    await eventually(async () => expect(await metric(follower.registry, 'chainlog_operator_actions_total', { action: 'scale-miners' })).toBe(1));
  });

  it('a leader that stops gracefully releases the lease: a stand-by takes over at once', async () => {
    const standBy = await start('operator-c');
    await eventually(() => expect(standBy.operator.readiness().ready).toBe(true));
    expect(standBy.operator.elector.isLeader()).toBe(false);
    const stoppedAt = Date.now();
    await follower.stop({ releaseLease: true });
    await eventually(() => expect(standBy.operator.elector.isLeader()).toBe(true), 20_000, 20);
    const takeoverMs = Date.now() - stoppedAt;
    console.info(`takeover after a release: ${takeoverMs} ms (lease ${LEASE_SECONDS * 1000} ms)`);
    expect(takeoverMs).toBeLessThan((LEASE_SECONDS * 1000) / 2);
    expect(await leaseHolder(namespace, 'chainlog-miner-operator')).toBe('operator-c');
  });
});

// --- The process ------------------------------------------------------------------------------------

describe('the operator process (src/main.ts)', () => {
  const namespace = `process-${Date.now().toString(36)}`;
  const topic = uniqueTopic('op-process-tx');
  it('exits 2 naming every bad variable', async () => {
    const result = await runToExit('operator', { OPERATOR_MODE: 'statefulset', KUBECONFIG: '/nonexistent', NAMESPACE: 'Bad_NS', LEASE_DURATION_SECONDS: 'x' });
    expect(result.code).toBe(2);
    expect(result.output).toMatch(/chainlog-operator: invalid configuration:[\s\S]*NAMESPACE[\s\S]*LEASE_DURATION_SECONDS/);
  });

  it('serves /readyz once watching and leading, and releases its Lease on SIGTERM (exit 0)', async () => {
    await createNamespace(namespace);
    await createTopic(topic, 2);
    const operator = new ServiceProcess('operator', 'operator', {
      OPERATOR_MODE: 'statefulset',
      KUBECONFIG: kube.writeKubeconfig(kube.token, namespace),
      NAMESPACE: namespace,
      POD_NAME: 'operator-process',
      KAFKA_BROKERS: kafkaBrokers(),
      TOPIC_TRANSACTIONS: topic,
      HTTP_PORT: '0',
      LEASE_DURATION_SECONDS: '30',
      KAFKA_POLL_INTERVAL_MS: '500',
    }).start();
    try {
      const { port } = (await operator.waitForLog((line) => line.msg === 'operator listening', 60_000, 'operator listening')) as { port?: number };
      await eventually(async () => {
        const response = await fetch(`http://127.0.0.1:${port}/readyz`);
        expect(response.status).toBe(200);
        expect(await leaseHolder(namespace, 'chainlog-miner-operator')).toBe('operator-process');
      }, 30_000);
      expect(await operator.stop()).toEqual({ code: 0, signal: null });
      // Released: no holder, so a stand-by takes over at once instead of after 30 s.
      expect(await leaseHolder(namespace, 'chainlog-miner-operator')).toBeUndefined();
      expect(operator.output()).toContain('released the lease');
    } finally {
      await operator.dispose();
    }
  });
});
