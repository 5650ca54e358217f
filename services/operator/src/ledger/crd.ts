// The `Ledger` CustomResourceDefinition (ledgers.chainlog.dev, v1alpha1): the one place its schema,
// defaults, validation rules, printer columns and scale subresource are written. scripts/gen-ledger-crd.ts
// writes it as YAML into the chart (charts/chainlog/crds/), k8s/crds/ and the reference part of
// docs/operator.md; the chart test fails when those copies are stale.
//
// Validation the API server can do is done here (types, ranges, patterns, CEL rules), so a bad Ledger is
// refused by `kubectl apply` with a message instead of being reported later in status.

export const GROUP = 'chainlog.dev';
export const VERSION = 'v1alpha1';
export const KIND = 'Ledger';
export const PLURAL = 'ledgers';
export const API_VERSION = `${GROUP}/${VERSION}`;
/** Partitions a Ledger may have unless it sets spec.maxPartitions (partitions are forever: keep it low). */
export const DEFAULT_MAX_PARTITIONS = 64;
/** Hard ceiling of spec.maxPartitions. */
export const MAX_PARTITIONS_CEILING = 1024;

type Schema = Record<string, unknown>;

const withDefault = (schema: Schema, value: unknown): Schema => (value === undefined ? schema : { ...schema, default: value });

function str(description: string, options: { default?: string; pattern?: string; enum?: string[]; minLength?: number; maxLength?: number } = {}): Schema {
  const { default: value, ...rest } = options;
  return withDefault({ type: 'string', description, ...rest }, value);
}

function int(description: string, options: { default?: number; minimum?: number; maximum?: number; format?: 'int32' | 'int64' } = {}): Schema {
  const { default: value, format = 'int32', ...rest } = options;
  return withDefault({ type: 'integer', format, description, ...rest }, value);
}

function bool(description: string, value?: boolean): Schema {
  return withDefault({ type: 'boolean', description }, value);
}

function object(description: string, properties: Record<string, Schema>, extra: Schema = {}): Schema {
  return { type: 'object', description, properties, ...extra };
}

const stringMap = (description: string): Schema => ({ type: 'object', description, additionalProperties: { type: 'string' } });
const free = (description: string): Schema => ({ type: 'object', description, 'x-kubernetes-preserve-unknown-fields': true });
const freeList = (description: string): Schema => ({ type: 'array', description, items: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } });

const QUANTITY: Schema = {
  anyOf: [{ type: 'integer' }, { type: 'string' }],
  pattern: '^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$',
  'x-kubernetes-int-or-string': true,
};

function resources(description: string, defaults: { requests: Record<string, string>; limits: Record<string, string> }): Schema {
  return {
    type: 'object',
    description: `${description} (core/v1 ResourceRequirements: requests and limits of cpu and memory).`,
    properties: {
      requests: { type: 'object', description: 'Minimum resources the scheduler reserves.', additionalProperties: QUANTITY },
      limits: { type: 'object', description: 'Maximum resources the container may use.', additionalProperties: QUANTITY },
    },
    default: defaults,
  };
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const logLevel = (description: string, value?: string): Schema => str(description, { enum: LOG_LEVELS, ...(value !== undefined ? { default: value } : {}) });
const TOPIC_NAME = '^[a-zA-Z0-9._-]{1,249}$';
const DNS_SUBDOMAIN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';

function secretKey(description: string, defaultKey: string): Schema {
  return object(
    description,
    {
      name: str('Name of the Secret, in the Ledger\'s namespace.', { pattern: DNS_SUBDOMAIN, maxLength: 253 }),
      key: str('Key in the Secret.', { default: defaultKey, minLength: 1 }),
    },
    { required: ['name'] },
  );
}

function optionalInt(description: string, minimum: number, maximum: number): Schema {
  return int(description, { minimum, maximum });
}

const kafkaExternal = object(
  'An existing Kafka cluster (Strimzi, a managed Kafka, ...). Topics are created in it by the operator.',
  {
    bootstrapServers: str('Bootstrap servers, a comma-separated host:port list.', { minLength: 1, pattern: '^[^\\s,]+:[0-9]{1,5}(,[^\\s,]+:[0-9]{1,5})*$' }),
    tls: object(
      'TLS to the brokers. Absent: plaintext.',
      {
        rejectUnauthorized: bool('Verify the brokers\' certificates. Leave on outside experiments.', true),
        ca: secretKey('CA certificate that signed the brokers\' certificates (Strimzi: <cluster>-cluster-ca-cert). Absent: the system trust store.', 'ca.crt'),
        clientCert: object(
          'Client certificate and key for mutual TLS (Strimzi: the KafkaUser\'s Secret).',
          {
            name: str('Name of the Secret.', { pattern: DNS_SUBDOMAIN, maxLength: 253 }),
            certKey: str('Key of the certificate.', { default: 'tls.crt' }),
            keyKey: str('Key of the private key.', { default: 'tls.key' }),
          },
          { required: ['name'] },
        ),
      },
    ),
    sasl: object(
      'SASL authentication. Absent: none.',
      {
        mechanism: str('SASL mechanism.', { enum: ['plain', 'scram-sha-256', 'scram-sha-512'], default: 'scram-sha-512' }),
        username: str('User name (Strimzi: the KafkaUser\'s name), unless usernameSecret is set.'),
        usernameSecret: secretKey('Secret key holding the user name, instead of username.', 'username'),
        passwordSecret: secretKey('Secret key holding the password.', 'password'),
      },
      {
        required: ['passwordSecret'],
        'x-kubernetes-validations': [{ rule: 'has(self.username) != has(self.usernameSecret)', message: 'sasl: set exactly one of username or usernameSecret' }],
      },
    ),
  },
  { required: ['bootstrapServers'] },
);

const kafkaBundled = object(
  'A Kafka (KRaft, combined broker and controller) the operator runs for this Ledger. For trying Chainlog out and small installations.',
  {
    replicas: int('Brokers. 1 gives replication factor 1 (a lost volume loses the ledger); 3 tolerates one broker down.', { default: 1, minimum: 1, maximum: 5 }),
    image: str('Broker image (an apache/kafka-compatible image).', { default: 'apache/kafka:4.4.0', minLength: 1 }),
    heapOpts: str('JVM heap options (KAFKA_HEAP_OPTS).', { default: '-Xms512m -Xmx512m' }),
    storage: object('Where each broker keeps its log.', {
      ephemeral: bool('true: an emptyDir (data lost with the pod). false: a PersistentVolumeClaim per broker.', false),
      size: withDefault({ ...QUANTITY, description: 'Size of each PersistentVolumeClaim.' }, '8Gi'),
      storageClassName: str('StorageClass of the claims. Absent: the cluster default.'),
    }, { default: {} }),
    resources: resources('Resources of each broker', { requests: { cpu: '250m', memory: '1Gi' }, limits: { memory: '1536Mi' } }),
    sasl: object(
      'SASL/SCRAM-SHA-512 with ACLs (KRaft StandardAuthorizer): one principal per service, each allowed only what it needs (only miners write the blockchain, only ingest the transactions, only the auditor the audit topic); the operator administers the Kafka as chainlog-admin. The chart sets it by default. Absent: a plaintext Kafka without ACLs that anything reaching it may write. Set it when the Ledger is created: the users are made when the brokers format their storage.',
      {
        credentialsSecret: str('Secret holding the passwords (16-256 of A-Z a-z 0-9 . _ ~ -), one key each: broker (the brokers\' own, on their controller and inter-broker listeners), chainlog-admin, chainlog-ingest, chainlog-miner, chainlog-auditor. Each service gets only its own key; the chart\'s kafka-credentials Job generates it.', { pattern: DNS_SUBDOMAIN, maxLength: 253 }),
      },
      {
        required: ['credentialsSecret'],
        'x-kubernetes-validations': [{ rule: 'self == oldSelf', message: 'bundled.sasl cannot change: the brokers formatted their storage with these users' }],
      },
    ),
  },
  {
    'x-kubernetes-validations': [
      { rule: 'self.replicas != 2', message: 'bundled.replicas: 2 brokers cannot keep a KRaft quorum with one down; use 1 or 3' },
      { rule: 'has(self.sasl) == has(oldSelf.sasl)', message: 'bundled.sasl can only be set when the Ledger is created: the brokers formatted their storage without these users' },
    ],
  },
);

const kafka = object(
  'The Kafka the ledger lives in: exactly one of external or bundled.',
  {
    external: kafkaExternal,
    bundled: kafkaBundled,
    clientIdPrefix: str('Kafka client id prefix: clients identify as <prefix>-<service>. Absent: chainlog-<service>.', { pattern: '^[a-zA-Z0-9._-]{1,100}$' }),
    connectionTimeoutMs: optionalInt('Upper bound for connecting to a broker (KAFKA_CONNECTION_TIMEOUT_MS). Absent: 3000.', 100, 300_000),
    requestTimeoutMs: optionalInt('Upper bound for each Kafka request (KAFKA_REQUEST_TIMEOUT_MS). Absent: 10000.', 100, 300_000),
  },
  {
    'x-kubernetes-validations': [
      { rule: 'has(self.external) != has(self.bundled)', message: 'kafka: set exactly one of external or bundled' },
      { rule: 'has(self.bundled) == has(oldSelf.bundled)', message: 'kafka: switching between external and bundled Kafka would leave the ledger behind; create a new Ledger instead' },
    ],
  },
);

const immutableName = (description: string, value: string): Schema => ({
  ...str(description, { default: value, pattern: TOPIC_NAME }),
  'x-kubernetes-validations': [{ rule: 'self == oldSelf', message: 'topic names cannot change: the ledger is in these topics' }],
});

const topics = object(
  'The ledger\'s Kafka topics. Two Ledgers on one Kafka must use different names.',
  {
    transactions: immutableName('Transactions topic (spec.partitions partitions).', 'transactions'),
    blockchain: immutableName('Blockchain topic, the ledger itself (one partition).', 'blockchain'),
    audit: immutableName('Audit topic (one partition).', 'audit'),
    deadLetter: immutableName('Dead-letter topic for poison transactions (one partition).', 'transactions-dlq'),
    checkpoints: immutableName('Checkpoint topic (one partition, compacted): each miner\'s latest chain checkpoint (docs/protocol.md §5.1). Created with the others.', 'checkpoints'),
    replicationFactor: int('Replication factor of the topics the operator creates; -1: the broker\'s default.replication.factor.', { default: -1, minimum: -1, maximum: 7 }),
    deletionPolicy: str('What deleting the Ledger does to its topics. Retain (default): kept, the ledger is data. Delete: deleted with the Ledger.', { enum: ['Retain', 'Delete'], default: 'Retain' }),
  },
  { default: {} },
);

const HEX_KEY = '^[0-9a-f]{64}$';
const ACCOUNT = '^[A-Za-z0-9._:@-]{1,64}$';
/** An account -> value map: keys as the services accept account names (docs/protocol.md §4.4). */
function accountMap(description: string, values: Schema): Schema {
  return {
    type: 'object',
    description,
    additionalProperties: values,
    maxProperties: 10_000,
    'x-kubernetes-validations': [{ rule: `self.all(account, account.matches('${ACCOUNT}') && account != '0')`, message: 'account names are 1-64 of A-Z a-z 0-9 . _ : @ - (and not "0")' }],
  };
}
const consensus = object(
  'Consensus rules, identical on every miner and the auditor.',
  {
    difficulty: int('Minimum proof-of-work difficulty in leading zero bits (DIFFICULTY).', { default: 16, minimum: 0, maximum: 64 }),
    blockReward: int('Coinbase reward of each block (BLOCK_REWARD).', { default: 50, minimum: 0, maximum: 1_000_000_000_000, format: 'int64' }),
    requireTransactionSignatures: bool('Reject transactions without a valid Ed25519 signature (REQUIRE_TRANSACTION_SIGNATURES).', false),
    maxBlockTransactions: optionalInt('Largest block, coinbase included (CONSENSUS_MAX_BLOCK_TRANSACTIONS). Absent: no consensus limit.', 2, 1_000_000),
    replayWindowMs: int('Replay window W in ms (REPLAY_WINDOW_MS, also on ingest): client-chosen ids need timestamps within W of their block\'s and are deduplicated within W, so readers keep a bounded id set and start from checkpoints (docs/protocol.md §2.5). Absent: ids unique for ever. Fixed with the chain.', { minimum: 1000, maximum: 2_592_000_000, format: 'int64' }),
    enforceBalances: bool('The permissioned ledger rules (ENFORCE_BALANCES, needs permissioned): a transaction must be signed by a key bound to its sender and stay within its balance; balances are consensus (docs/protocol.md §4.4). Fixed with the chain.', false),
    accountKeys: accountMap('With enforceBalances: named accounts\' raw Ed25519 public keys (ACCOUNT_KEYS). Accounts named by a 64-hex key are bound to it without an entry.', { type: 'array', items: { type: 'string', pattern: HEX_KEY }, minItems: 1, maxItems: 64 }),
    genesisAllocations: accountMap('With enforceBalances: initial balances (GENESIS_ALLOCATIONS).', { type: 'integer', format: 'int64', minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
    permissioned: object(
      'Permissioned mode: only blocks signed by one of the allowed miner keys are valid. Absent: open mode (the article\'s; anyone with write access mines).',
      {
        allowedMinerKeys: { type: 'array', description: 'Raw Ed25519 public keys (64 lowercase hex digits) allowed to sign blocks (ALLOWED_MINER_KEYS). Exactly one of allowedMinerKeys and allowedMinerKeysFrom.', items: { type: 'string', pattern: HEX_KEY }, minItems: 1, maxItems: 1024 },
        allowedMinerKeysFrom: object(
          'A ConfigMap holding the allowed public keys, comma-separated (the chart\'s miner-keys Job writes <release>-allowed-miner-keys from the miners\' Secret). Read by miners and auditor at start.',
          {
            name: str('Name of the ConfigMap.', { pattern: DNS_SUBDOMAIN, maxLength: 253 }),
            key: str('Key of the allow-list in the ConfigMap.', { default: 'allowed-miner-keys' }),
          },
          { required: ['name'] },
        ),
        minerKeysSecret: object(
          'Existing Secret with the miners\' Ed25519 private keys (32-byte seeds as 64 hex digits), mounted as files.',
          {
            name: str('Name of the Secret.', { pattern: DNS_SUBDOMAIN, maxLength: 253 }),
            perMiner: bool('true: miner <i> reads key miner-<i>.key (add keys before scaling up). false: every miner reads `key`.', true),
            key: str('Key every miner reads when perMiner is false.', { default: 'miner.key' }),
          },
          { required: ['name'] },
        ),
      },
      {
        required: ['minerKeysSecret'],
        'x-kubernetes-validations': [
          { rule: 'has(self.allowedMinerKeys) != has(self.allowedMinerKeysFrom)', message: 'permissioned: set exactly one of allowedMinerKeys and allowedMinerKeysFrom' },
        ],
      },
    ),
  },
  {
    default: {},
    'x-kubernetes-validations': [
      { rule: '!has(self.enforceBalances) || !self.enforceBalances || has(self.permissioned)', message: 'consensus.enforceBalances needs permissioned: the ledger rules bind accounts to keys on a permissioned chain' },
      { rule: '(has(self.enforceBalances) && self.enforceBalances) || (!has(self.accountKeys) && !has(self.genesisAllocations))', message: 'consensus.accountKeys and genesisAllocations need enforceBalances: true' },
    ],
  },
);

const checkpoints = object(
  'How the chain readers (miners, auditor) use checkpoints (docs/protocol.md §5.1); only with consensus.replayWindowMs. Absent fields keep the services\' defaults.',
  {
    restore: bool('Continue from the newest checkpoint that verifies at start-up (CHECKPOINT_RESTORE, true).'),
    everyTransactions: optionalInt('Write a checkpoint every this many committed transactions (CHECKPOINT_EVERY_TRANSACTIONS, 100000; 0: no such bound).', 0, 1_000_000_000),
    everyBlocks: optionalInt('…or every this many blocks (CHECKPOINT_EVERY_BLOCKS, 1000; 0: no such bound).', 0, 1_000_000_000),
    verify: bool('After a restore, replay from genesis in the background and compare (CHECKPOINT_VERIFY, true).'),
    verifyWorker: bool('Read the transactions topic of that replay on a worker thread where two cores are usable: faster, ~20-35 MiB more memory at its peak (CHECKPOINT_VERIFY_WORKER, false).'),
  },
  { default: {} },
);

const serviceSpec = (port: number): Schema =>
  object(
    'The Service in front of the pods.',
    {
      type: str('Service type.', { enum: ['ClusterIP', 'NodePort', 'LoadBalancer'], default: 'ClusterIP' }),
      port: int('Service port.', { default: port, minimum: 1, maximum: 65535 }),
      nodePort: optionalInt('Node port for NodePort and LoadBalancer. Absent: allocated.', 30000, 32767),
      annotations: stringMap('Annotations of the Service.'),
    },
    { default: {} },
  );

const scheduling = {
  nodeSelector: stringMap('Node selector of the pods.'),
  tolerations: freeList('Tolerations of the pods (core/v1 Toleration).'),
  affinity: free('Affinity of the pods (core/v1 Affinity).'),
  priorityClassName: str('PriorityClass of the pods.'),
};

const auth = (what: string): Schema =>
  object(
    `Bearer-token authentication of ${what} (AUTH_TOKENS_FILE, mounted from the Secret). Absent: open. /healthz, /readyz and /metrics stay open.`,
    {
      secretName: str('Secret with the accepted tokens (at least 16 printable characters each, comma- or newline-separated).', { pattern: DNS_SUBDOMAIN, maxLength: 253 }),
      key: str('Key of the tokens in the Secret.', { default: 'tokens' }),
    },
    { required: ['secretName'] },
  );

const ingest = object(
  'ingest, the HTTP API (port 8080).',
  {
    replicas: int('Replicas of the ingest Deployment.', { default: 2, minimum: 0, maximum: 1000 }),
    logLevel: logLevel('Log level. Absent: spec.logLevel.'),
    resources: resources('Resources of the ingest container', { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '1', memory: '512Mi' } }),
    service: serviceSpec(8080),
    config: object('ingest tunables; absent ones keep the service default (services/ingest/README.md).', {
      maxBatchSize: optionalInt('MAX_BATCH_SIZE (1000).', 1, 100_000),
      maxBodyBytes: optionalInt('MAX_BODY_BYTES (1048576).', 1024, 104_857_600),
      produceTimeoutMs: optionalInt('PRODUCE_TIMEOUT_MS (5000).', 100, 600_000),
      maxInflightRequests: optionalInt('MAX_INFLIGHT_REQUESTS (256).', 1, 100_000),
      auditorPublicUrl: str('AUDITOR_PUBLIC_URL: public base URL of the auditor API for statusUrl links.'),
      rateLimitPerSecond: optionalInt('RATE_LIMIT_PER_SECOND: sustained requests per second of one client, 429 above (200; 0: no limit).', 0, 1_000_000),
      rateLimitBurst: optionalInt('RATE_LIMIT_BURST: requests one client may send at once above its rate (twice the rate).', 1, 10_000_000),
      maxInflightPerClient: optionalInt('MAX_INFLIGHT_PER_CLIENT: in-flight requests of one client, 429 above (a quarter of maxInflightRequests).', 1, 100_000),
      clientIpHeader: str('CLIENT_IP_HEADER: the header a trusted proxy sets with the client address (its last entry counts). Absent: the peer address.', { pattern: '^[A-Za-z0-9-]{1,64}$' }),
      headersTimeoutMs: optionalInt('HEADERS_TIMEOUT_MS: time to send the request headers, 408 after (10000).', 100, 300_000),
      requestTimeoutMs: optionalInt('REQUEST_TIMEOUT_MS: time to send the whole request, 408 after (15000).', 100, 600_000),
      idempotencyTtlSeconds: optionalInt('IDEMPOTENCY_TTL_SECONDS: how long an Idempotency-Key is remembered (86400).', 1, 2_592_000),
      idempotencyMaxEntries: optionalInt('IDEMPOTENCY_MAX_ENTRIES: most keys remembered per pod (100000).', 0, 10_000_000),
      timestampToleranceMs: optionalInt('TIMESTAMP_TOLERANCE_MS: with a replay window, a client timestamp further than this from the clock gets 400 (a quarter of the window).', 0, 2_592_000_000),
      miningBacklogLimitMs: optionalInt('MINING_BACKLOG_LIMIT_MS: with a replay window, 503 mining-backlog for a partition whose oldest unmined transaction is older (half the window; 0: off).', 0, 2_592_000_000),
    }, { default: {} }),
    auth: auth('POST /v1/transactions'),
    ...scheduling,
  },
  { default: {} },
);

const miners = object(
  'The miners: a StatefulSet with one miner per transactions partition (spec.partitions).',
  {
    logLevel: logLevel('Log level. Absent: spec.logLevel.'),
    powWorkers: int('Worker threads searching nonces per miner (POW_WORKERS); raise cpu with it.', { default: 1, minimum: 1, maximum: 64 }),
    resources: resources('Resources of each miner container (proof of work is CPU-bound)', { requests: { cpu: '250m', memory: '320Mi' }, limits: { cpu: '1', memory: '768Mi' } }),
    config: object('Miner tunables; absent ones keep the service default (services/miner/README.md).', {
      sessionTimeoutMs: optionalInt('MINER_SESSION_TIMEOUT_MS (30000).', 6000, 300_000),
      cutAtPendingTransactions: optionalInt('CUT_AT_PENDING_TRANSACTIONS: cut a block at this many pending transactions (3).', 1, 100_000),
      takeUpToTransactions: optionalInt('TAKE_UP_TO_TRANSACTIONS: the most transactions a cut block takes when more are pending, oldest first (consensus.maxBlockTransactions - 1, else 1000).', 1, 1_000_000),
      takeUpToBytes: optionalInt("TAKE_UP_TO_BYTES: the most bytes (estimated) a block's transactions take; under the blockchain topic's max.message.bytes (900000).", 4096, 67_108_864),
      maxBlockWaitMs: optionalInt('MAX_BLOCK_WAIT_MS: or once the oldest waited this long (1000).', 0, 3_600_000),
      maxPendingPerPartition: optionalInt('MAX_PENDING_PER_PARTITION (10000).', 1, 10_000_000),
    }, { default: {} }),
    ...scheduling,
  },
  { default: {} },
);

const auditor = object(
  'The auditor: chain validation and the query API (port 8082).',
  {
    replicas: int('Replicas of the auditor StatefulSet (each validates the whole chain and keeps its own index).', { default: 2, minimum: 0, maximum: 100 }),
    logLevel: logLevel('Log level. Absent: spec.logLevel.'),
    resources: resources('Resources of the auditor container', { requests: { cpu: '100m', memory: '320Mi' }, limits: { cpu: '1', memory: '1Gi' } }),
    storage: object('What the auditor keeps: its transaction index in DATA_DIR, on a PersistentVolumeClaim per auditor (volumeClaimTemplates) unless ephemeral, and caches in memory.', {
      ephemeral: bool('true: DATA_DIR on an emptyDir (the index is rebuilt from the chain on every start). false: a PersistentVolumeClaim per auditor, kept when the Ledger or the auditor goes (delete it to free the space).', false),
      size: withDefault({ ...QUANTITY, description: 'Size of each claim: the index takes ~94 MiB per million committed transactions (docs/benchmarks.md). Fixed once the StatefulSet exists.' }, '10Gi'),
      storageClassName: str('StorageClass of the claims. Absent: the cluster default.'),
      blockCacheBytes: optionalInt('Wire bytes of decoded blocks cached for queries (BLOCK_CACHE_BYTES, 16777216); about 1.6x that on the heap.', 0, 2_000_000_000),
      pendingTrackLimit: optionalInt('Pending transactions indexed for status queries (PENDING_TRACK_LIMIT, 1000000).', 0, 100_000_000),
      recentLimit: optionalInt('Rejected blocks, forks and overdrafts kept for /v1/audit (AUDIT_RECENT_LIMIT, 1000).', 0, 1_000_000),
      tmpSizeLimit: withDefault({ ...QUANTITY, description: 'Size limit of the /tmp emptyDir.' }, '64Mi'),
    }, { default: {} }),
    service: serviceSpec(8082),
    auth: auth('the query API and the explorer'),
    ...scheduling,
  },
  { default: {} },
);

const monitoring = object(
  'prometheus-operator and Grafana objects. Each needs its CRDs / sidecar in the cluster.',
  {
    serviceMonitor: object('A ServiceMonitor for every component.', {
      enabled: bool('Create it.', false),
      labels: stringMap('Labels the Prometheus selects ServiceMonitors by (kube-prometheus-stack: release: <its release>).'),
      interval: str('Scrape interval.', { default: '30s', pattern: '^[0-9]+(ms|s|m|h)$' }),
    }, { default: {} }),
    prometheusRule: object('A PrometheusRule with Chainlog\'s alerts.', {
      enabled: bool('Create it.', false),
      labels: stringMap('Labels the Prometheus selects rules by.'),
    }, { default: {} }),
    dashboards: object('One ConfigMap per Grafana dashboard, picked up by the Grafana sidecar.', {
      enabled: bool('Create them.', false),
      labels: { ...stringMap('Labels the sidecar looks for.'), default: { grafana_dashboard: '1' } },
    }, { default: {} }),
  },
  { default: {} },
);

const networkPolicy = object(
  'NetworkPolicies that allow each component only the traffic it needs (on by default: permissioned and locked down). Ingest and the auditor serve their HTTP port to apiFrom; miners take no ingress but metrics; the bundled Kafka takes this Ledger\'s pods and the operator only. A cluster without a NetworkPolicy-enforcing CNI ignores them.',
  {
    enabled: bool('Create them.', true),
    apiFrom: freeList('Who may reach the ingest and auditor HTTP ports (NetworkPolicyPeer list). Empty: anyone. When set, the operator and the metrics namespace are let in too.'),
    metricsNamespace: str('Namespace of the metrics scraper (matched by kubernetes.io/metadata.name), let in on every component\'s HTTP port. Empty: no metrics ingress.', { default: 'monitoring', pattern: '^$|^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', maxLength: 63 }),
    metricsPodSelector: free('Pod selector (LabelSelector) of the scraper within that namespace. Empty: any pod there.'),
    dns: object('DNS egress.', {
      to: { ...freeList('Egress peers for DNS (NetworkPolicyPeer list). Empty: any destination on port 53.'), default: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }] },
    }, { default: {} }),
    kafka: object('Egress to an external Kafka (the bundled Kafka\'s pods are selected by themselves).', {
      to: freeList('Egress peers of the brokers (NetworkPolicyPeer list, e.g. [{ipBlock: {cidr: 10.0.0.0/8}}]). Empty: any destination on the ports.'),
      ports: { type: 'array', description: 'Broker ports. Empty: the ports of kafka.external.bootstrapServers.', items: { type: 'integer', minimum: 1, maximum: 65535 } },
    }, { default: {} }),
  },
  { default: {} },
);

const spec = object(
  'The desired ledger.',
  {
    image: object(
      'The Chainlog image (every service runs from it).',
      {
        repository: str('Image repository, registry included.', { default: 'chainlog', minLength: 1 }),
        tag: str('Image tag. Absent: the operator\'s own version.'),
        digest: str('Image digest (sha256:...), used instead of the tag.', { pattern: '^sha256:[0-9a-f]{64}$' }),
        pullPolicy: str('Image pull policy.', { enum: ['Always', 'IfNotPresent', 'Never'], default: 'IfNotPresent' }),
        pullSecrets: { type: 'array', description: 'Names of Secrets for pulling the image.', items: { type: 'string' } },
      },
      { default: {} },
    ),
    logLevel: logLevel('Log level of every service.', 'info'),
    partitions: {
      ...int('Partitions of the transactions topic, and miners: one per partition. The scale subresource (`kubectl scale ledger/<name> --replicas=N`) sets it. It can never decrease: Kafka cannot remove partitions and blocks refer to them.', {
        default: 2,
        minimum: 1,
        maximum: MAX_PARTITIONS_CEILING,
      }),
      'x-kubernetes-validations': [{ rule: 'self >= oldSelf', message: 'partitions can never decrease (Kafka cannot remove partitions, and blocks refer to them)' }],
    },
    maxPartitions: int('Ceiling of spec.partitions (growth is permanent: this protects against a typo or a runaway autoscaler).', {
      default: DEFAULT_MAX_PARTITIONS,
      minimum: 1,
      maximum: MAX_PARTITIONS_CEILING,
    }),
    kafka,
    topics,
    consensus,
    checkpoints,
    ingest,
    miners,
    auditor,
    monitoring,
    networkPolicy,
  },
  {
    required: ['kafka'],
    'x-kubernetes-validations': [
      { rule: 'self.partitions <= self.maxPartitions', message: 'partitions must not exceed maxPartitions', fieldPath: '.partitions' },
      {
        rule: '!has(self.consensus.maxBlockTransactions) || !has(self.miners.config.cutAtPendingTransactions) || self.miners.config.cutAtPendingTransactions + 1 <= self.consensus.maxBlockTransactions',
        message: 'miners.config.cutAtPendingTransactions plus the coinbase must fit consensus.maxBlockTransactions',
      },
      {
        rule: '!has(self.consensus.maxBlockTransactions) || !has(self.miners.config.takeUpToTransactions) || self.miners.config.takeUpToTransactions + 1 <= self.consensus.maxBlockTransactions',
        message: 'miners.config.takeUpToTransactions plus the coinbase must fit consensus.maxBlockTransactions',
      },
      {
        rule: '!has(self.miners.config.takeUpToTransactions) || self.miners.config.takeUpToTransactions >= (has(self.miners.config.cutAtPendingTransactions) ? self.miners.config.cutAtPendingTransactions : 3)',
        message: 'miners.config.takeUpToTransactions must be at least miners.config.cutAtPendingTransactions',
      },
    ],
  },
);

const condition: Schema = object(
  'One aspect of the Ledger\'s state (metav1.Condition).',
  {
    type: str('Ready, Progressing, Degraded, KafkaReachable or TopicsReady.'),
    status: str('True, False or Unknown.', { enum: ['True', 'False', 'Unknown'] }),
    reason: str('CamelCase reason.'),
    message: str('Human-readable detail.'),
    lastTransitionTime: { type: 'string', format: 'date-time', description: 'When status last changed.' },
    observedGeneration: int('The generation the condition was set for.', { format: 'int64' }),
  },
  { required: ['type', 'status'] },
);

const status = object('What the operator observed.', {
  observedGeneration: int('The spec generation the status describes.', { format: 'int64' }),
  conditions: { type: 'array', description: 'Ready, Progressing, Degraded, KafkaReachable, TopicsReady.', items: condition, 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] },
  partitions: int('Partitions of the transactions topic as read from Kafka.'),
  miners: int('Miner replicas (the StatefulSet\'s spec.replicas); the scale subresource\'s status replicas.'),
  readyMiners: int('Miners ready.'),
  auditors: int('Auditor replicas (the auditor StatefulSet\'s spec.replicas, each with its own volume).'),
  readyAuditors: int('Auditors ready (caught up with the chain).'),
  selector: str('Label selector of the miner pods (for autoscalers).'),
  bootstrapServers: str('The Kafka bootstrap servers the ledger uses.'),
  chain: object('The chain as the auditor sees it.', {
    height: int('Blocks in the canonical chain.', { format: 'int64' }),
    tip: str('Hash of the canonical tip.'),
    oldestPendingSeconds: { type: 'number', description: 'Age of the oldest transaction acknowledged but not yet in a block.' },
    observedAt: { type: 'string', format: 'date-time', description: 'When the auditor was asked.' },
  }),
});

export const LEDGER_CRD = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: `${PLURAL}.${GROUP}` },
  spec: {
    group: GROUP,
    names: { kind: KIND, listKind: `${KIND}List`, plural: PLURAL, singular: 'ledger', shortNames: ['ldg'], categories: ['chainlog'] },
    scope: 'Namespaced',
    versions: [
      {
        name: VERSION,
        served: true,
        storage: true,
        subresources: {
          status: {},
          scale: { specReplicasPath: '.spec.partitions', statusReplicasPath: '.status.miners', labelSelectorPath: '.status.selector' },
        },
        additionalPrinterColumns: [
          { name: 'Partitions', type: 'integer', jsonPath: '.status.partitions', description: 'Partitions of the transactions topic' },
          { name: 'Miners', type: 'integer', jsonPath: '.status.miners', description: 'Miner replicas' },
          { name: 'Ready', type: 'integer', jsonPath: '.status.readyMiners', description: 'Miners ready' },
          { name: 'Height', type: 'integer', jsonPath: '.status.chain.height', description: 'Blocks in the canonical chain' },
          { name: 'Status', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].reason', description: 'Reason of the Ready condition' },
          { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
        ],
        schema: {
          openAPIV3Schema: object('A Chainlog ledger: its Kafka topics and every workload that serves it, kept by the chainlog operator.', {
            apiVersion: { type: 'string' },
            kind: { type: 'string' },
            metadata: { type: 'object' },
            spec,
            status,
          }, { required: ['spec'] }),
        },
      },
    ],
  },
} as const;
