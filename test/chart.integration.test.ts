// The Helm chart (charts/chainlog) and the plain manifests (k8s/) with the real helm and kubeconform:
// lint, rendering and its wiring, schema validation of values, offline Kubernetes 1.34 API validation,
// chart/code drift of environment variables, and k8s/ against a fresh render.
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { staleFiles } from '../scripts/gen-ledger-crd.js';
import { differences, existingK8sFiles, renderK8s } from '../scripts/render-k8s.js';
import {
  CHART_DIR,
  REPO_ROOT,
  cleanupHelm,
  envOf,
  find,
  helmBinary,
  helmLint as helmLintChart,
  helmTemplate as helmTemplateChart,
  helmTemplateRaw as helmTemplateRawChart,
  kubeconform,
  kubeconformTool,
  parseManifests,
  podSpec,
  render as renderChart,
  workloads,
  type Container,
  type K8sObject,
  type TemplateOptions,
  type Values,
} from './support/helm.js';
import { envNamesRead, envSources } from './support/env-names.js';
import { MINER_KEY_COPY, renderLedger, saslListeners } from '../services/operator/src/ledger/render.js';
import type { Ledger } from '../services/operator/src/ledger/types.js';

// --- The chart's two modes ----------------------------------------------------------------------------
// Most tests below are about the workloads the chart renders itself: operator.mode=statefulset, put first so a
// test's own values can still choose. The default, ledgers (the chart renders one Ledger and the operator the
// workloads), has its own describe and renders the chart's defaults as they are (`asDefault`).
const STATEFULSET: Values = { operator: { mode: 'statefulset' } };
const helmTemplate = (values: Values[] = [], options?: TemplateOptions): Promise<string> => helmTemplateChart([STATEFULSET, ...values], options);
const helmTemplateRaw = (values: Values[] = [], options?: TemplateOptions) => helmTemplateRawChart([STATEFULSET, ...values], options);
const render = (values: Values[] = [], options?: TemplateOptions): Promise<K8sObject[]> => renderChart([STATEFULSET, ...values], options);
const helmLint = (values: Values[] = []) => helmLintChart([STATEFULSET, ...values]);
const asDefault = { render: renderChart, helmTemplate: helmTemplateChart, helmTemplateRaw: helmTemplateRawChart, helmLint: helmLintChart };

// --- Value sets used by several tests ----------------------------------------------------------------

const KEY_A = 'a'.repeat(64);
const KEY_B = 'b'.repeat(64);

const MONITORING: Values = {
  metrics: {
    scrapeAnnotations: true,
    serviceMonitor: { enabled: true, additionalLabels: { release: 'kube-prometheus-stack' }, interval: '15s' },
    prometheusRule: { enabled: true, additionalLabels: { release: 'kube-prometheus-stack' } },
    grafanaDashboards: { enabled: true, annotations: { grafana_folder: 'Chainlog' } },
  },
};
const BUNDLED: Values = { kafka: { bundled: { enabled: true } } };
const TLS_SASL: Values = {
  kafka: {
    bootstrapServers: 'my-cluster-kafka-bootstrap.kafka:9093',
    clientIdPrefix: 'ledger',
    tls: {
      enabled: true,
      ca: { existingSecret: 'my-cluster-cluster-ca-cert', key: 'ca.crt' },
      clientCert: { existingSecret: 'chainlog-user', certKey: 'user.crt', keyKey: 'user.key' },
    },
    sasl: { enabled: true, mechanism: 'scram-sha-512', username: 'chainlog', existingSecret: 'chainlog-user', passwordKey: 'password' },
  },
};
const SASL_FILES: Values = {
  kafka: {
    sasl: { enabled: true, mechanism: 'scram-sha-256', existingSecret: 'kafka-creds', usernameKey: 'user', passwordKey: 'pass', mountAsFiles: true },
  },
};
/** Every optional feature at once. */
const EVERYTHING: Values[] = [
  MONITORING,
  BUNDLED,
  {
    networkPolicy: { enabled: true },
    consensus: { allowedMinerKeys: [KEY_A, KEY_B], requireTransactionSignatures: true, maxBlockTransactions: 101, difficulty: 12, blockReward: 25 },
    miner: {
      signingKeys: { existingSecret: 'miner-keys' },
      config: { cutAtPendingTransactions: 100, powWorkers: 2, groupId: 'miners', sessionTimeoutMs: 20000, maxBlockWaitMs: 500, maxPendingPerPartition: 5000 },
    },
    ingest: {
      autoscaling: { enabled: true, minReplicas: 2, maxReplicas: 6, targetMemoryUtilizationPercentage: 80 },
      ingress: { enabled: true, className: 'nginx', hosts: [{ host: 'ledger.example.com' }], tls: [{ secretName: 'ledger-tls', hosts: ['ledger.example.com'] }] },
      config: {
        maxBatchSize: 500,
        maxBodyBytes: 2097152,
        produceTimeoutMs: 4000,
        maxInflightRequests: 128,
        auditorPublicUrl: 'https://audit.example.com',
        metadataRefreshMs: 5000,
        retryAfterSeconds: 3,
        shutdownGraceMs: 12000,
      },
      extraEnv: [{ name: 'NODE_OPTIONS', value: '--max-old-space-size=384' }],
    },
    auditor: { ingress: { enabled: true, hosts: [{ host: 'audit.example.com', paths: [{ path: '/v1', pathType: 'Prefix' }] }] }, config: { publishAuditEvents: false, recentLimit: 500, blockCacheBytes: 33554432, pendingTrackLimit: 10000, queueLimit: 1000 } },
    operator: {
      pdb: { enabled: true },
      replicas: 2,
      config: { maxPartitions: 64, kafkaPollIntervalMs: 5000, resyncIntervalMs: 60000, leaseName: 'ledger-operator', leaseDurationSeconds: 20, kubeRequestTimeoutMs: 5000 },
    },
    kafka: { clientIdPrefix: 'ledger', connectionTimeoutMs: 5000, requestTimeoutMs: 20000 },
    topics: { provisioning: { ttlSecondsAfterFinished: 300 } },
    imagePullSecrets: [{ name: 'regcred' }],
    image: { registry: 'ghcr.io/acme', tag: '1.2.3' },
    commonLabels: { team: 'ledger' },
  },
];

/** The #21 and #19 settings: replay window, ledger rules, checkpoints, the auditor's volume. */
const BOUNDED: Values = {
  consensus: { replayWindowMs: 86_400_000, enforceBalances: true, accountKeys: { carol: [KEY_B], alice: [KEY_A, KEY_B] }, genesisAllocations: { bob: 5, alice: 1_000_000 } },
  checkpoints: { everyBlocks: 10, verify: false },
  topics: { checkpoints: { name: 'ledger-checkpoints' } },
  auditor: { persistence: { size: '20Gi', storageClass: 'fast' } },
};

const objectsOfKind = (objects: K8sObject[], kind: string): K8sObject[] => objects.filter((object) => object.kind === kind);

const SERVICE_COMPONENTS = ['ingest', 'miner', 'auditor', 'operator'] as const;

function chainlogContainers(objects: K8sObject[]): { workload: K8sObject; container: Container }[] {
  return workloads(objects).flatMap((workload) =>
    podSpec(workload)
      .containers.filter((container) => container.command?.[0] === 'node')
      .map((container) => ({ workload, container })),
  );
}

/** The Chainlog containers that talk to Kafka: all but the miner-keys Job (the Kubernetes API only). */
function kafkaClients(objects: K8sObject[]): { workload: K8sObject; container: Container }[] {
  return chainlogContainers(objects).filter(({ workload }) => !workload.metadata.name.endsWith('-miner-keys') && !workload.metadata.name.endsWith('-kafka-credentials'));
}

function containerOf(objects: K8sObject[], kind: string, suffix: string): Container {
  const spec = podSpec(find(objects, kind, suffix));
  const [container] = spec.containers;
  if (container === undefined) throw new Error(`${kind} *${suffix} has no container`);
  return container;
}

// --- Which environment variables each service reads (test/support/env-names.ts) -----------------------

/** The env names the program a container runs (`node services/<svc>/dist/<file>.js`) reads. */
function envReadBy(command: string[]): { names: Set<string>; sources: string[] } {
  const script = command[1] ?? '';
  return { names: envNamesRead(script), sources: envSources(script) };
}

// --- Schema helpers --------------------------------------------------------------------------------

interface SchemaNode {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, SchemaNode>;
  additionalProperties?: boolean | SchemaNode;
  description?: string;
  [key: string]: unknown;
}

function loadSchema(): { root: SchemaNode; resolve: (node: SchemaNode) => SchemaNode } {
  const root = JSON.parse(readFileSync(join(CHART_DIR, 'values.schema.json'), 'utf8')) as SchemaNode & { definitions: Record<string, SchemaNode> };
  const resolve = (node: SchemaNode): SchemaNode => {
    if (node.$ref === undefined) return node;
    const name = node.$ref.replace('#/definitions/', '');
    const target = root.definitions[name];
    if (target === undefined) throw new Error(`unresolved $ref ${node.$ref}`);
    return { ...resolve(target), ...(node.description ? { description: node.description } : {}) };
  };
  return { root, resolve };
}

/** Value paths down to the schema's leaves (scalars, lists and pass-through maps such as resources). */
function valuePaths(values: unknown, node: SchemaNode, resolve: (node: SchemaNode) => SchemaNode, path: string, out: string[], missing: string[]): void {
  const schema = resolve(node);
  const leaf = schema['x-leaf'] === true; // pass-through Kubernetes objects such as resources
  if (schema.properties !== undefined && !leaf && values !== null && typeof values === 'object' && !Array.isArray(values)) {
    for (const [key, value] of Object.entries(values as Record<string, unknown>)) {
      const child = schema.properties[key];
      const childPath = path === '' ? key : `${path}.${key}`;
      if (child === undefined) missing.push(childPath);
      else valuePaths(value, child, resolve, childPath, out, missing);
    }
    return;
  }
  out.push(path);
}

// ------------------------------------------------------------------------------------------------------

const TWELVE_PARTITIONS: Values[] = [SASL_FILES, { topics: { transactions: { partitions: 12 } }, miner: { replicas: 3 } }];

describe('the chainlog Helm chart', () => {
  /** Manifest streams rendered once and shared by the tests (helm is the slow part). */
  const streams = new Map<string, string>();
  let defaults: K8sObject[];
  let everything: K8sObject[];

  beforeAll(async () => {
    helmBinary(); // fails with the install command when helm is missing
    const sets: [string, Values[]][] = [
      ['default values', []],
      ['every optional feature (monitoring CRDs included)', EVERYTHING],
      ['TLS and SASL', [TLS_SASL]],
      ['SASL files, 12 partitions, 3 miners', TWELVE_PARTITIONS],
    ];
    const rendered = await Promise.all(sets.map(([, values]) => helmTemplate(values)));
    sets.forEach(([name], index) => streams.set(name, rendered[index] as string));
    defaults = parseManifests(streams.get('default values') as string);
    everything = parseManifests(streams.get('every optional feature (monitoring CRDs included)') as string);
  });
  afterAll(cleanupHelm);

  describe.concurrent('helm lint --strict', () => {
    const cases: [string, Values[]][] = [
      ['default values', []],
      ['monitoring enabled', [MONITORING]],
      ['bundled Kafka enabled', [BUNDLED]],
      ['TLS and SASL (secretKeyRef)', [TLS_SASL]],
      ['every optional feature', EVERYTHING],
    ];
    for (const [name, values] of cases) {
      it(name, async ({ expect }) => {
        const result = await helmLint(values);
        expect(result.stderr + result.stdout, 'helm lint output').toContain('1 chart(s) linted, 0 chart(s) failed');
        expect(result.code).toBe(0);
      });
    }
  });

  describe.concurrent('rendering with default values (operator.mode=statefulset)', () => {
    it('renders the services, the miner and auditor StatefulSets and the provisioning hook, nothing optional', ({ expect }) => {
      const kinds = defaults.map((object) => `${object.kind}/${object.metadata.name}`).sort();
      expect(kinds).toEqual(
        [
          'Deployment/chainlog-ingest',
          'Deployment/chainlog-operator',
          'Job/chainlog-provision-topics',
          // Secure by default: the miner-keys hook Job with its least-privilege RBAC, and NetworkPolicies.
          'Job/chainlog-miner-keys',
          'Role/chainlog-miner-keys',
          'RoleBinding/chainlog-miner-keys',
          'ServiceAccount/chainlog-miner-keys',
          ...['auditor', 'ingest', 'miner', 'miner-keys', 'operator', 'provision-topics'].map((name) => `NetworkPolicy/chainlog-${name}`),
          'PodDisruptionBudget/chainlog-auditor',
          'PodDisruptionBudget/chainlog-ingest',
          'PodDisruptionBudget/chainlog-miner',
          // The `helm test` hook (created by `helm test` only).
          'Pod/chainlog-test-transaction',
          'Role/chainlog-operator',
          'RoleBinding/chainlog-operator',
          'Service/chainlog-auditor',
          'Service/chainlog-ingest',
          'Service/chainlog-miner-headless',
          'Service/chainlog-operator',
          'ServiceAccount/chainlog',
          'ServiceAccount/chainlog-operator',
          'StatefulSet/chainlog-auditor',
          'StatefulSet/chainlog-miner',
        ].sort(),
      );
      expect(defaults.every((object) => object.metadata.namespace === 'ledger')).toBe(true);
    });

    it('labels every resource the app.kubernetes.io way', ({ expect }) => {
      for (const object of [...defaults, ...everything]) {
        const labels = object.metadata.labels ?? {};
        expect(Object.keys(labels), `${object.kind}/${object.metadata.name}`).toEqual(
          expect.arrayContaining([
            'helm.sh/chart',
            'app.kubernetes.io/name',
            'app.kubernetes.io/instance',
            'app.kubernetes.io/version',
            'app.kubernetes.io/managed-by',
            'app.kubernetes.io/component',
            'app.kubernetes.io/part-of',
          ]),
        );
        expect(labels['app.kubernetes.io/name']).toBe('chainlog');
        expect(labels['app.kubernetes.io/instance']).toBe('chainlog');
      }
      expect(everything.every((object) => object.metadata.labels?.team === 'ledger')).toBe(true);
    });

    it('runs one image, choosing the service by command, in /app', ({ expect }) => {
      const commands = chainlogContainers(defaults).map(({ container }) => `${container.image as string} ${container.command?.join(' ')}`);
      expect(commands.sort()).toEqual(
        [
          'chainlog:0.1.0 node services/auditor/dist/main.js',
          'chainlog:0.1.0 node services/ingest/dist/main.js',
          'chainlog:0.1.0 node services/miner/dist/main.js',
          'chainlog:0.1.0 node services/operator/dist/main.js',
          'chainlog:0.1.0 node services/operator/dist/miner-keys.js',
          'chainlog:0.1.0 node services/operator/dist/provision-topics.js',
        ].sort(),
      );
      expect(chainlogContainers(defaults).every(({ container }) => container.workingDir === '/app')).toBe(true);
      expect(containerOf(everything, 'Deployment', '-ingest').image).toBe('ghcr.io/acme/chainlog:1.2.3');
    });

    it('applies the restricted security context, resources, /tmp and probes to every Chainlog pod', ({ expect }) => {
      for (const { workload, container } of chainlogContainers(defaults)) {
        const spec = podSpec(workload);
        const where = `${workload.kind}/${workload.metadata.name}`;
        expect(spec.securityContext, where).toMatchObject({ runAsNonRoot: true, runAsUser: 10001, seccompProfile: { type: 'RuntimeDefault' } });
        expect(container.securityContext, where).toMatchObject({
          runAsNonRoot: true,
          runAsUser: 10001,
          readOnlyRootFilesystem: true,
          allowPrivilegeEscalation: false,
          capabilities: { drop: ['ALL'] },
          seccompProfile: { type: 'RuntimeDefault' },
        });
        expect(container.resources, where).toMatchObject({ requests: { cpu: expect.any(String), memory: expect.any(String) }, limits: { memory: expect.any(String) } });
        expect(container.volumeMounts, where).toContainEqual({ name: 'tmp', mountPath: '/tmp' });
        expect(spec.volumes, where).toContainEqual(expect.objectContaining({ name: 'tmp', emptyDir: expect.any(Object) }));
        if (workload.kind === 'Job') continue;
        expect(spec.automountServiceAccountToken, where).toBe(workload.metadata.name.endsWith('-operator'));
        expect(container.livenessProbe, where).toMatchObject({ httpGet: { path: '/healthz', port: 'http' } });
        expect(container.readinessProbe, where).toMatchObject({ httpGet: { path: '/readyz', port: 'http' } });
        expect(spec.topologySpreadConstraints, where).toHaveLength(1);
        const port = (container.ports as { containerPort: number }[] | undefined)?.[0]?.containerPort;
        expect(envOf(container).get('HTTP_PORT'), where).toBe(String(port));
      }
    });

    it('gives the miners a headless Service, POD_INDEX from the pod-index label and MINER_ID from the pod name', ({ expect }) => {
      const miner = find(defaults, 'StatefulSet', '-miner');
      expect(miner.spec).toMatchObject({ replicas: 2, serviceName: 'chainlog-miner-headless', podManagementPolicy: 'Parallel' });
      const env = containerOf(defaults, 'StatefulSet', '-miner').env ?? [];
      expect(env).toContainEqual({ name: 'POD_INDEX', valueFrom: { fieldRef: { fieldPath: "metadata.labels['apps.kubernetes.io/pod-index']" } } });
      expect(env).toContainEqual({ name: 'MINER_ID', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } });
      expect(env).toContainEqual({ name: 'MINER_REPLICAS', value: '2' });
      expect(find(defaults, 'Service', '-miner-headless').spec).toMatchObject({ clusterIP: 'None' });
    });

    it('provisions topics in a pre-install/pre-upgrade hook Job that Helm deletes when it succeeded', ({ expect }) => {
      const job = find(defaults, 'Job', '-provision-topics');
      expect(job.metadata.annotations).toMatchObject({
        'helm.sh/hook': 'pre-install,pre-upgrade',
        'helm.sh/hook-delete-policy': 'before-hook-creation,hook-succeeded',
      });
      const env = envOf(containerOf(defaults, 'Job', '-provision-topics'));
      expect(env.get('TRANSACTIONS_PARTITIONS')).toBe('2');
      expect(env.get('TOPIC_REPLICATION_FACTOR')).toBe('-1');
      expect(env.get('TOPIC_TRANSACTIONS')).toBe('transactions');
      expect(env.get('TOPIC_DEAD_LETTER')).toBe('transactions-dlq');
      expect(podSpec(job).restartPolicy).toBe('Never');
    });

    it('grants the operator least privilege: a namespaced Role, never a ClusterRole', ({ expect }) => {
      expect(defaults.some((object) => object.kind.startsWith('Cluster'))).toBe(false);
      const role = find(defaults, 'Role', '-operator');
      expect(role.rules).toEqual([
        { apiGroups: ['apps'], resources: ['statefulsets'], verbs: ['get', 'list', 'watch', 'patch'] },
        { apiGroups: ['apps'], resources: ['statefulsets/scale'], verbs: ['patch'] },
        { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
        { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] },
        // Its own Deployment: the Lease's owner, so `helm uninstall` leaves no Lease behind.
        { apiGroups: ['apps'], resources: ['deployments'], resourceNames: ['chainlog-operator'], verbs: ['get'] },
      ]);
      const binding = find(defaults, 'RoleBinding', '-operator');
      expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'chainlog-operator' });
      expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'chainlog-operator', namespace: 'ledger' }]);
      expect(podSpec(find(defaults, 'Deployment', '-operator')).serviceAccountName).toBe('chainlog-operator');
    });
  });

  describe.concurrent('miners follow partitions', () => {
    for (const partitions of [1, 4, 12]) {
      it(`topics.transactions.partitions=${partitions} gives ${partitions} partitions and ${partitions} miners`, async ({ expect }) => {
        const objects = await render([{ topics: { transactions: { partitions } } }]);
        expect(find(objects, 'StatefulSet', '-miner').spec?.replicas).toBe(partitions);
        const miner = envOf(containerOf(objects, 'StatefulSet', '-miner'));
        expect(miner.get('MINER_REPLICAS')).toBe(String(partitions));
        expect(miner.get('TRANSACTIONS_PARTITIONS')).toBe(String(partitions));
        expect(envOf(containerOf(objects, 'Job', '-provision-topics')).get('TRANSACTIONS_PARTITIONS')).toBe(String(partitions));
      });
    }

    it('miner.replicas overrides the replica count; the topic keeps its partitions', async ({ expect }) => {
      const objects = await render([{ topics: { transactions: { partitions: 6 } }, miner: { replicas: 3 } }]);
      expect(find(objects, 'StatefulSet', '-miner').spec?.replicas).toBe(3);
      expect(envOf(containerOf(objects, 'StatefulSet', '-miner')).get('MINER_REPLICAS')).toBe('3');
      expect(envOf(containerOf(objects, 'Job', '-provision-topics')).get('TRANSACTIONS_PARTITIONS')).toBe('6');
    });

    it('topics.provisioning.enabled=false and operator.enabled=false drop the Job and the operator with its RBAC', async ({ expect }) => {
      const objects = await render([{ topics: { provisioning: { enabled: false } }, operator: { enabled: false } }]);
      const names = objects.map((object) => `${object.kind}/${object.metadata.name}`);
      expect(names.filter((name) => /operator|provision/.test(name))).toEqual([]);
      expect(find(objects, 'StatefulSet', '-miner').spec?.replicas).toBe(2);
    });
  });

  describe.concurrent('environment wiring', () => {
    it('wires the consensus values identically into miners and auditor, and signatures into ingest', ({ expect }) => {
      const consensusNames = ['DIFFICULTY', 'BLOCK_REWARD', 'ALLOWED_MINER_KEYS', 'REQUIRE_TRANSACTION_SIGNATURES', 'CONSENSUS_MAX_BLOCK_TRANSACTIONS'];
      const pick = (container: Container) => (container.env ?? []).filter((entry) => consensusNames.includes(entry.name));
      const miner = pick(containerOf(everything, 'StatefulSet', '-miner'));
      expect(miner).toEqual([
        { name: 'DIFFICULTY', value: '12' },
        { name: 'BLOCK_REWARD', value: '25' },
        { name: 'ALLOWED_MINER_KEYS', value: `${KEY_A},${KEY_B}` },
        { name: 'REQUIRE_TRANSACTION_SIGNATURES', value: 'true' },
        { name: 'CONSENSUS_MAX_BLOCK_TRANSACTIONS', value: '101' },
      ]);
      expect(pick(containerOf(everything, 'StatefulSet', '-auditor'))).toEqual(miner);
      expect(envOf(containerOf(everything, 'Deployment', '-ingest')).get('REQUIRE_TRANSACTION_SIGNATURES')).toBe('true');
      expect(pick(containerOf(defaults, 'StatefulSet', '-miner'))).toEqual(pick(containerOf(defaults, 'StatefulSet', '-auditor')));
    });

    it('sets only what the services read: every env var on a Chainlog container is read by that service (chart/code drift)', ({ expect }) => {
      const unread: string[] = [];
      for (const objects of [defaults, everything]) {
        for (const { workload, container } of chainlogContainers(objects)) {
          let read: ReturnType<typeof envReadBy>;
          try {
            read = envReadBy(container.command ?? []);
          } catch (error) {
            unread.push(`${workload.kind}/${workload.metadata.name}: ${(error as Error).message}`);
            continue;
          }
          const { names, sources } = read;
          // NODE_OPTIONS: extraEnv in the test values, read by node itself; MALLOC_* (the auditor's): read by glibc.
          const extra = new Set(['NODE_OPTIONS', 'MALLOC_ARENA_MAX', 'MALLOC_MMAP_THRESHOLD_']);
          for (const entry of container.env ?? []) {
            if (!names.has(entry.name) && !extra.has(entry.name)) {
              unread.push(`${workload.kind}/${workload.metadata.name}: ${entry.name} (not read by ${sources.join(', ')})`);
            }
          }
        }
      }
      expect(unread).toEqual([]);
    });

    it('passes the service tunables that are set, and leaves the rest to the services', ({ expect }) => {
      const ingest = envOf(containerOf(everything, 'Deployment', '-ingest'));
      expect(ingest.get('MAX_BATCH_SIZE')).toBe('500');
      expect(ingest.get('PRODUCE_TIMEOUT_MS')).toBe('4000');
      expect(ingest.get('AUDITOR_PUBLIC_URL')).toBe('https://audit.example.com');
      expect(envOf(containerOf(defaults, 'Deployment', '-ingest')).has('MAX_BODY_BYTES')).toBe(false);
      const miner = envOf(containerOf(everything, 'StatefulSet', '-miner'));
      expect(miner.get('CUT_AT_PENDING_TRANSACTIONS')).toBe('100');
      expect(miner.get('POW_WORKERS')).toBe('2');
      expect(miner.get('MINER_GROUP_ID')).toBe('miners');
      expect(miner.get('MINER_PRIVATE_KEY_FILE')).toBe('/etc/chainlog/miner-key/miner.key');
      expect(envOf(containerOf(everything, 'StatefulSet', '-auditor')).get('AUDIT_PUBLISH')).toBe('false');
      expect(envOf(containerOf(everything, 'StatefulSet', '-auditor')).get('BLOCK_CACHE_BYTES')).toBe('33554432');
      const operator = containerOf(defaults, 'Deployment', '-operator').env ?? [];
      expect(operator).toEqual(
        expect.arrayContaining([
          { name: 'MINER_STATEFULSET', value: 'chainlog-miner' },
          { name: 'TRANSACTIONS_PARTITIONS', value: '2' },
          { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
          { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        ]),
      );
      expect(envOf(containerOf(everything, 'Deployment', '-operator')).get('MAX_PARTITIONS')).toBe('64');
      expect(envOf(containerOf(defaults, 'StatefulSet', '-miner')).has('CUT_AT_PENDING_TRANSACTIONS')).toBe(false);
    });

    it('passes the block take limits to the miners, and the replay-window guards and the miners\' group to ingest', async ({ expect }) => {
      // Ingest reads the miners' committed offsets for its mining-backlog check: the same group as the miners.
      expect(envOf(containerOf(everything, 'Deployment', '-ingest')).get('MINER_GROUP_ID')).toBe('miners');
      const objects = await render([
        { consensus: { replayWindowMs: 600_000 }, ingest: { config: { timestampToleranceMs: 60_000, miningBacklogLimitMs: 0 } }, miner: { config: { takeUpToTransactions: 250, takeUpToBytes: 500_000 } } },
      ]);
      const ingest = envOf(containerOf(objects, 'Deployment', '-ingest'));
      expect([ingest.get('TIMESTAMP_TOLERANCE_MS'), ingest.get('MINING_BACKLOG_LIMIT_MS')]).toEqual(['60000', '0']);
      const miner = envOf(containerOf(objects, 'StatefulSet', '-miner'));
      expect([miner.get('TAKE_UP_TO_TRANSACTIONS'), miner.get('TAKE_UP_TO_BYTES')]).toEqual(['250', '500000']);
      const plain = envOf(containerOf(defaults, 'Deployment', '-ingest'));
      expect([plain.has('TIMESTAMP_TOLERANCE_MS'), plain.has('MINING_BACKLOG_LIMIT_MS')]).toEqual([false, false]);
      expect(envOf(containerOf(defaults, 'StatefulSet', '-miner')).has('TAKE_UP_TO_TRANSACTIONS')).toBe(false);
    });

    it('connects to the bundled Kafka automatically, after install (the broker does not exist before)', ({ expect }) => {
      for (const { workload, container } of kafkaClients(everything)) {
        expect(envOf(container).get('KAFKA_BROKERS'), workload.metadata.name).toBe('chainlog-kafka.ledger.svc:9092');
      }
      const kafka = find(everything, 'StatefulSet', '-kafka');
      expect(kafka.spec?.volumeClaimTemplates).toEqual([expect.objectContaining({ metadata: expect.objectContaining({ name: 'data' }) })]);
      const broker = envOf((podSpec(kafka).containers[0] as Container));
      expect(broker.get('KAFKA_PROCESS_ROLES')).toBe('broker,controller');
      // SASL by default: clients on CLIENT, the broker's own inter-broker listener inside the pod.
      expect(broker.get('KAFKA_ADVERTISED_LISTENERS')).toBe('CLIENT://chainlog-kafka.ledger.svc:9092,INTERNAL://localhost:9094');
      expect(broker.get('KAFKA_AUTO_CREATE_TOPICS_ENABLE')).toBe('false');
      expect(find(everything, 'Service', '-kafka').spec).toMatchObject({ ports: [expect.objectContaining({ port: 9092 })] });
      expect(find(everything, 'Job', '-provision-topics').metadata.annotations?.['helm.sh/hook']).toBe('post-install,pre-upgrade');
    });

    it('mounts TLS material from existing Secrets as *_FILE and takes the SASL password from a secretKeyRef', async ({ expect }) => {
      const objects = parseManifests(streams.get('TLS and SASL') as string);
      const containers = kafkaClients(objects);
      expect(containers).toHaveLength(5);
      for (const { workload, container } of containers) {
        const where = workload.metadata.name;
        const env = container.env ?? [];
        expect(env, where).toEqual(
          expect.arrayContaining([
            { name: 'KAFKA_BROKERS', value: 'my-cluster-kafka-bootstrap.kafka:9093' },
            { name: 'KAFKA_SSL', value: 'true' },
            { name: 'KAFKA_SSL_REJECT_UNAUTHORIZED', value: 'true' },
            { name: 'KAFKA_SSL_CA_FILE', value: '/etc/chainlog/kafka-tls/ca/ca.crt' },
            { name: 'KAFKA_SSL_CERT_FILE', value: '/etc/chainlog/kafka-tls/client/user.crt' },
            { name: 'KAFKA_SSL_KEY_FILE', value: '/etc/chainlog/kafka-tls/client/user.key' },
            { name: 'KAFKA_SASL_MECHANISM', value: 'scram-sha-512' },
            { name: 'KAFKA_SASL_USERNAME', value: 'chainlog' },
            { name: 'KAFKA_SASL_PASSWORD', valueFrom: { secretKeyRef: { name: 'chainlog-user', key: 'password' } } },
          ]),
        );
        expect(envOf(container).get('KAFKA_CLIENT_ID'), where).toMatch(/^ledger-/);
        const volumes = podSpec(workload).volumes as { name: string; secret?: { secretName: string } }[];
        expect(volumes, where).toContainEqual(expect.objectContaining({ name: 'kafka-tls-ca', secret: expect.objectContaining({ secretName: 'my-cluster-cluster-ca-cert' }) }));
        expect(volumes, where).toContainEqual(expect.objectContaining({ name: 'kafka-tls-client', secret: expect.objectContaining({ secretName: 'chainlog-user' }) }));
        expect(container.volumeMounts, where).toContainEqual({ name: 'kafka-tls-ca', mountPath: '/etc/chainlog/kafka-tls/ca', readOnly: true });
      }
    });

    it('reads SASL credentials from mounted files when kafka.sasl.mountAsFiles', async ({ expect }) => {
      const objects = parseManifests(streams.get('SASL files, 12 partitions, 3 miners') as string);
      for (const { workload, container } of kafkaClients(objects)) {
        const env = envOf(container);
        expect(env.get('KAFKA_SASL_MECHANISM')).toBe('scram-sha-256');
        expect(env.get('KAFKA_SASL_USERNAME_FILE')).toBe('/etc/chainlog/kafka-sasl/user');
        expect(env.get('KAFKA_SASL_PASSWORD_FILE')).toBe('/etc/chainlog/kafka-sasl/pass');
        expect(env.has('KAFKA_SASL_PASSWORD')).toBe(false);
        expect(podSpec(workload).volumes).toContainEqual(expect.objectContaining({ name: 'kafka-sasl', secret: expect.objectContaining({ secretName: 'kafka-creds' }) }));
      }
    });
  });

  describe.concurrent('bounded state and ledger rules (#21, #19): the auditor\'s volume, the replay window, checkpoints, balances', () => {
    type Claim = { metadata: { name: string }; spec: { accessModes: string[]; storageClassName?: string; resources: { requests: { storage: string } } } };
    const claimsOf = (objects: K8sObject[]): Claim[] | undefined => (find(objects, 'StatefulSet', '-auditor').spec as { volumeClaimTemplates?: Claim[] }).volumeClaimTemplates;
    const BOUNDED_NAMES = ['DIFFICULTY', 'BLOCK_REWARD', 'ALLOWED_MINER_KEYS', 'REQUIRE_TRANSACTION_SIGNATURES', 'REPLAY_WINDOW_MS', 'ENFORCE_BALANCES', 'ACCOUNT_KEYS', 'GENESIS_ALLOCATIONS', 'TOPIC_CHECKPOINTS', 'CHECKPOINT_RESTORE', 'CHECKPOINT_EVERY_TRANSACTIONS', 'CHECKPOINT_EVERY_BLOCKS', 'CHECKPOINT_VERIFY'];
    const bounded = (container: Container) => (container.env ?? []).filter((entry) => BOUNDED_NAMES.includes(entry.name));

    it('the auditor is a StatefulSet with a PersistentVolumeClaim per replica for DATA_DIR, writable by its non-root user, and a startup probe', ({ expect }) => {
      const auditor = find(defaults, 'StatefulSet', '-auditor');
      expect(auditor.spec).toMatchObject({ replicas: 2, serviceName: 'chainlog-auditor', podManagementPolicy: 'Parallel' });
      expect(claimsOf(defaults)).toEqual([
        { metadata: { name: 'data', labels: { 'app.kubernetes.io/name': 'chainlog', 'app.kubernetes.io/instance': 'chainlog', 'app.kubernetes.io/component': 'auditor' } }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '10Gi' } } } },
      ]);
      const container = containerOf(defaults, 'StatefulSet', '-auditor');
      expect(envOf(container).get('DATA_DIR')).toBe('/var/lib/chainlog/auditor');
      expect(envOf(container).get('MALLOC_ARENA_MAX')).toBe('2');
      expect(envOf(container).get('MALLOC_MMAP_THRESHOLD_')).toBe('131072');
      expect(container.volumeMounts).toContainEqual({ name: 'data', mountPath: '/var/lib/chainlog/auditor' });
      // The claim, not a pod volume, is `data`; the root filesystem stays read-only, the volume belongs to the pod's group.
      expect((podSpec(auditor).volumes as { name: string }[]).map((volume) => volume.name)).not.toContain('data');
      expect(container.securityContext).toMatchObject({ readOnlyRootFilesystem: true, runAsNonRoot: true });
      expect(podSpec(auditor).securityContext).toMatchObject({ runAsUser: 10001, fsGroup: 10001, fsGroupChangePolicy: 'OnRootMismatch' });
      const startup = container.startupProbe as { httpGet: { path: string }; periodSeconds: number; failureThreshold: number };
      expect(startup.httpGet.path).toBe('/healthz');
      // Longer than the slowest start measured (a full replay of 1M transactions, 176 s in bench:restart).
      expect(startup.periodSeconds * startup.failureThreshold).toBeGreaterThanOrEqual(176);
      expect(container.resources).toEqual({ requests: { cpu: '100m', memory: '320Mi' }, limits: { cpu: '1', memory: '1Gi' } });
      // Only the auditor has a startup probe and a volume of its own.
      for (const suffix of ['-ingest', '-operator']) expect(containerOf(defaults, 'Deployment', suffix).startupProbe, suffix).toBeUndefined();
      expect(objectsOfKind(defaults, 'Deployment').map((object) => object.metadata.name)).not.toContain('chainlog-auditor');
    });

    it('auditor.persistence: size and class of the claims, "-" for no class, disabled an emptyDir; all pass kubeconform', async ({ expect }) => {
      const sized = await render([{ auditor: { persistence: { size: '20Gi', storageClass: 'fast', annotations: { backup: 'daily' } } } }]);
      expect(claimsOf(sized)?.[0]?.spec).toMatchObject({ storageClassName: 'fast', resources: { requests: { storage: '20Gi' } } });
      expect((claimsOf(sized)?.[0]?.metadata as { annotations?: Record<string, string> }).annotations).toEqual({ backup: 'daily' });
      expect(claimsOf(await render([{ auditor: { persistence: { storageClass: '-' } } }]))?.[0]?.spec.storageClassName).toBe('');
      const ephemeralStream = await helmTemplate([{ auditor: { persistence: { enabled: false, emptyDirSizeLimit: '2Gi' } } }]);
      const ephemeral = parseManifests(ephemeralStream);
      expect(claimsOf(ephemeral)).toBeUndefined();
      expect(podSpec(find(ephemeral, 'StatefulSet', '-auditor')).volumes).toContainEqual({ name: 'data', emptyDir: { sizeLimit: '2Gi' } });
      expect(envOf(containerOf(ephemeral, 'StatefulSet', '-auditor')).get('DATA_DIR')).toBe('/var/lib/chainlog/auditor');
      for (const stream of [ephemeralStream, await helmTemplate([BOUNDED])]) {
        const result = await kubeconform(stream);
        expect(result.stdout + result.stderr, 'kubeconform output').toMatch(/Invalid: 0, Errors: 0/);
      }
    });

    it('renders the consensus once: miners and auditor identical, ingest the rules it applies at the door; checkpoints on every state-keeping reader', async ({ expect }) => {
      const objects = await render([BOUNDED]);
      const miner = bounded(containerOf(objects, 'StatefulSet', '-miner'));
      expect(miner).toEqual([
        { name: 'DIFFICULTY', value: '16' },
        { name: 'BLOCK_REWARD', value: '50' },
        { name: 'ALLOWED_MINER_KEYS', valueFrom: { configMapKeyRef: { name: 'chainlog-allowed-miner-keys', key: 'allowed-miner-keys' } } },
        { name: 'REQUIRE_TRANSACTION_SIGNATURES', value: 'true' },
        { name: 'REPLAY_WINDOW_MS', value: '86400000' },
        { name: 'ENFORCE_BALANCES', value: 'true' },
        // Accounts in order whatever the values' order, so a reordered map rolls nothing.
        { name: 'ACCOUNT_KEYS', value: `alice=${KEY_A},alice=${KEY_B},carol=${KEY_B}` },
        { name: 'GENESIS_ALLOCATIONS', value: 'alice=1000000,bob=5' },
        { name: 'TOPIC_CHECKPOINTS', value: 'ledger-checkpoints' },
        { name: 'CHECKPOINT_EVERY_BLOCKS', value: '10' },
        { name: 'CHECKPOINT_VERIFY', value: 'false' },
      ]);
      expect(bounded(containerOf(objects, 'StatefulSet', '-auditor'))).toEqual(miner);
      // With the ledger rules on, ingest refuses unauthorized spends at the door: it reads the whole consensus.
      expect(bounded(containerOf(objects, 'Deployment', '-ingest'))).toEqual(miner.filter((entry) => !entry.name.includes('CHECKPOINT')));
      // Without them, only the rules it applies alone: signatures and the window.
      const windowOnly = await render([{ consensus: { replayWindowMs: 60_000 } }]);
      expect(bounded(containerOf(windowOnly, 'Deployment', '-ingest'))).toEqual([
        { name: 'REQUIRE_TRANSACTION_SIGNATURES', value: 'true' },
        { name: 'REPLAY_WINDOW_MS', value: '60000' },
      ]);
      // The provisioning Job creates the checkpoint topic (compacted): a miner may lack the ACL to.
      expect(envOf(containerOf(objects, 'Job', '-provision-topics')).get('TOPIC_CHECKPOINTS')).toBe('ledger-checkpoints');
      // Off by default: the services' own defaults (no window, balances informational), the topic still named.
      expect(bounded(containerOf(defaults, 'StatefulSet', '-auditor')).map((entry) => entry.name)).toEqual(['DIFFICULTY', 'BLOCK_REWARD', 'ALLOWED_MINER_KEYS', 'REQUIRE_TRANSACTION_SIGNATURES', 'TOPIC_CHECKPOINTS']);
    });

    it('with operator.mode=ledgers the same values reach the Ledger, and the operator renders the very same entries', async ({ expect }) => {
      const objects = await asDefault.render([BOUNDED]);
      const ledger = find(objects, 'Ledger', 'chainlog') as unknown as Ledger;
      expect(ledger.spec.consensus).toMatchObject({ replayWindowMs: 86_400_000, enforceBalances: true, accountKeys: { alice: [KEY_A, KEY_B], carol: [KEY_B] }, genesisAllocations: { alice: 1_000_000, bob: 5 } });
      expect(ledger.spec.checkpoints).toEqual({ everyBlocks: 10, verify: false });
      expect(ledger.spec.topics.checkpoints).toBe('ledger-checkpoints');
      expect(ledger.spec.auditor.storage).toMatchObject({ ephemeral: false, size: '20Gi', storageClassName: 'fast' });
      const live: Ledger = { ...ledger, metadata: { ...ledger.metadata, namespace: 'ledger', uid: '0f9d1c2e-1111-4222-8333-944455556666', generation: 1, resourceVersion: '1' } };
      const operator = renderLedger(live, { defaultImageTag: '0.1.0' }) as unknown as K8sObject[];
      const chartMode = await render([BOUNDED]);
      for (const [kind, suffix] of [['StatefulSet', '-miner'], ['StatefulSet', '-auditor'], ['Deployment', '-ingest']] as const) {
        expect(bounded(containerOf(operator, kind, suffix)), suffix).toEqual(bounded(containerOf(chartMode, kind, suffix)));
      }
      for (const name of ['DATA_DIR', 'MALLOC_ARENA_MAX', 'MALLOC_MMAP_THRESHOLD_']) expect(envOf(containerOf(operator, 'StatefulSet', '-auditor')).get(name), name).toBe(envOf(containerOf(chartMode, 'StatefulSet', '-auditor')).get(name));
      expect(claimsOf(operator)?.[0]?.spec).toMatchObject({ storageClassName: 'fast', resources: { requests: { storage: '20Gi' } } });
    });
  });

  describe.concurrent('secure by default (#20): miner keys, signed transactions, bearer tokens', () => {
    const allowListRef = { configMapKeyRef: { name: 'chainlog-allowed-miner-keys', key: 'allowed-miner-keys' } };
    const entry = (container: Container, name: string) => (container.env ?? []).find((candidate) => candidate.name === name);

    it('is permissioned with signed transactions: the allow-list comes from the miner-keys Job\'s ConfigMap, the keys from its Secret', ({ expect }) => {
      for (const [kind, suffix] of [['StatefulSet', '-miner'], ['StatefulSet', '-auditor']] as const) {
        const container = containerOf(defaults, kind, suffix);
        expect(entry(container, 'ALLOWED_MINER_KEYS'), suffix).toEqual({ name: 'ALLOWED_MINER_KEYS', valueFrom: allowListRef });
        expect(envOf(container).get('REQUIRE_TRANSACTION_SIGNATURES'), suffix).toBe('true');
      }
      const ingest = containerOf(defaults, 'Deployment', '-ingest');
      expect(envOf(ingest).get('REQUIRE_TRANSACTION_SIGNATURES')).toBe('true');
      // Keys stay where they belong: only miners mount the private keys; ingest does not even see the allow-list.
      expect(entry(ingest, 'ALLOWED_MINER_KEYS')).toBeUndefined();
      const miner = find(defaults, 'StatefulSet', '-miner');
      expect(podSpec(miner).volumes).toContainEqual({ name: 'miner-keys-all', secret: expect.objectContaining({ secretName: 'chainlog-miner-keys' }) });
      expect(envOf(containerOf(defaults, 'StatefulSet', '-miner')).get('MINER_PRIVATE_KEY_FILE')).toBe('/etc/chainlog/miner-key/miner.key');
      // Each miner container sees only its own key: the Secret of all of them reaches the init step only, which is
      // the operator's (one owner of the step: render.ts; the chart renders the same command).
      expect((containerOf(defaults, 'StatefulSet', '-miner').volumeMounts as { name: string }[]).map((mount) => mount.name)).not.toContain('miner-keys-all');
      const init = (podSpec(miner) as { initContainers?: Container[] }).initContainers ?? [];
      expect(init.map((container) => container.name)).toEqual(['miner-key']);
      expect(init[0]?.command).toEqual(['sh', '-c', MINER_KEY_COPY]);
      expect(podSpec(miner).volumes).toContainEqual({ name: 'miner-key', emptyDir: { medium: 'Memory', sizeLimit: '1Mi' } });
      for (const [kind, suffix] of [['StatefulSet', '-auditor'], ['Deployment', '-ingest'], ['Deployment', '-operator']] as const) {
        expect(JSON.stringify(podSpec(find(defaults, kind, suffix)).volumes), suffix).not.toContain('miner-keys');
      }
    });

    it('generates the keys in a pre-install/pre-upgrade hook Job whose Role reaches only its Secret and ConfigMap', ({ expect }) => {
      const job = find(defaults, 'Job', '-miner-keys');
      const weight = (kind: string) => Number(find(defaults, kind, '-miner-keys').metadata.annotations?.['helm.sh/hook-weight']);
      expect(job.metadata.annotations).toMatchObject({ 'helm.sh/hook': 'pre-install,pre-upgrade', 'helm.sh/hook-delete-policy': 'before-hook-creation,hook-succeeded' });
      // The RBAC exists before the Job runs.
      expect(weight('ServiceAccount')).toBeLessThan(weight('Job'));
      expect(weight('RoleBinding')).toBeLessThan(weight('Job'));
      expect(find(defaults, 'Role', '-miner-keys').rules).toEqual([
        { apiGroups: [''], resources: ['secrets', 'configmaps'], verbs: ['create'] },
        { apiGroups: [''], resources: ['secrets'], resourceNames: ['chainlog-miner-keys'], verbs: ['get', 'update'] },
        { apiGroups: [''], resources: ['configmaps'], resourceNames: ['chainlog-allowed-miner-keys'], verbs: ['get', 'update'] },
      ]);
      expect(podSpec(job)).toMatchObject({ serviceAccountName: 'chainlog-miner-keys', automountServiceAccountToken: true, restartPolicy: 'Never' });
      const env = envOf(containerOf(defaults, 'Job', '-miner-keys'));
      expect(Object.fromEntries(['MINER_KEYS_SECRET', 'MINER_ALLOWLIST_CONFIGMAP', 'MINER_KEY_COUNT', 'MINER_KEYS_GENERATE', 'MINER_KEYS_PER_MINER'].map((name) => [name, env.get(name)]))).toEqual({
        MINER_KEYS_SECRET: 'chainlog-miner-keys',
        MINER_ALLOWLIST_CONFIGMAP: 'chainlog-allowed-miner-keys',
        // Every miner the operator may scale to has its key, and every auditor allows it, before it exists.
        MINER_KEY_COUNT: '64',
        MINER_KEYS_GENERATE: 'true',
        MINER_KEYS_PER_MINER: 'true',
      });
      expect((containerOf(defaults, 'Job', '-miner-keys').env ?? []).some((candidate) => candidate.name.startsWith('KAFKA_'))).toBe(false);
    });

    it('keys as many miners as there are without the operator; reads an existing Secret without generating when told so', async ({ expect }) => {
      const [plain, existing] = await Promise.all([
        render([{ operator: { enabled: false }, topics: { transactions: { partitions: 3 } } }]),
        render([{ miner: { signingKeys: { existingSecret: 'my-keys', generate: false } } }]),
      ]);
      expect(envOf(containerOf(plain, 'Job', '-miner-keys')).get('MINER_KEY_COUNT')).toBe('3');
      const env = envOf(containerOf(existing, 'Job', '-miner-keys'));
      expect([env.get('MINER_KEYS_SECRET'), env.get('MINER_KEYS_GENERATE')]).toEqual(['my-keys', 'false']);
      expect(find(existing, 'Role', '-miner-keys').rules).toContainEqual({ apiGroups: [''], resources: ['secrets'], resourceNames: ['my-keys'], verbs: ['get', 'update'] });
      expect(podSpec(find(existing, 'StatefulSet', '-miner')).volumes).toContainEqual({ name: 'miner-keys-all', secret: expect.objectContaining({ secretName: 'my-keys' }) });
    });

    it('with an explicit allow-list, takes the keys as given (no Job); open mode is an explicit choice without keys', async ({ expect }) => {
      const [explicit, open] = await Promise.all([
        render([{ consensus: { allowedMinerKeys: [KEY_A] }, miner: { signingKeys: { existingSecret: 'my-keys' } } }]),
        render([{ consensus: { permissioned: false, requireTransactionSignatures: false } }]),
      ]);
      expect(explicit.some((object) => object.metadata.name.endsWith('-miner-keys'))).toBe(false);
      expect(entry(containerOf(explicit, 'StatefulSet', '-auditor'), 'ALLOWED_MINER_KEYS')).toEqual({ name: 'ALLOWED_MINER_KEYS', value: KEY_A });
      expect(open.some((object) => object.metadata.name.endsWith('-miner-keys'))).toBe(false);
      const miner = containerOf(open, 'StatefulSet', '-miner');
      expect(entry(miner, 'ALLOWED_MINER_KEYS')).toBeUndefined();
      expect(entry(miner, 'MINER_PRIVATE_KEY_FILE')).toBeUndefined();
      expect(envOf(containerOf(open, 'Deployment', '-ingest')).get('REQUIRE_TRANSACTION_SIGNATURES')).toBe('false');
    });

    it('requires bearer tokens from a Secret when ingest.auth / auditor.auth are enabled, and the helm test presents them', async ({ expect }) => {
      const objects = await render([{ ingest: { auth: { enabled: true, existingSecret: 'api-tokens' } }, auditor: { auth: { enabled: true, existingSecret: 'api-tokens', key: 'readers' } } }]);
      for (const [kind, suffix, key] of [['Deployment', '-ingest', 'tokens'], ['StatefulSet', '-auditor', 'readers']] as const) {
        const deployment = find(objects, kind, suffix);
        const container = containerOf(objects, kind, suffix);
        expect(envOf(container).get('AUTH_TOKENS_FILE'), suffix).toBe(`/etc/chainlog/auth/${key}`);
        expect(container.volumeMounts, suffix).toContainEqual({ name: 'auth-tokens', mountPath: '/etc/chainlog/auth', readOnly: true });
        expect(podSpec(deployment).volumes, suffix).toContainEqual({ name: 'auth-tokens', secret: expect.objectContaining({ secretName: 'api-tokens', items: [{ key, path: key }] }) });
      }
      for (const suffix of ['-miner', '-operator']) {
        const kind = suffix === '-miner' ? 'StatefulSet' : 'Deployment';
        expect(envOf(containerOf(objects, kind, suffix)).has('AUTH_TOKENS_FILE'), suffix).toBe(false);
      }
      expect(envOf(containerOf(defaults, 'Deployment', '-ingest')).has('AUTH_TOKENS_FILE')).toBe(false);
      const testPod = find(objects, 'Pod', '-test-transaction').spec as { containers: Container[]; volumes: unknown[] };
      const script = testPod.containers[0]?.command?.join('\n') ?? '';
      expect(script).toContain('/etc/chainlog/auth/ingest/tokens');
      expect(script).toContain('/etc/chainlog/auth/auditor/readers');
      expect(script).toMatch(/key new \/tmp\/helm-test\.key[\s\S]*tx send --key \/tmp\/helm-test\.key/);
      // ledgers mode: the same settings reach the Ledger, which the operator renders the same way.
      const ledger = find(await render([{ operator: { mode: 'ledgers' }, ingest: { auth: { enabled: true, existingSecret: 'api-tokens' }, config: { rateLimitPerSecond: 0, clientIpHeader: 'x-real-ip' } }, auditor: { auth: { enabled: true, existingSecret: 'api-tokens', key: 'readers' } } }]), 'Ledger', 'chainlog').spec as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
      expect(ledger.ingest.auth).toEqual({ secretName: 'api-tokens', key: 'tokens' });
      expect(ledger.auditor.auth).toEqual({ secretName: 'api-tokens', key: 'readers' });
      expect(ledger.ingest.config).toMatchObject({ rateLimitPerSecond: 0, clientIpHeader: 'x-real-ip' });
      expect(testPod.volumes).toContainEqual(expect.objectContaining({ name: 'auditor-auth', secret: expect.objectContaining({ secretName: 'api-tokens' }) }));
    });

    it('mirrors ingest\'s fairness, time-out and idempotency settings', async ({ expect }) => {
      const config = { rateLimitPerSecond: 50, rateLimitBurst: 80, maxInflightPerClient: 16, clientIpHeader: 'x-forwarded-for', headersTimeoutMs: 5000, requestTimeoutMs: 9000, idempotencyTtlSeconds: 3600, idempotencyMaxEntries: 5000 };
      const env = envOf(containerOf(await render([{ ingest: { config } }]), 'Deployment', '-ingest'));
      expect(['RATE_LIMIT_PER_SECOND', 'RATE_LIMIT_BURST', 'MAX_INFLIGHT_PER_CLIENT', 'CLIENT_IP_HEADER', 'HEADERS_TIMEOUT_MS', 'REQUEST_TIMEOUT_MS', 'IDEMPOTENCY_TTL_SECONDS', 'IDEMPOTENCY_MAX_ENTRIES'].map((name) => env.get(name))).toEqual(
        ['50', '80', '16', 'x-forwarded-for', '5000', '9000', '3600', '5000'],
      );
      const defaultsEnv = envOf(containerOf(defaults, 'Deployment', '-ingest'));
      expect(['RATE_LIMIT_PER_SECOND', 'CLIENT_IP_HEADER', 'IDEMPOTENCY_TTL_SECONDS'].filter((name) => defaultsEnv.has(name))).toEqual([]);
    });

    it('a three-node bundled Kafka: node ids from the pod index, a three-voter quorum, RF 3 and min.insync.replicas 2, topics made with RF 3', async ({ expect }) => {
      const values: Values = { kafka: { bundled: { enabled: true, replicas: 3 } } };
      const [objects, ledger] = await Promise.all([render([values]), render([values, { operator: { mode: 'ledgers' } }])]);
      const kafka = find(objects, 'StatefulSet', '-kafka');
      expect(kafka.spec).toMatchObject({ replicas: 3, podManagementPolicy: 'Parallel', serviceName: 'chainlog-kafka-headless' });
      const env = envOf(podSpec(kafka).containers[0] as Container);
      expect(env.get('KAFKA_CONTROLLER_QUORUM_VOTERS')).toBe([0, 1, 2].map((i) => `${i}@chainlog-kafka-${i}.chainlog-kafka-headless.ledger.svc:9093`).join(','));
      expect(env.get('KAFKA_ADVERTISED_LISTENERS')).toBe('CLIENT://$(POD_NAME).chainlog-kafka-headless.ledger.svc:9092,INTERNAL://$(POD_NAME).chainlog-kafka-headless.ledger.svc:9094');
      expect([env.get('KAFKA_DEFAULT_REPLICATION_FACTOR'), env.get('KAFKA_MIN_INSYNC_REPLICAS'), env.get('KAFKA_TRANSACTION_STATE_LOG_MIN_ISR')]).toEqual(['3', '2', '2']);
      expect(envOf(containerOf(objects, 'Job', '-provision-topics')).get('TOPIC_REPLICATION_FACTOR')).toBe('3');
      // The nodes reach each other through their NetworkPolicy: replication and the quorum.
      const policy = find(objects, 'NetworkPolicy', '-kafka').spec as { ingress: { ports: { port: number }[] }[]; egress: { ports: { port: number }[] }[] };
      for (const rules of [policy.ingress, policy.egress]) expect(rules.some((rule) => rule.ports.some((port) => port.port === 9093))).toBe(true);
      for (const rules of [policy.ingress, policy.egress]) expect(rules.some((rule) => rule.ports.some((port) => port.port === 9094))).toBe(true);
      expect((find(ledger, 'Ledger', 'chainlog').spec as { kafka: { bundled: { replicas: number } } }).kafka.bundled.replicas).toBe(3);
      // One node stays as it was (node id 1, its Service as the advertised listener): existing data keeps working.
      expect(envOf(podSpec(find(everything, 'StatefulSet', '-kafka')).containers[0] as Container).get('KAFKA_NODE_ID')).toBe('1');
    });
  });

  describe.concurrent('values are validated', () => {
    const schemaCases: [string, Values, RegExp][] = [
      ['negative partitions', { topics: { transactions: { partitions: -1 } } }, /\/topics\/transactions\/partitions': minimum/],
      ['zero partitions', { topics: { transactions: { partitions: 0 } } }, /\/topics\/transactions\/partitions': minimum/],
      ['fractional partitions', { topics: { transactions: { partitions: 2.5 } } }, /\/topics\/transactions\/partitions': got number, want integer/],
      ['an unknown top-level key', { minerz: {} }, /additional properties 'minerz' not allowed/],
      ['a misspelled nested key', { miner: { replica: 3 } }, /at '\/miner': additional properties 'replica' not allowed/],
      ['a string for a count', { ingest: { replicas: 'two' } }, /\/ingest\/replicas': got string, want integer/],
      ['a string for a boolean', { consensus: { requireTransactionSignatures: 'yes' } }, /\/consensus\/requireTransactionSignatures': got string, want boolean/],
      ['an unknown SASL mechanism', { kafka: { sasl: { mechanism: 'gssapi' } } }, /\/kafka\/sasl\/mechanism'/],
      ['a miner key that is not 64 hex digits', { consensus: { allowedMinerKeys: ['XYZ'] } }, /\/consensus\/allowedMinerKeys\/0'/],
      ['a difficulty above 64', { consensus: { difficulty: 65 } }, /\/consensus\/difficulty': maximum/],
      ['a malformed bootstrap list', { kafka: { bootstrapServers: 'kafka' } }, /\/kafka\/bootstrapServers'/],
      ['an invalid topic name', { topics: { audit: { name: 'audit log' } } }, /\/topics\/audit\/name'/],
      ['replication factor 0', { topics: { replicationFactor: 0 } }, /\/topics\/replicationFactor'/],
      ['a two-node bundled Kafka (no quorum with one down)', { kafka: { bundled: { replicas: 2 } } }, /\/kafka\/bundled\/replicas': value must be one of 1, 3/],
      ['a replay window under a second', { consensus: { replayWindowMs: 999 } }, /\/consensus\/replayWindowMs': minimum/],
      ['a negative genesis allocation', { consensus: { enforceBalances: true, genesisAllocations: { alice: -1 } } }, /\/consensus\/genesisAllocations\/alice': minimum/],
      ['an account key that is not 64 hex digits', { consensus: { enforceBalances: true, accountKeys: { alice: ['XYZ'] } } }, /\/consensus\/accountKeys\/alice\/0'/],
      ['an auditor volume size that is not a quantity', { auditor: { persistence: { size: 'ten gigs' } } }, /\/auditor\/persistence\/size'/],
    ];
    for (const [name, values, error] of schemaCases) {
      it(`rejects ${name} with helm's schema error`, async ({ expect }) => {
        const result = await helmTemplateRaw([values]);
        expect(result.code).not.toBe(0);
        expect(result.stderr).toContain("values don't meet the specifications of the schema");
        expect(result.stderr).toMatch(error);
      });
    }

    const renderCases: [string, Values, string][] = [
      ['SASL without a Secret', { kafka: { sasl: { enabled: true, username: 'u' } } }, 'kafka.sasl.enabled requires kafka.sasl.existingSecret'],
      ['an allow-list without the miners\' private keys', { consensus: { allowedMinerKeys: [KEY_A] } }, 'set miner.signingKeys.existingSecret'],
      ['an allow-list on an open chain', { consensus: { permissioned: false, allowedMinerKeys: [KEY_A] }, miner: { signingKeys: { existingSecret: 'k' } } }, 'consensus.permissioned is false'],
      ['ingest bearer auth without a Secret', { ingest: { auth: { enabled: true } } }, 'ingest.auth.enabled requires ingest.auth.existingSecret'],
      ['auditor bearer auth without a Secret', { auditor: { auth: { enabled: true } } }, 'auditor.auth.enabled requires auditor.auth.existingSecret'],
      ['an HPA without a target', { ingest: { autoscaling: { enabled: true, targetCPUUtilizationPercentage: null } } }, 'ingest.autoscaling.enabled needs'],
      ['miner blocks larger than the consensus allows', { consensus: { maxBlockTransactions: 10 }, miner: { config: { cutAtPendingTransactions: 10 } } }, 'plus the coinbase must fit'],
      ['a block take larger than the consensus allows', { consensus: { maxBlockTransactions: 10 }, miner: { config: { takeUpToTransactions: 10 } } }, 'takeUpToTransactions (10) plus the coinbase must fit'],
      ['a block take below the cut threshold', { miner: { config: { cutAtPendingTransactions: 50, takeUpToTransactions: 20 } } }, 'must be at least miner.config.cutAtPendingTransactions'],
      ['replay-window guards without a window', { ingest: { config: { miningBacklogLimitMs: 1000 } } }, 'apply only with consensus.replayWindowMs'],
      ['the ledger rules on an open chain', { consensus: { permissioned: false, requireTransactionSignatures: false, enforceBalances: true } }, 'consensus.enforceBalances needs consensus.permissioned=true'],
      ['genesis balances without the ledger rules', { consensus: { genesisAllocations: { alice: 5 } } }, 'need consensus.enforceBalances=true'],
    ];
    for (const [name, values, message] of renderCases) {
      it(`fails rendering for ${name}`, async ({ expect }) => {
        const result = await helmTemplateRaw([values]);
        expect(result.code).not.toBe(0);
        expect(result.stderr).toContain(message);
      });
    }

    it('values.schema.json describes every value in values.yaml and closes its objects', ({ expect }) => {
      const { root, resolve } = loadSchema();
      const values = parseYaml(readFileSync(join(CHART_DIR, 'values.yaml'), 'utf8')) as Values;
      const paths: string[] = [];
      const missing: string[] = [];
      valuePaths(values, root, resolve, '', paths, missing);
      expect(missing, 'values without a schema').toEqual([]);
      expect(paths.length).toBeGreaterThan(150);
      const open: string[] = [];
      const walk = (node: SchemaNode, path: string): void => {
        const schema = resolve(node);
        if (schema.properties === undefined) return;
        if (schema.additionalProperties !== false) open.push(path);
        if (schema['x-leaf'] === true) return;
        for (const [key, child] of Object.entries(schema.properties)) walk(child, `${path}.${key}`);
      };
      walk(root, '');
      expect(open, 'schema objects with declared properties that accept unknown keys').toEqual([]);
    });

    it('the chart README documents every value', ({ expect }) => {
      const { root, resolve } = loadSchema();
      const values = parseYaml(readFileSync(join(CHART_DIR, 'values.yaml'), 'utf8')) as Values;
      const paths: string[] = [];
      valuePaths(values, root, resolve, '', paths, []);
      const readme = readFileSync(join(CHART_DIR, 'README.md'), 'utf8');
      expect(paths.filter((path) => !readme.includes(`\`${path}\``))).toEqual([]);
    });
  });

  describe.concurrent('monitoring, network policy and notes', () => {
    it('creates a ServiceMonitor with the release label, the alerts and the Grafana dashboards', ({ expect }) => {
      const monitor = find(everything, 'ServiceMonitor', 'chainlog');
      expect(monitor.metadata.labels?.release).toBe('kube-prometheus-stack');
      expect(monitor.spec).toMatchObject({
        selector: { matchExpressions: [{ key: 'app.kubernetes.io/component', operator: 'In', values: [...SERVICE_COMPONENTS] }] },
        // honorLabels keeps the services' own `service` label (no `exported_service` on every series).
        endpoints: [expect.objectContaining({ port: 'http', path: '/metrics', interval: '15s', honorLabels: true })],
      });
      const rule = find(everything, 'PrometheusRule', 'chainlog');
      const alerts = (rule.spec?.groups as { rules: { alert?: string; expr: string }[] }[]).flatMap((group) => group.rules);
      expect(alerts).toContainEqual(expect.objectContaining({ alert: 'ChainlogTargetDown', expr: 'up{service=~"ingest|miner|auditor|operator"} == 0' }));
      const dashboards = everything.filter((object) => object.kind === 'ConfigMap' && object.metadata.labels?.grafana_dashboard === '1');
      expect(dashboards.length).toBe(readdirSync(join(CHART_DIR, 'files', 'dashboards')).filter((file) => file.endsWith('.json')).length);
      for (const dashboard of dashboards) {
        expect(dashboard.metadata.annotations?.grafana_folder).toBe('Chainlog');
        for (const json of Object.values(dashboard.data as Record<string, string>)) {
          const parsed = JSON.parse(json) as { templating: { list: { name: string; type: string }[] }; panels: unknown[] };
          expect(parsed.templating.list).toContainEqual(expect.objectContaining({ name: 'datasource', type: 'datasource' }));
          expect(json).toContain('${datasource}');
          expect(parsed.panels.length).toBeGreaterThan(0);
        }
      }
      const ingestPod = (find(everything, 'Deployment', '-ingest').spec as { template: { metadata: { annotations: Record<string, string> } } }).template.metadata;
      expect(ingestPod.annotations).toMatchObject({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': '8080', 'prometheus.io/path': '/metrics' });
    });

    it('the alert files are Prometheus rule files', ({ expect }) => {
      const dir = join(CHART_DIR, 'files', 'alerts');
      const files = readdirSync(dir).filter((file) => file.endsWith('.yaml'));
      expect(files).toContain('chainlog.rules.yaml');
      for (const file of files) {
        const content = parseYaml(readFileSync(join(dir, file), 'utf8')) as { groups: { name: string; rules: { alert?: string; record?: string; expr: string }[] }[] };
        for (const group of content.groups) {
          expect(group.name).toMatch(/\S/);
          for (const rule of group.rules) expect(rule.expr, `${file} ${group.name}`).toMatch(/\S/);
        }
      }
    });

    it('NetworkPolicies allow the APIs, scraping from the monitoring namespace, DNS, Kafka and (operator) the API server', ({ expect }) => {
      const policies = everything.filter((object) => object.kind === 'NetworkPolicy');
      expect(policies.map((policy) => policy.metadata.name).sort()).toEqual(
        ['auditor', 'ingest', 'kafka', 'miner', 'operator', 'provision-topics'].map((name) => `chainlog-${name}`),
      );
      type Rule = { ports?: { port: number }[]; from?: unknown[]; to?: unknown[] };
      const rules = (name: string, kind: 'ingress' | 'egress') => (find(policies, 'NetworkPolicy', name).spec?.[kind] ?? []) as Rule[];
      expect(rules('-ingest', 'ingress')).toContainEqual({ ports: [{ port: 8080, protocol: 'TCP' }] });
      expect(rules('-miner', 'ingress')).toEqual([
        { ports: [{ port: 8081, protocol: 'TCP' }], from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }] },
      ]);
      for (const name of ['-ingest', '-miner', '-auditor', '-operator', '-provision-topics']) {
        const egress = rules(name, 'egress');
        expect(egress.some((rule) => rule.ports?.some((port) => port.port === 53)), name).toBe(true);
        expect(egress.some((rule) => rule.ports?.some((port) => port.port === 9092)), name).toBe(true);
        expect(egress.some((rule) => rule.ports?.some((port) => port.port === 6443)), name).toBe(name === '-operator');
      }
      // On by default; the miner-keys Job reaches the API server and DNS, never Kafka, and accepts no connection.
      const keys = find(defaults, 'NetworkPolicy', '-miner-keys').spec as { ingress: unknown; egress: Rule[] };
      expect(keys.ingress ?? []).toEqual([]);
      expect(keys.egress.flatMap((rule) => rule.ports?.map((port) => port.port) ?? []).sort((a, b) => a - b)).toEqual([53, 53, 443, 6443]);
    });

    it('NOTES.txt tells how to post a transaction and where to look', async ({ expect }) => {
      // helm template does not render NOTES.txt: render it as a template of a copy of the chart.
      const copy = mkdtempSync(join(tmpdir(), 'chainlog-notes-'));
      try {
        cpSync(CHART_DIR, copy, { recursive: true });
        const notes = readFileSync(join(copy, 'templates', 'NOTES.txt'), 'utf8');
        writeFileSync(join(copy, 'templates', '_notes-under-test.tpl'), `{{- define "notes-under-test" -}}\n${notes}\n{{- end -}}\n`);
        writeFileSync(
          join(copy, 'templates', 'notes-under-test.yaml'),
          'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes\ndata:\n  notes: {{ include "notes-under-test" . | quote }}\n',
        );
        const [plain, monitored, bundled, bundledPlaintext] = await Promise.all(
          [[], [MONITORING], [BUNDLED], [BUNDLED, { kafka: { bundled: { sasl: { enabled: false } } } }]].map(async (values) => {
            const objects = parseManifests(await helmTemplate(values, { chart: copy, extraArgs: ['--show-only', 'templates/notes-under-test.yaml'] }));
            return (objects[0]?.data as { notes: string }).notes;
          }),
        );
        expect(plain).toContain('kubectl --namespace ledger port-forward svc/chainlog-ingest 8080:8080');
        expect(plain).toContain('curl -sS -X POST http://localhost:8080/v1/transactions');
        expect(plain).toContain('port-forward svc/chainlog-auditor 8082:8082');
        expect(plain).toContain('Miners: 2');
        // Secure by default: how to sign, and where the miners' keys are.
        expect(plain).toContain('chainlog tx send --key me.key --from alice --to bob --amount 5');
        expect(plain).toContain("get configmap chainlog-allowed-miner-keys -o jsonpath='{.data.allowed-miner-keys}'");
        expect(plain).not.toContain('OPEN MODE');
        expect(monitored).toContain('Grafana');
        expect(monitored).toContain('ServiceMonitor');
        // The bundled Kafka says how it is protected, and says so loudly when it is not.
        expect(bundled).toContain('SASL/SCRAM with least-privilege ACLs');
        expect(bundled).toContain('Secret chainlog-kafka-credentials');
        expect(bundledPlaintext).toContain('PLAINTEXT, NO ACLs');
        expect(plain).not.toContain('SASL/SCRAM');
      } finally {
        rmSync(copy, { recursive: true, force: true });
      }
    });
  });

  describe.concurrent('Kubernetes 1.34 API validation (kubeconform, offline, strict)', () => {
    beforeAll(() => {
      kubeconformTool(); // fails with the install command when kubeconform or its schemas are missing
    });
    for (const name of ['default values', 'every optional feature (monitoring CRDs included)', 'TLS and SASL', 'SASL files, 12 partitions, 3 miners']) {
      it(name, async ({ expect }) => {
        const result = await kubeconform(streams.get(name) as string);
        expect(result.stdout + result.stderr, 'kubeconform output').toMatch(/Invalid: 0, Errors: 0, Skipped: 0/);
        expect(result.code).toBe(0);
      });
    }
    it('k8s/ manifests', async ({ expect }) => {
      // A Ledger has no schema here: test/operator-ledger.integration.test.ts validates it against the real CRD.
      const files = [...existingK8sFiles()].filter(([path]) => !path.endsWith('kustomization.yaml') && !path.includes('/patch-') && !path.includes('/ledger-'));
      expect(files.length).toBeGreaterThan(15);
      const result = await kubeconform(files.map(([, content]) => content).join('\n---\n'));
      expect(result.stdout + result.stderr, 'kubeconform output').toMatch(/Invalid: 0, Errors: 0, Skipped: 0/);
    });
  });

  describe('operator.mode=ledgers (the default): values -> Ledger -> operator', () => {
    it('is the default: the operator, its Role, one Ledger and the helm test hook, and no workload of its own', async ({ expect }) => {
      const objects = await asDefault.render([]);
      expect(objects.map((object) => `${object.kind}/${object.metadata.name}`).sort()).toEqual(
        [
          'Deployment/chainlog-operator',
          'Ledger/chainlog',
          'Pod/chainlog-test-transaction',
          'Role/chainlog-operator',
          'RoleBinding/chainlog-operator',
          'Service/chainlog-operator',
          'ServiceAccount/chainlog-operator',
          // The miner keys exist before the Ledger does: the hook Job is the chart's in both modes.
          'Job/chainlog-miner-keys',
          'Role/chainlog-miner-keys',
          'RoleBinding/chainlog-miner-keys',
          'ServiceAccount/chainlog-miner-keys',
          // Its own pods' policies only: the operator renders the Ledger's (one owner), and creates the topics (no Job).
          ...['miner-keys', 'operator'].map((name) => `NetworkPolicy/chainlog-${name}`),
        ].sort(),
      );
      expect((find(objects, 'Ledger', 'chainlog').spec as { consensus: unknown }).consensus).toEqual({
        difficulty: 16,
        blockReward: 50,
        requireTransactionSignatures: true,
        permissioned: {
          allowedMinerKeysFrom: { name: 'chainlog-allowed-miner-keys', key: 'allowed-miner-keys' },
          minerKeysSecret: { name: 'chainlog-miner-keys', perMiner: true, key: 'miner.key' },
        },
      });
      const role = find(objects, 'Role', '-operator');
      const rules = role.rules as { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] }[];
      expect(rules.find((rule) => rule.resources.includes('ledgers'))?.verbs).toEqual(['get', 'list', 'watch', 'patch']);
      expect(rules.find((rule) => rule.resources.includes('secrets'))?.verbs).toEqual(['get']);
      expect(rules.flatMap((rule) => rule.resources)).not.toContain('pods');
      // Only its own Deployment may be read: the owner of its Lease (deleted with it by `helm uninstall`).
      expect(rules.filter((rule) => rule.verbs.includes('get') && rule.resources.includes('deployments'))).toEqual([
        { apiGroups: ['apps'], resources: ['deployments'], resourceNames: ['chainlog-operator'], verbs: ['get'] },
      ]);
      const env = envOf(podSpec(find(objects, 'Deployment', '-operator')).containers[0] as Container);
      expect(env.get('OPERATOR_MODE')).toBe('ledgers');
      expect(env.get('OPERATOR_DEPLOYMENT')).toBe('chainlog-operator');
    });

    it('passes helm lint --strict and kubeconform with its defaults and with every optional feature', async ({ expect }) => {
      const sets: Values[][] = [[], [...EVERYTHING, { ingest: { autoscaling: { enabled: false } } }]];
      for (const values of sets) {
        const lint = await asDefault.helmLint(values);
        expect(lint.stderr + lint.stdout, 'helm lint output').toContain('1 chart(s) linted, 0 chart(s) failed');
        // The Ledger has no schema here: test/operator-ledger.integration.test.ts checks it against the real CRD.
        const objects = await asDefault.render(values);
        const others = objects.filter((object) => object.kind !== 'Ledger').map((object) => JSON.stringify(object));
        const result = await kubeconform(others.join('\n---\n'));
        expect(result.stdout + result.stderr, 'kubeconform output').toMatch(/Invalid: 0, Errors: 0, Skipped: 0/);
      }
    });

    it('refuses ingest.autoscaling (the operator owns the ingest replicas) with a message that says so', async ({ expect }) => {
      const result = await asDefault.helmTemplateRaw([{ ingest: { autoscaling: { enabled: true } } }]);
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain('ingest.autoscaling.enabled needs operator.mode=statefulset');
    });

    it("the operator renders the Ledger's NetworkPolicies from these values; the chart's operator policy reaches every Ledger's auditor and Kafka, which let it in", async ({ expect }) => {
      const frontend = { podSelector: { matchLabels: { role: 'frontend' } } };
      const objects = await asDefault.render([BUNDLED, { networkPolicy: { enabled: true, apiFrom: [frontend] } }]);
      const ledger = find(objects, 'Ledger', 'chainlog') as unknown as Ledger;
      expect(ledger.spec.networkPolicy).toMatchObject({ enabled: true, apiFrom: [frontend], metricsNamespace: 'monitoring' });
      // The chart renders its own pods' policies only: one owner for the Ledger's.
      expect(objects.filter((object) => object.kind === 'NetworkPolicy').map((policy) => policy.metadata.name).sort()).toEqual(['chainlog-miner-keys', 'chainlog-operator']);
      const live: Ledger = { ...ledger, metadata: { ...ledger.metadata, namespace: 'ledger', uid: '0f9d1c2e-1111-4222-8333-944455556666', generation: 1, resourceVersion: '1' } };
      const rendered = renderLedger(live, { defaultImageTag: '0.1.0' });
      const podLabels = (component: string): Record<string, string> => {
        const workload = rendered.find((object) => ['Deployment', 'StatefulSet'].includes(object.kind) && object.metadata.name === `chainlog-${component}`);
        if (workload === undefined) throw new Error(`the operator renders no chainlog-${component}`);
        return (workload as unknown as { spec: { template: { metadata: { labels: Record<string, string> } } } }).spec.template.metadata.labels;
      };
      type Selector = { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string }[] };
      const selects = (selector: Selector | undefined, labels: Record<string, string>): boolean =>
        selector !== undefined &&
        Object.entries(selector.matchLabels ?? {}).every(([key, value]) => labels[key] === value) &&
        (selector.matchExpressions ?? []).every((expression) => expression.operator === 'Exists' && labels[expression.key] !== undefined);
      const policies = rendered.filter((object) => object.kind === 'NetworkPolicy');
      expect(policies.map((policy) => policy.metadata.name).sort()).toEqual(['auditor', 'ingest', 'kafka', 'miner'].map((name) => `chainlog-${name}`));
      type Rule = { ports?: { port: number }[]; from?: { podSelector?: Selector }[]; to?: { podSelector?: Selector }[] };
      const rules = (list: K8sObject[], name: string, kind: 'ingress' | 'egress') => (find(list, 'NetworkPolicy', name).spec?.[kind] ?? []) as Rule[];
      const operatorLabels = (find(objects, 'Deployment', '-operator').spec as { template: { metadata: { labels: Record<string, string> } } }).template.metadata.labels;
      // The operator asks the auditor for the chain's status, also when apiFrom restricts the API; ingest stays the frontend's.
      expect(rules(policies, '-auditor', 'ingress').some((rule) => rule.from?.some((peer) => selects(peer.podSelector, operatorLabels)))).toBe(true);
      expect(rules(policies, '-ingest', 'ingress').flatMap((rule) => rule.from ?? [])).toContainEqual(frontend);
      expect(rules(objects, '-operator', 'egress').some((rule) => rule.ports?.some((port) => port.port === 8082) && rule.to?.some((peer) => selects(peer.podSelector, podLabels('auditor'))))).toBe(true);
      // Every Ledger service and the operator reach the bundled Kafka, in both directions.
      const kafkaFrom = rules(policies, '-kafka', 'ingress').flatMap((rule) => rule.from ?? []);
      for (const labels of [podLabels('ingest'), podLabels('miner'), podLabels('auditor'), operatorLabels]) expect(kafkaFrom.some((peer) => selects(peer.podSelector, labels))).toBe(true);
      for (const [list, name] of [[policies, '-ingest'], [policies, '-miner'], [policies, '-auditor'], [objects, '-operator']] as const) {
        const toKafka = rules(list, name, 'egress').find((rule) => rule.ports?.some((port) => port.port === 9092));
        expect(toKafka?.to?.some((peer) => selects(peer.podSelector, podLabels('kafka'))), name).toBe(true);
      }
    });

    it('networkPolicy.enabled=false reaches the Ledger: neither the chart nor the operator renders a policy', async ({ expect }) => {
      const objects = await asDefault.render([{ networkPolicy: { enabled: false } }]);
      expect(objects.filter((object) => object.kind === 'NetworkPolicy')).toEqual([]);
      const ledger = find(objects, 'Ledger', 'chainlog') as unknown as Ledger;
      expect(ledger.spec.networkPolicy.enabled).toBe(false);
      const live: Ledger = { ...ledger, metadata: { ...ledger.metadata, namespace: 'ledger', uid: '0f9d1c2e-1111-4222-8333-944455556666', generation: 1, resourceVersion: '1' } };
      expect(renderLedger(live, { defaultImageTag: '0.1.0' }).filter((object) => object.kind === 'NetworkPolicy')).toEqual([]);
    });

    it("renders a ServiceMonitor for the operator only (the operator renders the Ledger's)", async ({ expect }) => {
      const objects = await asDefault.render([MONITORING]);
      const monitors = objects.filter((object) => object.kind === 'ServiceMonitor');
      expect(monitors.map((monitor) => monitor.metadata.name)).toEqual(['chainlog-operator']);
      expect((monitors[0]?.spec?.selector as { matchExpressions: { values: string[] }[] }).matchExpressions[0]?.values).toEqual(['operator']);
      expect((find(objects, 'Ledger', 'chainlog').spec as { monitoring: { serviceMonitor: { enabled: boolean } } }).monitoring.serviceMonitor.enabled).toBe(true);
    });

    it('passes the alerts and dashboards to the Ledger, whose render equals the chart-mode objects (one owner, one source)', async ({ expect }) => {
      const objects = await asDefault.render([MONITORING]);
      expect(objects.filter((object) => object.kind === 'PrometheusRule')).toEqual([]);
      expect(objects.filter((object) => object.kind === 'ConfigMap' && object.metadata.name.includes('-dashboard-'))).toEqual([]);
      const ledger = find(objects, 'Ledger', 'chainlog') as unknown as Ledger;
      const live: Ledger = { ...ledger, metadata: { ...ledger.metadata, namespace: 'ledger', uid: '0f9d1c2e-1111-4222-8333-944455556666', generation: 1, resourceVersion: '1' } };
      const operator = renderLedger(live, { defaultImageTag: '0.1.0' });
      const chartMode = await render([MONITORING]);
      const rule = operator.find((object) => object.kind === 'PrometheusRule');
      expect(rule?.metadata.labels).toMatchObject({ release: 'kube-prometheus-stack', 'chainlog.dev/ledger': 'chainlog' });
      expect(rule?.spec).toEqual(find(chartMode, 'PrometheusRule', 'chainlog').spec);
      const dashboards = <T extends { kind: string; metadata: { name: string } }>(list: T[]): T[] => list.filter((object) => object.kind === 'ConfigMap' && object.metadata.name.includes('-dashboard-'));
      expect(dashboards(operator).map((map) => map.metadata.name)).toEqual(dashboards(chartMode).map((map) => map.metadata.name));
      expect(dashboards(operator).map((map) => map.data)).toEqual(dashboards(chartMode).map((map) => (map as { data?: unknown }).data));
      for (const map of dashboards(operator)) expect(map.metadata.labels).toMatchObject({ grafana_dashboard: '1' });
    });

    it('maps the values onto the Ledger spec (every optional feature)', async ({ expect }) => {
      const objects = await render([...EVERYTHING, { ingest: { autoscaling: { enabled: false } } }, { operator: { mode: 'ledgers', config: { maxPartitions: 32 } } }]);
      const spec = find(objects, 'Ledger', 'chainlog').spec as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
      const chartValues = parseYaml(readFileSync(join(CHART_DIR, 'values.yaml'), 'utf8')) as { kafka: { bundled: { image: { repository: string; tag: string } } } };
      const bundledImage = chartValues.kafka.bundled.image;
      expect(spec.kafka.bundled).toMatchObject({ replicas: 1, image: `${bundledImage.repository}:${bundledImage.tag}`, storage: { ephemeral: false, size: '8Gi' } });
      expect(spec.kafka.external).toBeUndefined();
      expect(spec.consensus).toEqual({
        difficulty: 12,
        blockReward: 25,
        requireTransactionSignatures: true,
        maxBlockTransactions: 101,
        permissioned: { allowedMinerKeys: [KEY_A, KEY_B], minerKeysSecret: { name: 'miner-keys', perMiner: true, key: 'miner.key' } },
      });
      expect(spec.miners).toMatchObject({ powWorkers: 2, config: { cutAtPendingTransactions: 100, sessionTimeoutMs: 20000, maxBlockWaitMs: 500, maxPendingPerPartition: 5000 } });
      expect(spec.ingest.config).toMatchObject({ maxBatchSize: 500, maxBodyBytes: 2097152, produceTimeoutMs: 4000 });
      expect(spec.monitoring.serviceMonitor).toEqual({ enabled: true, interval: '15s', labels: { release: 'kube-prometheus-stack' } });
      expect(spec.maxPartitions).toBe(32);
      expect(spec.monitoring.prometheusRule).toEqual({ enabled: true, labels: { release: 'kube-prometheus-stack' } });
      expect(spec.monitoring.dashboards).toEqual({ enabled: true, labels: { grafana_dashboard: '1' } });
      // Not workloads: the Ingress stays the chart's; the alert rules and dashboards are the operator's.
      const kinds = new Set(objects.map((object) => object.kind));
      for (const kind of ['Ingress']) expect(kinds.has(kind), kind).toBe(true);
      for (const kind of ['StatefulSet', 'HorizontalPodAutoscaler', 'PrometheusRule']) expect(kinds.has(kind), kind).toBe(false);
      // The only Job: the bundled Kafka's credentials hook (a Secret, not a workload).
      expect(objects.filter((object) => object.kind === 'Job').map((object) => object.metadata.name)).toEqual(['chainlog-kafka-credentials']);
      expect(objects.filter((object) => object.kind === 'ServiceMonitor').map((object) => object.metadata.name)).toEqual(['chainlog-operator']);
      expect(objects.filter((object) => object.kind === 'PodDisruptionBudget').map((object) => object.metadata.name)).toEqual(objects.some((object) => object.kind === 'PodDisruptionBudget') ? ['chainlog-operator'] : []);
    });

    it('bundled Kafka: SASL/SCRAM + ACLs by default, each workload the operator renders gets only its own password; the credentials come from a hook Job', async ({ expect }) => {
      const objects = await asDefault.render([BUNDLED]);
      const ledger = find(objects, 'Ledger', 'chainlog') as unknown as Ledger;
      expect(ledger.spec.kafka.bundled?.sasl).toEqual({ credentialsSecret: 'chainlog-kafka-credentials' });
      const job = find(objects, 'Job', '-kafka-credentials');
      expect(job.metadata.annotations?.['helm.sh/hook']).toBe('pre-install,pre-upgrade');
      expect(envOf(containerOf(objects, 'Job', '-kafka-credentials')).get('KAFKA_CREDENTIALS_SECRET')).toBe('chainlog-kafka-credentials');
      // Its Role reaches only that Secret (create cannot name one).
      const rules = (find(objects, 'Role', '-kafka-credentials') as unknown as { rules: { verbs: string[]; resourceNames?: string[] }[] }).rules;
      for (const rule of rules) expect(rule.verbs.includes('create') || (rule.resourceNames ?? []).join() === 'chainlog-kafka-credentials').toBe(true);
      // The operator's render of that Ledger, as in the cluster: one principal each, only its own key.
      const live: Ledger = { ...ledger, metadata: { ...ledger.metadata, namespace: 'ledger', uid: '0f9d1c2e-1111-4222-8333-944455556666', generation: 1, resourceVersion: '1' } };
      const rendered = renderLedger(live, { defaultImageTag: '0.1.0' }) as unknown as K8sObject[];
      for (const [suffix, user] of [['-ingest', 'chainlog-ingest'], ['-miner', 'chainlog-miner'], ['-auditor', 'chainlog-auditor']] as const) {
        const container = podSpec(rendered.find((object) => ['Deployment', 'StatefulSet'].includes(object.kind) && object.metadata.name.endsWith(suffix)) as K8sObject).containers[0] as Container;
        expect(envOf(container).get('KAFKA_SASL_USERNAME')).toBe(user);
        const refs = (container.env ?? []).flatMap((entry) => {
          const ref = (entry.valueFrom as { secretKeyRef?: { name: string; key: string } } | undefined)?.secretKeyRef;
          return ref === undefined ? [] : [`${ref.name}/${ref.key}`];
        });
        expect(refs).toEqual([`chainlog-kafka-credentials/${user}`]);
      }
      // The chart's operator itself gets no Kafka password in this mode (it reads the Ledger's Secret).
      expect(envOf(containerOf(objects, 'Deployment', '-operator')).has('KAFKA_SASL_PASSWORD')).toBe(false);
      // Off: a plaintext bundled Kafka, explicitly.
      const off = await asDefault.render([BUNDLED, { kafka: { bundled: { sasl: { enabled: false } } } }]);
      expect((find(off, 'Ledger', 'chainlog') as unknown as Ledger).spec.kafka.bundled?.sasl).toBeUndefined();
      expect(off.filter((object) => object.metadata.name.endsWith('-kafka-credentials'))).toEqual([]);
    });

    it('bundled Kafka in statefulset mode: the same broker listeners as the operator renders, each service its own principal, the topics Job applies the ACLs', async ({ expect }) => {
      const objects = await render([BUNDLED, { kafka: { bundled: { replicas: 3 } } }]);
      const broker = podSpec(find(objects, 'StatefulSet', '-kafka')).containers[0] as Container;
      const chartEnv = envOf(broker);
      // One owner of the listener layout: the chart's helper renders what render.ts's saslListeners does.
      for (const entry of saslListeners('$(POD_NAME).chainlog-kafka-headless.ledger.svc')) expect(chartEnv.get(entry.name), entry.name).toBe(entry.value);
      expect(broker.command?.[2]).toBe(readFileSync(join(REPO_ROOT, 'charts/chainlog/files/kafka/sasl-entrypoint.sh'), 'utf8'));
      const users: Record<string, string> = { '-ingest': 'chainlog-ingest', '-miner': 'chainlog-miner', '-auditor': 'chainlog-auditor', '-provision-topics': 'chainlog-admin', '-operator': 'chainlog-admin' };
      for (const object of objects.filter((o) => ['Deployment', 'StatefulSet', 'Job'].includes(o.kind) && !o.metadata.name.endsWith('-kafka'))) {
        const suffix = Object.keys(users).find((key) => object.metadata.name.endsWith(key));
        const container = podSpec(object).containers[0] as Container;
        const refs = (container.env ?? []).flatMap((entry) => {
          const ref = (entry.valueFrom as { secretKeyRef?: { name: string; key: string } } | undefined)?.secretKeyRef;
          return ref?.name === 'chainlog-kafka-credentials' ? [ref.key] : [];
        });
        expect(refs, object.metadata.name).toEqual(suffix === undefined ? [] : [users[suffix]]);
      }
      expect(envOf(containerOf(objects, 'Job', '-provision-topics')).get('KAFKA_APPLY_ACLS')).toBe('true');
    });

    it('maps external Kafka with TLS and SASL onto Secret references', async ({ expect }) => {
      const objects = await render([TLS_SASL, { operator: { mode: 'ledgers' } }]);
      const external = (find(objects, 'Ledger', 'chainlog').spec as { kafka: { external: unknown; clientIdPrefix: string } }).kafka;
      expect(external).toEqual({
        clientIdPrefix: 'ledger',
        external: {
          bootstrapServers: 'my-cluster-kafka-bootstrap.kafka:9093',
          tls: { rejectUnauthorized: true, ca: { name: 'my-cluster-cluster-ca-cert', key: 'ca.crt' }, clientCert: { name: 'chainlog-user', certKey: 'user.crt', keyKey: 'user.key' } },
          sasl: { mechanism: 'scram-sha-512', username: 'chainlog', passwordSecret: { name: 'chainlog-user', key: 'password' } },
        },
      });
    });
  });

  describe('as a subchart of an umbrella chart', () => {
    let umbrella: string;
    beforeAll(() => {
      umbrella = mkdtempSync(join(tmpdir(), 'chainlog-umbrella-'));
      writeFileSync(
        join(umbrella, 'Chart.yaml'),
        'apiVersion: v2\nname: platform\nversion: 1.0.0\ndependencies:\n  - name: chainlog\n    version: "*"\n    condition: chainlog.enabled\n',
      );
      cpSync(CHART_DIR, join(umbrella, 'charts', 'chainlog'), { recursive: true });
    });
    afterAll(() => rmSync(umbrella, { recursive: true, force: true }));

    it('renders with the umbrella\'s global values and its `condition: chainlog.enabled`', async ({ expect }) => {
      const values = { global: { imageRegistry: 'registry.example.com', storageClass: 'fast' }, chainlog: { enabled: true, logLevel: 'debug' } };
      const objects = parseManifests(await asDefault.helmTemplate([values], { chart: umbrella }));
      expect((find(objects, 'Ledger', 'chainlog').spec as { logLevel: string }).logLevel).toBe('debug');
    });

    it('renders nothing of chainlog with chainlog.enabled=false', async ({ expect }) => {
      const result = await asDefault.helmTemplateRaw([{ global: { a: 1 }, chainlog: { enabled: false } }], { chart: umbrella });
      expect(result.stderr).not.toContain('additional properties');
      expect(result.code).toBe(0);
      expect(parseManifests(result.stdout)).toEqual([]);
    });

    it('still refuses unknown keys inside the chart\'s values', async ({ expect }) => {
      const result = await asDefault.helmTemplateRaw([{ chainlog: { enabled: true, replicaz: 3 } }], { chart: umbrella });
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain('replicaz');
    });
  });

  describe('the Ledger CRD (generated from services/operator/src/ledger/crd.ts)', () => {
    it('the chart\'s crds/, k8s/crds/ and the docs/operator.md reference are fresh (run `npx tsx scripts/gen-ledger-crd.ts`)', ({ expect }) => {
      expect(staleFiles()).toEqual([]);
    });
  });

  describe('plain manifests (k8s/)', () => {
    let fresh: Map<string, string>;
    beforeAll(async () => {
      fresh = await renderK8s(helmBinary());
    });

    it('k8s/base, k8s/components/bundled-kafka and k8s/ledgers equal a fresh render of the chart (run `npx tsx scripts/render-k8s.ts`)', ({ expect }) => {
      expect(differences(fresh, existingK8sFiles())).toEqual([]);
    });

    it('the overlays and components refer to files and resources that exist', ({ expect }) => {
      const k8s = join(REPO_ROOT, 'k8s');
      const baseNames = new Set(
        [...fresh.entries()]
          .filter(([path]) => !path.endsWith('kustomization.yaml') && !path.includes('/patch-'))
          .flatMap(([, content]) => parseManifests(content))
          .map((object) => `${object.kind}/${object.metadata.name}`),
      );
      for (const dir of ['overlays/kind', 'overlays/minikube', 'components/local-cluster', 'components/bundled-kafka', 'base']) {
        const kustomization = parseYaml(readFileSync(join(k8s, dir, 'kustomization.yaml'), 'utf8')) as {
          resources?: string[];
          components?: string[];
          patches?: { path?: string }[];
        };
        for (const entry of [...(kustomization.resources ?? []), ...(kustomization.components ?? [])]) {
          expect(existsSync(join(k8s, dir, entry)), `${dir}: ${entry}`).toBe(true);
        }
        for (const patch of kustomization.patches ?? []) {
          if (patch.path === undefined) continue;
          const file = join(k8s, dir, patch.path);
          expect(existsSync(file), `${dir}: ${patch.path}`).toBe(true);
          for (const target of parseManifests(readFileSync(file, 'utf8'))) {
            expect(baseNames.has(`${target.kind}/${target.metadata.name}`), `${dir}/${patch.path} patches ${target.kind}/${target.metadata.name}`).toBe(true);
          }
        }
      }
    });
  });
});

