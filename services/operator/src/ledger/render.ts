// What a Ledger implies: every object the operator creates for it, as plain manifests (pure: the same
// Ledger always gives the same objects, so a server-side apply of an unchanged Ledger changes nothing).
//
// Deliberately absent from pod templates: anything that changes when the ledger scales (the partition count,
// the miner count). A scale therefore changes only `spec.replicas` of the miner StatefulSet and never rolls
// the miners that already run (the miners' assignor derives the replica count from the live ordinals).
import { ADMIN_PRINCIPAL, BROKER_PRINCIPAL, DEFAULT_PRINCIPALS, scramUsers } from '../kafka/acls.js';
import { API_VERSION, KIND } from './crd.js';
import { KAFKA_SASL_ENTRYPOINT } from './kafka-assets.generated.js';
import { ALERT_GROUPS, DASHBOARDS } from './monitoring-assets.generated.js';
import { networkPolicies } from './network-policy.js';
import type { ApiAuth, BundledKafka, Ledger, LedgerSpec, LogLevel, Resources, Scheduling, ServiceSpec } from './types.js';

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: OwnerReference[];
  };
  [key: string]: unknown;
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller: boolean;
  blockOwnerDeletion: boolean;
}

export type Component = 'ingest' | 'miner' | 'auditor' | 'kafka';

export const PORTS = { ingest: 8080, miner: 8081, auditor: 8082 } as const;
export const KAFKA_PORT = 9092;
export const KAFKA_CONTROLLER_PORT = 9093;
/** The bundled Kafka's inter-broker listener (SASL only; with one broker it stays inside the pod). */
export const KAFKA_INTERNAL_PORT = 9094;
/** Where the bundled Kafka's pods see their credentials (charts/chainlog/files/kafka/sasl-entrypoint.sh reads them). */
const KAFKA_SASL_DIR = '/etc/chainlog/kafka-sasl';
/** Label every owned object carries: which Ledger it belongs to (how owned objects are listed and pruned). */
export const LEDGER_LABEL = 'chainlog.dev/ledger';
export const MANAGED_BY = 'chainlog-operator';
const TMP_SIZE = '64Mi';

export interface RenderOptions {
  /** Image tag used when spec.image.tag is absent (the operator's own version). */
  defaultImageTag: string;
}

export function componentName(ledger: Pick<Ledger, 'metadata'>, component: Component | string): string {
  return `${ledger.metadata.name}-${component}`;
}

export function selectorLabels(ledger: Pick<Ledger, 'metadata'>, component: Component): Record<string, string> {
  return { 'app.kubernetes.io/name': 'chainlog', 'app.kubernetes.io/instance': ledger.metadata.name, 'app.kubernetes.io/component': component };
}

function labels(ledger: Ledger, component: Component | 'monitoring' | 'ledger'): Record<string, string> {
  return {
    'app.kubernetes.io/name': 'chainlog',
    'app.kubernetes.io/instance': ledger.metadata.name,
    'app.kubernetes.io/component': component,
    'app.kubernetes.io/part-of': 'chainlog',
    'app.kubernetes.io/managed-by': MANAGED_BY,
    [LEDGER_LABEL]: ledger.metadata.name,
  };
}

export function ownerReference(ledger: Ledger): OwnerReference {
  return { apiVersion: API_VERSION, kind: KIND, name: ledger.metadata.name, uid: ledger.metadata.uid, controller: true, blockOwnerDeletion: true };
}

function metadata(ledger: Ledger, name: string, component: Component | 'monitoring' | 'ledger', annotations?: Record<string, string>): KubeObject['metadata'] {
  return {
    name,
    namespace: ledger.metadata.namespace,
    labels: labels(ledger, component),
    ...(annotations !== undefined && Object.keys(annotations).length > 0 ? { annotations } : {}),
    ownerReferences: [ownerReference(ledger)],
  };
}

/** The miners' consumer group (the ACLs grant it to the miners' principal). */
export function minerGroupId(ledger: Pick<Ledger, 'metadata'>): string {
  return `chainlog-miners-${ledger.metadata.name}`;
}

export function imageOf(spec: LedgerSpec, options: RenderOptions): string {
  const { repository, tag, digest } = spec.image;
  return digest !== undefined ? `${repository}@${digest}` : `${repository}:${tag ?? options.defaultImageTag}`;
}

export function bootstrapServers(ledger: Ledger): string {
  const { external } = ledger.spec.kafka;
  if (external !== undefined) return external.bootstrapServers;
  return `${componentName(ledger, 'kafka')}.${ledger.metadata.namespace}.svc:${KAFKA_PORT}`;
}

type EnvVar = { name: string; value?: string; valueFrom?: Record<string, unknown> };
type Volume = Record<string, unknown> & { name: string };
type Mount = { name: string; mountPath: string; readOnly?: boolean };

const value = (name: string, v: string | number | boolean): EnvVar => ({ name, value: String(v) });
function optional(entries: [string, string | number | boolean | undefined][]): EnvVar[] {
  return entries.filter((entry): entry is [string, string | number | boolean] => entry[1] !== undefined && entry[1] !== '').map(([name, v]) => value(name, v));
}

/** Kafka connection, topics and log level: what every Chainlog container reads (core's readCommonConfig). */
function commonEnv(ledger: Ledger, component: string, logLevel: LogLevel | undefined): EnvVar[] {
  const { kafka, topics } = ledger.spec;
  // Every interface of the pod: its Service, probes and scrapes come from outside it (a service's own default may be
  // loopback, which suits a laptop, not a pod).
  const env: EnvVar[] = [value('HTTP_HOST', '0.0.0.0'), value('KAFKA_BROKERS', bootstrapServers(ledger))];
  env.push(...optional([
    ['KAFKA_CLIENT_ID', kafka.clientIdPrefix !== undefined ? `${kafka.clientIdPrefix}-${component}` : undefined],
    ['KAFKA_CONNECTION_TIMEOUT_MS', kafka.connectionTimeoutMs],
    ['KAFKA_REQUEST_TIMEOUT_MS', kafka.requestTimeoutMs],
  ]));
  const tls = kafka.external?.tls;
  if (tls !== undefined) {
    env.push(value('KAFKA_SSL', true), value('KAFKA_SSL_REJECT_UNAUTHORIZED', tls.rejectUnauthorized));
    if (tls.ca) env.push(value('KAFKA_SSL_CA_FILE', `/etc/chainlog/kafka-tls/ca/${tls.ca.key}`));
    if (tls.clientCert) {
      env.push(value('KAFKA_SSL_CERT_FILE', `/etc/chainlog/kafka-tls/client/${tls.clientCert.certKey}`));
      env.push(value('KAFKA_SSL_KEY_FILE', `/etc/chainlog/kafka-tls/client/${tls.clientCert.keyKey}`));
    }
  }
  env.push(...bundledSaslEnv(ledger, component));
  const sasl = kafka.external?.sasl;
  if (sasl !== undefined) {
    env.push(value('KAFKA_SASL_MECHANISM', sasl.mechanism));
    env.push(
      sasl.usernameSecret !== undefined
        ? { name: 'KAFKA_SASL_USERNAME', valueFrom: { secretKeyRef: { name: sasl.usernameSecret.name, key: sasl.usernameSecret.key } } }
        : value('KAFKA_SASL_USERNAME', sasl.username ?? ''),
    );
    env.push({ name: 'KAFKA_SASL_PASSWORD', valueFrom: { secretKeyRef: { name: sasl.passwordSecret.name, key: sasl.passwordSecret.key } } });
  }
  env.push(
    value('TOPIC_TRANSACTIONS', topics.transactions),
    value('TOPIC_BLOCKCHAIN', topics.blockchain),
    value('TOPIC_AUDIT', topics.audit),
    value('TOPIC_DEAD_LETTER', topics.deadLetter),
    value('LOG_LEVEL', logLevel ?? ledger.spec.logLevel),
  );
  return env;
}

/** The service's own principal on a bundled Kafka with SASL: its user name and only its own password. */
function bundledSaslEnv(ledger: Ledger, component: string): EnvVar[] {
  const sasl = ledger.spec.kafka.bundled?.sasl;
  const user = component === 'ingest' || component === 'miner' || component === 'auditor' ? DEFAULT_PRINCIPALS[component] : undefined;
  if (sasl === undefined || user === undefined) return [];
  return [
    value('KAFKA_SASL_MECHANISM', 'scram-sha-512'),
    value('KAFKA_SASL_USERNAME', user),
    { name: 'KAFKA_SASL_PASSWORD', valueFrom: { secretKeyRef: { name: sasl.credentialsSecret, key: user } } },
  ];
}

/** The consensus rules: identical on every reader of the chain (miners, auditor), or they compute different chains. */
function consensusEnv(spec: LedgerSpec): EnvVar[] {
  const { consensus } = spec;
  const from = consensus.permissioned?.allowedMinerKeysFrom;
  // Sorted, so the same Ledger always renders the same pod template (no roll for a reordered map).
  const accounts = <T>(map: Record<string, T> | undefined, entry: (account: string, value: T) => string[]): string | undefined =>
    map === undefined ? undefined : Object.keys(map).sort().flatMap((account) => entry(account, map[account] as T)).join(',') || undefined;
  return [
    value('DIFFICULTY', consensus.difficulty),
    value('BLOCK_REWARD', consensus.blockReward),
    ...(from === undefined ? [] : [{ name: 'ALLOWED_MINER_KEYS', valueFrom: { configMapKeyRef: { name: from.name, key: from.key } } }]),
    ...optional([
      ['ALLOWED_MINER_KEYS', consensus.permissioned?.allowedMinerKeys?.join(',')],
      ['REQUIRE_TRANSACTION_SIGNATURES', consensus.requireTransactionSignatures],
      ['CONSENSUS_MAX_BLOCK_TRANSACTIONS', consensus.maxBlockTransactions],
      ['REPLAY_WINDOW_MS', consensus.replayWindowMs],
      ['ENFORCE_BALANCES', consensus.enforceBalances ? true : undefined],
      ['ACCOUNT_KEYS', consensus.enforceBalances ? accounts(consensus.accountKeys, (account, keys) => keys.map((key) => `${account}=${key}`)) : undefined],
      ['GENESIS_ALLOCATIONS', consensus.enforceBalances ? accounts(consensus.genesisAllocations, (account, amount) => [`${account}=${amount}`]) : undefined],
    ]),
  ];
}

/**
 * The consensus rules ingest applies at the door, taken from the readers' own entries (never a second source):
 * signatures and the replay window; with the ledger rules on, every entry (ingest refuses a spend by a key not bound
 * to its sender, which needs the bindings and the allow-list).
 */
const ADMISSION_RULES = new Set(['REQUIRE_TRANSACTION_SIGNATURES', 'REPLAY_WINDOW_MS']);
function admissionEnv(spec: LedgerSpec): EnvVar[] {
  return consensusEnv(spec).filter((entry) => spec.consensus.enforceBalances === true || ADMISSION_RULES.has(entry.name));
}

/** Checkpoints of the readers that keep chain state (miners, auditor): the topic, and the tunables that are set. */
function checkpointEnv(spec: LedgerSpec): EnvVar[] {
  const { checkpoints, topics } = spec;
  return [
    value('TOPIC_CHECKPOINTS', topics.checkpoints),
    ...optional([
      ['CHECKPOINT_RESTORE', checkpoints.restore],
      ['CHECKPOINT_EVERY_TRANSACTIONS', checkpoints.everyTransactions],
      ['CHECKPOINT_EVERY_BLOCKS', checkpoints.everyBlocks],
      ['CHECKPOINT_VERIFY', checkpoints.verify],
      ['CHECKPOINT_VERIFY_WORKER', checkpoints.verifyWorker],
    ]),
  ];
}

function kafkaVolumes(spec: LedgerSpec): { volumes: Volume[]; mounts: Mount[] } {
  const volumes: Volume[] = [];
  const mounts: Mount[] = [];
  const tls = spec.kafka.external?.tls;
  if (tls?.ca) {
    volumes.push({ name: 'kafka-tls-ca', secret: { secretName: tls.ca.name, defaultMode: 0o440 } });
    mounts.push({ name: 'kafka-tls-ca', mountPath: '/etc/chainlog/kafka-tls/ca', readOnly: true });
  }
  if (tls?.clientCert) {
    volumes.push({ name: 'kafka-tls-client', secret: { secretName: tls.clientCert.name, defaultMode: 0o440 } });
    mounts.push({ name: 'kafka-tls-client', mountPath: '/etc/chainlog/kafka-tls/client', readOnly: true });
  }
  return { volumes, mounts };
}

const POD_SECURITY = { runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, fsGroup: 10001, seccompProfile: { type: 'RuntimeDefault' } };
const CONTAINER_SECURITY = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  runAsUser: 10001,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
};

/**
 * Liveness and readiness; with `startupSeconds`, a startup probe that holds liveness off that long (the auditor:
 * opening its index and restoring must not be mistaken for a hung process).
 */
function probes(initialDelaySeconds: number, startupSeconds?: number): Record<string, unknown> {
  const get = (path: string) => ({ httpGet: { path, port: 'http' }, timeoutSeconds: 3 });
  return {
    ...(startupSeconds === undefined ? {} : { startupProbe: { ...get('/healthz'), periodSeconds: 5, failureThreshold: Math.ceil(startupSeconds / 5) } }),
    livenessProbe: { ...get('/healthz'), initialDelaySeconds: initialDelaySeconds * 2, periodSeconds: 10, failureThreshold: 6 },
    readinessProbe: { ...get('/readyz'), initialDelaySeconds, periodSeconds: 5, failureThreshold: 3 },
  };
}

function scheduling(ledger: Ledger, component: Component, values: Scheduling): Record<string, unknown> {
  return {
    ...(values.priorityClassName ? { priorityClassName: values.priorityClassName } : {}),
    ...(values.nodeSelector && Object.keys(values.nodeSelector).length > 0 ? { nodeSelector: values.nodeSelector } : {}),
    ...(values.tolerations && values.tolerations.length > 0 ? { tolerations: values.tolerations } : {}),
    ...(values.affinity && Object.keys(values.affinity).length > 0 ? { affinity: values.affinity } : {}),
    topologySpreadConstraints: [
      { maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: selectorLabels(ledger, component) } },
    ],
  };
}

interface PodOptions {
  component: 'ingest' | 'miner' | 'auditor';
  env: EnvVar[];
  resources: Resources;
  scheduling: Scheduling;
  volumes?: Volume[];
  mounts?: Mount[];
  initContainers?: Record<string, unknown>[];
  tmpSizeLimit?: string | number;
  probeDelaySeconds: number;
  /** Seconds the startup probe allows before liveness applies (absent: no startup probe). */
  startupSeconds?: number;
  /** Pod security context fields on top of the restricted defaults. */
  podSecurity?: Record<string, unknown>;
}

function podTemplate(ledger: Ledger, options: PodOptions, renderOptions: RenderOptions): Record<string, unknown> {
  const { spec } = ledger;
  const kafka = kafkaVolumes(spec);
  return {
    metadata: { labels: labels(ledger, options.component) },
    spec: {
      serviceAccountName: ledger.metadata.name,
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      ...(spec.image.pullSecrets && spec.image.pullSecrets.length > 0 ? { imagePullSecrets: spec.image.pullSecrets.map((name) => ({ name })) } : {}),
      securityContext: { ...POD_SECURITY, ...options.podSecurity },
      terminationGracePeriodSeconds: 30,
      ...scheduling(ledger, options.component, options.scheduling),
      ...(options.initContainers !== undefined && options.initContainers.length > 0 ? { initContainers: options.initContainers } : {}),
      containers: [
        {
          name: options.component,
          image: imageOf(spec, renderOptions),
          imagePullPolicy: spec.image.pullPolicy,
          workingDir: '/app',
          command: ['node', `services/${options.component}/dist/main.js`],
          ports: [{ name: 'http', containerPort: PORTS[options.component], protocol: 'TCP' }],
          env: options.env,
          ...probes(options.probeDelaySeconds, options.startupSeconds),
          resources: options.resources,
          securityContext: CONTAINER_SECURITY,
          volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }, ...kafka.mounts, ...(options.mounts ?? [])],
        },
      ],
      volumes: [{ name: 'tmp', emptyDir: { sizeLimit: options.tmpSizeLimit ?? TMP_SIZE } }, ...kafka.volumes, ...(options.volumes ?? [])],
    },
  };
}

function service(ledger: Ledger, component: 'ingest' | 'auditor', values: ServiceSpec): KubeObject {
  const nodePort = values.type !== 'ClusterIP' && values.nodePort !== undefined ? { nodePort: values.nodePort } : {};
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: metadata(ledger, componentName(ledger, component), component, values.annotations),
    spec: { type: values.type, selector: selectorLabels(ledger, component), ports: [{ name: 'http', port: values.port, targetPort: 'http', protocol: 'TCP', ...nodePort }] },
  };
}

function pdb(ledger: Ledger, component: Component): KubeObject {
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: metadata(ledger, componentName(ledger, component), component),
    spec: { maxUnavailable: 1, selector: { matchLabels: selectorLabels(ledger, component) } },
  };
}

function deployment(ledger: Ledger, component: 'ingest', replicas: number, template: Record<string, unknown>): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: metadata(ledger, componentName(ledger, component), component),
    spec: {
      replicas,
      revisionHistoryLimit: 5,
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      selector: { matchLabels: selectorLabels(ledger, component) },
      template,
    },
  };
}

/** An API's bearer tokens as a file (AUTH_TOKENS_FILE) from the Secret: never an environment variable. */
function authFiles(auth: ApiAuth | undefined): { env: EnvVar[]; volumes: Volume[]; mounts: Mount[] } {
  if (auth === undefined) return { env: [], volumes: [], mounts: [] };
  return {
    env: [value('AUTH_TOKENS_FILE', `/etc/chainlog/auth/${auth.key}`)],
    volumes: [{ name: 'auth-tokens', secret: { secretName: auth.secretName, defaultMode: 0o440, items: [{ key: auth.key, path: auth.key }] } }],
    mounts: [{ name: 'auth-tokens', mountPath: '/etc/chainlog/auth', readOnly: true }],
  };
}

type ApiComponent = 'ingest' | 'auditor';

/**
 * The pod template of a service with a public HTTP API (ingest, the auditor): its Kafka and own settings, its
 * bearer tokens as files, its Service and PodDisruptionBudget beside it. One shape for both, so they cannot drift.
 */
function apiWorkload(
  ledger: Ledger,
  component: ApiComponent,
  values: Scheduling & { logLevel?: LogLevel; resources: Resources; service: ServiceSpec; auth?: ApiAuth },
  pod: Omit<PodOptions, 'component' | 'resources' | 'scheduling'>,
  options: RenderOptions,
): { template: Record<string, unknown>; objects: KubeObject[] } {
  const auth = authFiles(values.auth);
  const env = [...commonEnv(ledger, component, values.logLevel), ...pod.env, ...auth.env];
  const template = podTemplate(
    ledger,
    { ...pod, component, env, resources: values.resources, scheduling: values, volumes: [...(pod.volumes ?? []), ...auth.volumes], mounts: [...(pod.mounts ?? []), ...auth.mounts] },
    options,
  );
  return { template, objects: [service(ledger, component, values.service), pdb(ledger, component)] };
}

function ingestObjects(ledger: Ledger, options: RenderOptions): KubeObject[] {
  const { ingest } = ledger.spec;
  const env = [
    ...admissionEnv(ledger.spec),
    ...optional([
      ['MAX_BATCH_SIZE', ingest.config.maxBatchSize],
      ['MAX_BODY_BYTES', ingest.config.maxBodyBytes],
      ['PRODUCE_TIMEOUT_MS', ingest.config.produceTimeoutMs],
      ['MAX_INFLIGHT_REQUESTS', ingest.config.maxInflightRequests],
      ['AUDITOR_PUBLIC_URL', ingest.config.auditorPublicUrl],
      ['RATE_LIMIT_PER_SECOND', ingest.config.rateLimitPerSecond],
      ['RATE_LIMIT_BURST', ingest.config.rateLimitBurst],
      ['MAX_INFLIGHT_PER_CLIENT', ingest.config.maxInflightPerClient],
      ['CLIENT_IP_HEADER', ingest.config.clientIpHeader],
      ['HEADERS_TIMEOUT_MS', ingest.config.headersTimeoutMs],
      ['REQUEST_TIMEOUT_MS', ingest.config.requestTimeoutMs],
      ['IDEMPOTENCY_TTL_SECONDS', ingest.config.idempotencyTtlSeconds],
      ['IDEMPOTENCY_MAX_ENTRIES', ingest.config.idempotencyMaxEntries],
    ]),
    // Ingest's mining-backlog check reads the miners' committed offsets (docs/architecture.md, "Mining backlog").
    value('MINER_GROUP_ID', minerGroupId(ledger)),
    // Only meaningful with a replay window, and refused by ingest without one.
    ...(ledger.spec.consensus.replayWindowMs === undefined
      ? []
      : optional([
          ['TIMESTAMP_TOLERANCE_MS', ingest.config.timestampToleranceMs],
          ['MINING_BACKLOG_LIMIT_MS', ingest.config.miningBacklogLimitMs],
        ])),
  ];
  const { template, objects } = apiWorkload(ledger, 'ingest', ingest, { env, probeDelaySeconds: 2 }, options);
  return [deployment(ledger, 'ingest', ingest.replicas, template), ...objects];
}

/** Where the auditor keeps its transaction index (DATA_DIR), on the claim (or emptyDir) named `data`. */
export const AUDITOR_DATA_DIR = '/var/lib/chainlog/auditor';
/**
 * The auditor's glibc malloc arenas (MALLOC_ARENA_MAX), as the chart sets it: an arena per thread (LevelDB's
 * compaction thread, libuv's pool) keeps what is freed in it; two cut the back-fill's anonymous memory by ~40 MiB
 * (docs/benchmarks.md, session 8).
 */
export const AUDITOR_MALLOC_ARENAS = 2;
/**
 * The auditor's glibc mmap threshold (MALLOC_MMAP_THRESHOLD_), as the chart sets it: fixed (glibc otherwise raises
 * it, up to 32 MiB, whenever a mapped chunk is freed), so allocations from 128 KiB up (a block's bytes in LevelDB's
 * write batches and memtables, fetch buffers) are mapped and returned when freed instead of fragmenting the arenas:
 * the 1M back-fill's peak 230 -> 214 MiB in one comparison (docs/benchmarks.md, session 9).
 */
export const AUDITOR_MMAP_THRESHOLD_BYTES = 128 * 1024;
/**
 * How long the auditor's startup probe waits for /healthz (opening the index, restoring): 300 s, generous against
 * the 176 s a full replay of 1M transactions took in bench:restart on the loaded machine (docs/benchmarks.md).
 */
export const AUDITOR_STARTUP_SECONDS = 300;

/**
 * The auditor: a StatefulSet, so each replica keeps its own transaction index on a PersistentVolumeClaim across
 * restarts (an ephemeral Ledger: an emptyDir). The claims outlive the Ledger: the ledger's index is data too, and
 * the StatefulSet controller, not the operator, creates them (the operator never prunes one).
 */
function auditorObjects(ledger: Ledger, options: RenderOptions): KubeObject[] {
  const { auditor } = ledger.spec;
  const { storage } = auditor;
  const env = [
    ...consensusEnv(ledger.spec),
    ...checkpointEnv(ledger.spec),
    value('DATA_DIR', AUDITOR_DATA_DIR),
    value('MALLOC_ARENA_MAX', AUDITOR_MALLOC_ARENAS),
    value('MALLOC_MMAP_THRESHOLD_', AUDITOR_MMAP_THRESHOLD_BYTES),
    ...heapCapEnv(ledger.spec),
    ...optional([
      ['AUDIT_RECENT_LIMIT', storage.recentLimit],
      ['BLOCK_CACHE_BYTES', storage.blockCacheBytes],
      ['PENDING_TRACK_LIMIT', storage.pendingTrackLimit],
    ]),
  ];
  const { template, objects } = apiWorkload(
    ledger,
    'auditor',
    auditor,
    {
      env,
      tmpSizeLimit: storage.tmpSizeLimit,
      probeDelaySeconds: 5,
      startupSeconds: AUDITOR_STARTUP_SECONDS,
      // The volume's files belong to the pod's group; only a fresh volume is walked to set it.
      podSecurity: { fsGroupChangePolicy: 'OnRootMismatch' },
      mounts: [{ name: 'data', mountPath: AUDITOR_DATA_DIR }],
      volumes: storage.ephemeral ? [{ name: 'data', emptyDir: {} }] : [],
    },
    options,
  );
  const claims = storage.ephemeral
    ? {}
    : {
        volumeClaimTemplates: [
          {
            metadata: { name: 'data', labels: selectorLabels(ledger, 'auditor') },
            spec: {
              accessModes: ['ReadWriteOnce'],
              ...(storage.storageClassName !== undefined ? { storageClassName: storage.storageClassName } : {}),
              resources: { requests: { storage: String(storage.size) } },
            },
          },
        ],
      };
  const name = componentName(ledger, 'auditor');
  const statefulSet: KubeObject = {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: metadata(ledger, name, 'auditor'),
    spec: {
      replicas: auditor.replicas,
      // The auditor's Service: pods need no DNS names of their own.
      serviceName: name,
      podManagementPolicy: 'Parallel',
      updateStrategy: { type: 'RollingUpdate' },
      revisionHistoryLimit: 5,
      selector: { matchLabels: selectorLabels(ledger, 'auditor') },
      template,
      ...claims,
    },
  };
  return [statefulSet, ...objects];
}

/**
 * NODE_OPTIONS of a chain reader (miner, auditor): with a replay window its memory is bounded by the window, and a
 * V8 heap cap keeps it there (without one V8 lets the heap grow to several times what is live: the background
 * verification and the back-fill then passed 256 MiB, docs/benchmarks.md); without a window every committed id
 * stays in the heap, so no cap (it would end in an OOM crash loop). The cap is on the old generation and on the
 * young one (2 MiB semi-spaces instead of V8's up to 16): V8 flags apply to every isolate of the process, the
 * worker thread that reads the transactions topic too, whose heap the old-generation cap alone left at ~60 MiB
 * at 10M transactions. The chart's `nodeOptions: null` is the same.
 */
const READER_HEAP_CAP = '--max-old-space-size=128 --max-semi-space-size=2';

export function heapCapEnv(spec: Ledger['spec']): EnvVar[] {
  return spec.consensus.replayWindowMs === undefined ? [] : [value('NODE_OPTIONS', READER_HEAP_CAP)];
}

function minerObjects(ledger: Ledger, options: RenderOptions): KubeObject[] {
  const { miners } = ledger.spec;
  const name = componentName(ledger, 'miner');
  const env: EnvVar[] = [
    { name: 'MINER_ID', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
    { name: 'POD_INDEX', valueFrom: { fieldRef: { fieldPath: "metadata.labels['apps.kubernetes.io/pod-index']" } } },
    ...commonEnv(ledger, 'miner', miners.logLevel),
    ...consensusEnv(ledger.spec),
    ...checkpointEnv(ledger.spec),
    value('MINER_GROUP_ID', minerGroupId(ledger)),
    value('POW_WORKERS', miners.powWorkers),
    ...heapCapEnv(ledger.spec),
    ...optional([
      ['MINER_SESSION_TIMEOUT_MS', miners.config.sessionTimeoutMs],
      ['CUT_AT_PENDING_TRANSACTIONS', miners.config.cutAtPendingTransactions],
      ['TAKE_UP_TO_TRANSACTIONS', miners.config.takeUpToTransactions],
      ['TAKE_UP_TO_BYTES', miners.config.takeUpToBytes],
      ['MAX_BLOCK_WAIT_MS', miners.config.maxBlockWaitMs],
      ['MAX_PENDING_PER_PARTITION', miners.config.maxPendingPerPartition],
    ]),
  ];
  const keys = minerKeyFiles(ledger, options);
  env.push(...keys.env);
  const template = podTemplate(
    ledger,
    { component: 'miner', env, resources: miners.resources, scheduling: miners, volumes: keys.volumes, mounts: keys.mounts, initContainers: keys.initContainers, probeDelaySeconds: 5 },
    options,
  );
  const statefulSet: KubeObject = {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: metadata(ledger, name, 'miner'),
    spec: {
      // One miner per partition; the only field a scale changes.
      replicas: ledger.spec.partitions,
      serviceName: `${name}-headless`,
      podManagementPolicy: 'Parallel',
      updateStrategy: { type: 'RollingUpdate' },
      revisionHistoryLimit: 5,
      selector: { matchLabels: selectorLabels(ledger, 'miner') },
      template,
    },
  };
  const headless: KubeObject = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: metadata(ledger, `${name}-headless`, 'miner'),
    spec: {
      type: 'ClusterIP',
      clusterIP: 'None',
      publishNotReadyAddresses: true,
      selector: selectorLabels(ledger, 'miner'),
      ports: [{ name: 'http', port: PORTS.miner, targetPort: 'http', protocol: 'TCP' }],
    },
  };
  return [statefulSet, headless, pdb(ledger, 'miner')];
}

/** Where a miner reads its own key (MINER_PRIVATE_KEY_FILE). */
export const MINER_KEY_FILE = '/etc/chainlog/miner-key/miner.key';

/**
 * Each miner's container sees only its own private key. One pod template serves every ordinal and a Secret volume
 * cannot select a key per ordinal, so with per-miner keys the Secret is mounted into an init container only, which
 * copies `miner-<ordinal>.key` into an in-memory emptyDir and exits; the miner container mounts that emptyDir,
 * never the Secret. (The kubelet still delivers the whole Secret to every miner pod's volume: a miner process cannot
 * read another miner's key, a node compromise can. docs/operator.md says so.) A shared key is selected by item.
 */
function minerKeyFiles(ledger: Ledger, options: RenderOptions): { env: EnvVar[]; volumes: Volume[]; mounts: Mount[]; initContainers: Record<string, unknown>[] } {
  const keys = ledger.spec.consensus.permissioned?.minerKeysSecret;
  if (keys === undefined) return { env: [], volumes: [], mounts: [], initContainers: [] };
  const env = [value('MINER_PRIVATE_KEY_FILE', MINER_KEY_FILE)];
  const mounts = [{ name: 'miner-key', mountPath: '/etc/chainlog/miner-key', readOnly: true }];
  if (!keys.perMiner) {
    const volumes = [{ name: 'miner-key', secret: { secretName: keys.name, defaultMode: 0o440, items: [{ key: keys.key, path: 'miner.key' }] } }];
    return { env, volumes, mounts, initContainers: [] };
  }
  const volumes = [
    { name: 'miner-keys-all', secret: { secretName: keys.name, defaultMode: 0o440 } },
    { name: 'miner-key', emptyDir: { medium: 'Memory', sizeLimit: '1Mi' } },
  ];
  const initContainers = [
    {
      name: 'miner-key',
      image: imageOf(ledger.spec, options),
      imagePullPolicy: ledger.spec.image.pullPolicy,
      command: ['sh', '-c', MINER_KEY_COPY],
      env: [{ name: 'POD_INDEX', valueFrom: { fieldRef: { fieldPath: "metadata.labels['apps.kubernetes.io/pod-index']" } } }],
      resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { memory: '64Mi' } },
      securityContext: CONTAINER_SECURITY,
      volumeMounts: [
        { name: 'miner-keys-all', mountPath: '/etc/chainlog/miner-keys', readOnly: true },
        { name: 'miner-key', mountPath: '/etc/chainlog/miner-key' },
      ],
    },
  ];
  return { env, volumes, mounts, initContainers };
}

/** The init step: this ordinal's key or a message naming what is missing (never the key). */
export const MINER_KEY_COPY = [
  'set -eu',
  'umask 077',
  'src="/etc/chainlog/miner-keys/miner-${POD_INDEX}.key"',
  '[ -s "$src" ] || { echo "the miner keys Secret has no key miner-${POD_INDEX}.key: add one (chainlog key new) before scaling to this miner" >&2; exit 1; }',
  `cp "$src" ${MINER_KEY_FILE}`,
].join('\n');

/** KRaft combined broker+controller nodes; voters are the StatefulSet's pods through the headless Service. */
function kafkaObjects(ledger: Ledger, bundled: BundledKafka): KubeObject[] {
  const name = componentName(ledger, 'kafka');
  const namespace = ledger.metadata.namespace;
  const headless = `${name}-headless`;
  const pod = (i: number): string => `${name}-${i}.${headless}.${namespace}.svc`;
  const voters = Array.from({ length: bundled.replicas }, (_, i) => `${i}@${pod(i)}:${KAFKA_CONTROLLER_PORT}`).join(',');
  const replication = String(Math.min(bundled.replicas, 3));
  const minIsr = String(bundled.replicas >= 3 ? 2 : 1);
  const dataVolume = bundled.storage.ephemeral ? [{ name: 'data', emptyDir: {} }] : [];
  const claims = bundled.storage.ephemeral
    ? {}
    : {
        volumeClaimTemplates: [
          {
            metadata: { name: 'data', labels: selectorLabels(ledger, 'kafka') },
            spec: {
              accessModes: ['ReadWriteOnce'],
              ...(bundled.storage.storageClassName !== undefined ? { storageClassName: bundled.storage.storageClassName } : {}),
              resources: { requests: { storage: String(bundled.storage.size) } },
            },
          },
        ],
      };
  const statefulSet: KubeObject = {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: metadata(ledger, name, 'kafka'),
    spec: {
      replicas: bundled.replicas,
      serviceName: headless,
      podManagementPolicy: 'Parallel',
      updateStrategy: { type: 'RollingUpdate' },
      selector: { matchLabels: selectorLabels(ledger, 'kafka') },
      template: {
        metadata: { labels: labels(ledger, 'kafka') },
        spec: {
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          securityContext: { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, seccompProfile: { type: 'RuntimeDefault' } },
          terminationGracePeriodSeconds: 60,
          containers: [
            {
              name: 'kafka',
              image: bundled.image,
              ...(bundled.sasl !== undefined ? { command: ['bash', '-c', KAFKA_SASL_ENTRYPOINT, 'kafka-sasl-entrypoint'] } : {}),
              ports: [
                { name: 'kafka', containerPort: KAFKA_PORT, protocol: 'TCP' },
                { name: 'controller', containerPort: KAFKA_CONTROLLER_PORT, protocol: 'TCP' },
                ...(bundled.sasl !== undefined ? [{ name: 'internal', containerPort: KAFKA_INTERNAL_PORT, protocol: 'TCP' }] : []),
              ],
              env: [
                // The node id is the pod's ordinal, the advertised listener its stable DNS name (the image's own
                // entrypoint reads KAFKA_* variables; no command of ours).
                { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
                { name: 'KAFKA_NODE_ID', valueFrom: { fieldRef: { fieldPath: "metadata.labels['apps.kubernetes.io/pod-index']" } } },
                value('CLUSTER_ID', clusterId(ledger)),
                value('KAFKA_PROCESS_ROLES', 'broker,controller'),
                ...(bundled.sasl === undefined ? plaintextListeners(`$(POD_NAME).${headless}.${namespace}.svc`) : saslListeners(`$(POD_NAME).${headless}.${namespace}.svc`)),
                value('KAFKA_CONTROLLER_LISTENER_NAMES', 'CONTROLLER'),
                value('KAFKA_CONTROLLER_QUORUM_VOTERS', voters),
                value('KAFKA_LOG_DIRS', '/var/lib/kafka/data/logs'),
                value('KAFKA_AUTO_CREATE_TOPICS_ENABLE', 'false'),
                value('KAFKA_DEFAULT_REPLICATION_FACTOR', replication),
                value('KAFKA_MIN_INSYNC_REPLICAS', minIsr),
                value('KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR', replication),
                value('KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR', replication),
                value('KAFKA_TRANSACTION_STATE_LOG_MIN_ISR', minIsr),
                value('KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS', '0'),
                value('KAFKA_HEAP_OPTS', bundled.heapOpts),
              ],
              startupProbe: { tcpSocket: { port: 'kafka' }, periodSeconds: 5, failureThreshold: 60 },
              readinessProbe: { tcpSocket: { port: 'kafka' }, periodSeconds: 10, timeoutSeconds: 5 },
              livenessProbe: { tcpSocket: { port: 'kafka' }, periodSeconds: 20, timeoutSeconds: 5, failureThreshold: 6 },
              resources: bundled.resources,
              securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: false, capabilities: { drop: ['ALL'] } },
              volumeMounts: [
                { name: 'data', mountPath: '/var/lib/kafka/data' },
                { name: 'tmp', mountPath: '/tmp' },
                ...(bundled.sasl !== undefined ? [{ name: 'sasl', mountPath: KAFKA_SASL_DIR, readOnly: true }] : []),
              ],
            },
          ],
          volumes: [{ name: 'tmp', emptyDir: {} }, ...dataVolume, ...(bundled.sasl !== undefined ? [kafkaSaslVolume(bundled.sasl.credentialsSecret)] : [])],
        },
      },
      ...claims,
    },
  };
  const port = (p: number, n: string) => ({ name: n, port: p, targetPort: n, protocol: 'TCP' });
  return [
    statefulSet,
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: metadata(ledger, name, 'kafka'),
      spec: { type: 'ClusterIP', selector: selectorLabels(ledger, 'kafka'), ports: [port(KAFKA_PORT, 'kafka')] },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: metadata(ledger, headless, 'kafka'),
      spec: {
        type: 'ClusterIP',
        clusterIP: 'None',
        publishNotReadyAddresses: true,
        selector: selectorLabels(ledger, 'kafka'),
        ports: [port(KAFKA_PORT, 'kafka'), port(KAFKA_CONTROLLER_PORT, 'controller')],
      },
    },
  ];
}

function plaintextListeners(host: string): EnvVar[] {
  return [
    value('KAFKA_ADVERTISED_LISTENERS', `PLAINTEXT://${host}:${KAFKA_PORT}`),
    value('KAFKA_LISTENERS', `PLAINTEXT://:${KAFKA_PORT},CONTROLLER://:${KAFKA_CONTROLLER_PORT}`),
    value('KAFKA_LISTENER_SECURITY_PROTOCOL_MAP', 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT'),
    value('KAFKA_INTER_BROKER_LISTENER_NAME', 'PLAINTEXT'),
  ];
}

/**
 * SASL on every listener and the StandardAuthorizer: clients (CLIENT) log in with SCRAM-SHA-512 as their own
 * principal; the brokers reach each other (INTERNAL) and the controllers (CONTROLLER) as the super user `broker`
 * with SASL/PLAIN (the entrypoint script writes that JAAS from the Secret). No ACL, no access.
 */
export function saslListeners(host: string): EnvVar[] {
  return [
    value('KAFKA_ADVERTISED_LISTENERS', `CLIENT://${host}:${KAFKA_PORT},INTERNAL://${host}:${KAFKA_INTERNAL_PORT}`),
    value('KAFKA_LISTENERS', `CLIENT://:${KAFKA_PORT},CONTROLLER://:${KAFKA_CONTROLLER_PORT},INTERNAL://:${KAFKA_INTERNAL_PORT}`),
    value('KAFKA_LISTENER_SECURITY_PROTOCOL_MAP', 'CLIENT:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT,INTERNAL:SASL_PLAINTEXT'),
    value('KAFKA_INTER_BROKER_LISTENER_NAME', 'INTERNAL'),
    value('KAFKA_SASL_MECHANISM_CONTROLLER_PROTOCOL', 'PLAIN'),
    value('KAFKA_SASL_MECHANISM_INTER_BROKER_PROTOCOL', 'PLAIN'),
    value('KAFKA_LISTENER_NAME_CLIENT_SASL_ENABLED_MECHANISMS', 'SCRAM-SHA-512'),
    value('KAFKA_LISTENER_NAME_CONTROLLER_SASL_ENABLED_MECHANISMS', 'PLAIN'),
    value('KAFKA_LISTENER_NAME_INTERNAL_SASL_ENABLED_MECHANISMS', 'PLAIN'),
    value('KAFKA_LISTENER_NAME_CLIENT_SCRAM___SHA___512_SASL_JAAS_CONFIG', 'org.apache.kafka.common.security.scram.ScramLoginModule required;'),
    value('KAFKA_AUTHORIZER_CLASS_NAME', 'org.apache.kafka.metadata.authorizer.StandardAuthorizer'),
    value('KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND', 'false'),
    value('KAFKA_SUPER_USERS', `User:${BROKER_PRINCIPAL};User:${ADMIN_PRINCIPAL}`),
  ];
}

/** The credentials Secret as the entrypoint script reads it: broker, and scram/<user> per SCRAM user. */
function kafkaSaslVolume(secretName: string): Volume {
  const items = [{ key: BROKER_PRINCIPAL, path: BROKER_PRINCIPAL }, ...scramUsers().map((user) => ({ key: user, path: `scram/${user}` }))];
  // 0440 with the pod's fsGroup: the broker's user (1000) reads them, nobody else.
  return { name: 'sasl', secret: { secretName, defaultMode: 0o440, items } };
}

/**
 * A KRaft cluster id (22 base64url characters) fixed per Ledger, so restarted brokers find their data. Never
 * starting with "-": `kafka-storage format -t -D04…` reads such an id as an option and fails, so the broker of
 * one Ledger in 64 (a uid starting 0xf8-0xfb) crash-looped at its first start. Only those ids change.
 */
export function clusterId(ledger: Pick<Ledger, 'metadata'>): string {
  const id = Buffer.from(ledger.metadata.uid.replaceAll('-', ''), 'hex').toString('base64url').slice(0, 22).padEnd(22, 'A');
  return id.startsWith('-') ? `A${id.slice(1)}` : id;
}

/** A dashboard's ConfigMap name: <ledger>-dashboard-<file without .json>, as the chart names its own. */
export function dashboardConfigMapName(ledger: Pick<Ledger, 'metadata'>, file: string): string {
  const base = file.replace(/\.json$/, '').toLowerCase().replaceAll('_', '-').replaceAll('.', '-');
  return `${ledger.metadata.name}-dashboard-${base}`.slice(0, 63).replace(/-+$/, '');
}

function monitoringObjects(ledger: Ledger): KubeObject[] {
  const { serviceMonitor, prometheusRule, dashboards } = ledger.spec.monitoring;
  return [
    ...(serviceMonitor.enabled ? [serviceMonitorObject(ledger)] : []),
    // The rules aggregate `by (namespace)` (charts/chainlog/files/alerts): two Ledgers in one namespace share
    // their alerts (docs/operator.md says so); Ledgers in different namespaces stay apart.
    ...(prometheusRule.enabled
      ? [{
          apiVersion: 'monitoring.coreos.com/v1',
          kind: 'PrometheusRule',
          metadata: { ...metadata(ledger, ledger.metadata.name, 'monitoring'), labels: { ...labels(ledger, 'monitoring'), ...(prometheusRule.labels ?? {}) } },
          spec: { groups: structuredClone(ALERT_GROUPS) },
        }]
      : []),
    ...(dashboards.enabled
      ? Object.entries(DASHBOARDS).map(([file, json]) => ({
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { ...metadata(ledger, dashboardConfigMapName(ledger, file), 'monitoring'), labels: { ...labels(ledger, 'monitoring'), ...(dashboards.labels ?? { grafana_dashboard: '1' }) } },
          // Without the final newline, as the chart's `|-` block writes it: the same ConfigMap from either owner.
          data: { [file]: json.replace(/\n+$/, '') },
        }))
      : []),
  ];
}

function serviceMonitorObject(ledger: Ledger): KubeObject {
  const { serviceMonitor } = ledger.spec.monitoring;
  return {
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'ServiceMonitor',
      metadata: { ...metadata(ledger, ledger.metadata.name, 'monitoring'), labels: { ...labels(ledger, 'monitoring'), ...(serviceMonitor.labels ?? {}) } },
      spec: {
        selector: {
          matchLabels: { 'app.kubernetes.io/name': 'chainlog', 'app.kubernetes.io/instance': ledger.metadata.name },
          matchExpressions: [{ key: 'app.kubernetes.io/component', operator: 'In', values: ['ingest', 'miner', 'auditor'] }],
        },
        endpoints: [
          {
            port: 'http',
            path: '/metrics',
            interval: serviceMonitor.interval,
            // The services label their own series with `service`; keep theirs (no `exported_service`).
            honorLabels: true,
            relabelings: [{ sourceLabels: ['__meta_kubernetes_service_label_app_kubernetes_io_component'], targetLabel: 'service' }],
          },
        ],
      },
  };
}

/** Every object the Ledger implies, in the order they are applied. */
export function renderLedger(ledger: Ledger, options: RenderOptions): KubeObject[] {
  const serviceAccount: KubeObject = {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: metadata(ledger, ledger.metadata.name, 'ledger'),
    automountServiceAccountToken: false,
  };
  const bundled = ledger.spec.kafka.bundled;
  return [
    serviceAccount,
    ...(bundled !== undefined ? kafkaObjects(ledger, bundled) : []),
    ...minerObjects(ledger, options),
    ...ingestObjects(ledger, options),
    ...auditorObjects(ledger, options),
    ...monitoringObjects(ledger),
    ...networkPolicies({
      ledger,
      metadata: (component) => metadata(ledger, componentName(ledger, component), component),
      podsOf: (component) => ({ [LEDGER_LABEL]: ledger.metadata.name, 'app.kubernetes.io/component': component }),
      ports: { ...PORTS, kafka: KAFKA_PORT, kafkaController: KAFKA_CONTROLLER_PORT, kafkaInternal: KAFKA_INTERNAL_PORT },
    }),
  ];
}

/** The kinds the operator may own, for listing and pruning (a kind no Ledger renders any more is pruned too). */
export const OWNED_KINDS = [
  { apiVersion: 'v1', kind: 'ServiceAccount', plural: 'serviceaccounts' },
  { apiVersion: 'v1', kind: 'Service', plural: 'services' },
  { apiVersion: 'v1', kind: 'ConfigMap', plural: 'configmaps' },
  { apiVersion: 'apps/v1', kind: 'Deployment', plural: 'deployments' },
  { apiVersion: 'apps/v1', kind: 'StatefulSet', plural: 'statefulsets' },
  { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', plural: 'poddisruptionbudgets' },
  { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', plural: 'networkpolicies' },
  { apiVersion: 'monitoring.coreos.com/v1', kind: 'ServiceMonitor', plural: 'servicemonitors' },
  { apiVersion: 'monitoring.coreos.com/v1', kind: 'PrometheusRule', plural: 'prometheusrules' },
] as const;
