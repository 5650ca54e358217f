// The Ledger resource as the operator reads it. The API server applies the CRD's defaults (ledger/crd.ts)
// before the operator sees an object, so every defaulted field is present; the rest is optional.

export interface SecretKeyRef {
  name: string;
  key: string;
}

export interface Resources {
  requests?: Record<string, string | number>;
  limits?: Record<string, string | number>;
}

export interface Scheduling {
  nodeSelector?: Record<string, string>;
  tolerations?: Record<string, unknown>[];
  affinity?: Record<string, unknown>;
  priorityClassName?: string;
}

export interface ServiceSpec {
  type: 'ClusterIP' | 'NodePort' | 'LoadBalancer';
  port: number;
  nodePort?: number;
  annotations?: Record<string, string>;
}

export interface ExternalKafka {
  bootstrapServers: string;
  tls?: {
    rejectUnauthorized: boolean;
    ca?: SecretKeyRef;
    clientCert?: { name: string; certKey: string; keyKey: string };
  };
  sasl?: {
    mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512';
    username?: string;
    usernameSecret?: SecretKeyRef;
    passwordSecret: SecretKeyRef;
  };
}

export interface BundledKafka {
  replicas: number;
  image: string;
  heapOpts: string;
  storage: { ephemeral: boolean; size: string | number; storageClassName?: string };
  resources: Resources;
  /** SASL/SCRAM + ACLs; absent: plaintext, no ACLs. */
  sasl?: { credentialsSecret: string };
}

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface LedgerSpec {
  image: { repository: string; tag?: string; digest?: string; pullPolicy: string; pullSecrets?: string[] };
  logLevel: LogLevel;
  partitions: number;
  maxPartitions: number;
  kafka: {
    external?: ExternalKafka;
    bundled?: BundledKafka;
    clientIdPrefix?: string;
    connectionTimeoutMs?: number;
    requestTimeoutMs?: number;
  };
  topics: {
    transactions: string;
    blockchain: string;
    audit: string;
    deadLetter: string;
    /** The compacted checkpoint topic (docs/protocol.md §5.1). */
    checkpoints: string;
    replicationFactor: number;
    deletionPolicy: 'Retain' | 'Delete';
  };
  consensus: {
    difficulty: number;
    blockReward: number;
    requireTransactionSignatures: boolean;
    maxBlockTransactions?: number;
    /** REPLAY_WINDOW_MS: absent, ids are unique for ever. */
    replayWindowMs?: number;
    /** The permissioned ledger rules (ENFORCE_BALANCES), with the accounts' keys and the genesis balances. */
    enforceBalances?: boolean;
    accountKeys?: Record<string, string[]>;
    genesisAllocations?: Record<string, number>;
    permissioned?: {
      /** Exactly one of allowedMinerKeys and allowedMinerKeysFrom (the CRD's CEL rule). */
      allowedMinerKeys?: string[];
      allowedMinerKeysFrom?: { name: string; key: string };
      minerKeysSecret: { name: string; perMiner: boolean; key: string };
    };
  };
  /** How chain readers (miners, auditor) use checkpoints; absent fields keep the services' defaults. */
  checkpoints: { restore?: boolean; everyTransactions?: number; everyBlocks?: number; verify?: boolean; verifyWorker?: boolean };
  ingest: Scheduling & {
    replicas: number;
    logLevel?: LogLevel;
    resources: Resources;
    service: ServiceSpec;
    config: {
      maxBatchSize?: number;
      maxBodyBytes?: number;
      produceTimeoutMs?: number;
      maxInflightRequests?: number;
      auditorPublicUrl?: string;
      rateLimitPerSecond?: number;
      rateLimitBurst?: number;
      maxInflightPerClient?: number;
      clientIpHeader?: string;
      headersTimeoutMs?: number;
      requestTimeoutMs?: number;
      idempotencyTtlSeconds?: number;
      idempotencyMaxEntries?: number;
      timestampToleranceMs?: number;
      miningBacklogLimitMs?: number;
    };
    auth?: ApiAuth;
  };
  miners: Scheduling & {
    logLevel?: LogLevel;
    powWorkers: number;
    resources: Resources;
    config: {
      sessionTimeoutMs?: number;
      cutAtPendingTransactions?: number;
      takeUpToTransactions?: number;
      takeUpToBytes?: number;
      maxBlockWaitMs?: number;
      maxPendingPerPartition?: number;
    };
  };
  auditor: Scheduling & {
    replicas: number;
    logLevel?: LogLevel;
    resources: Resources;
    storage: {
      blockCacheBytes?: number;
      pendingTrackLimit?: number;
      recentLimit?: number;
      tmpSizeLimit: string | number;
      /** true: the transaction index (DATA_DIR) on an emptyDir; false: a PersistentVolumeClaim per auditor. */
      ephemeral: boolean;
      size: string | number;
      storageClassName?: string;
    };
    service: ServiceSpec;
    auth?: ApiAuth;
  };
  monitoring: {
    serviceMonitor: { enabled: boolean; labels?: Record<string, string>; interval: string };
    prometheusRule: { enabled: boolean; labels?: Record<string, string> };
    dashboards: { enabled: boolean; labels?: Record<string, string> };
  };
  networkPolicy: {
    enabled: boolean;
    apiFrom?: NetworkPolicyPeer[];
    metricsNamespace?: string;
    metricsPodSelector?: Record<string, unknown>;
    dns: { to?: NetworkPolicyPeer[] };
    kafka: { to?: NetworkPolicyPeer[]; ports?: number[] };
  };
}

/** networking.k8s.io/v1 NetworkPolicyPeer (podSelector, namespaceSelector, ipBlock), passed through as given. */
export type NetworkPolicyPeer = Record<string, unknown>;

export interface Condition {
  type: ConditionType;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime?: string;
  observedGeneration?: number;
}

export type ConditionType = 'Ready' | 'Progressing' | 'Degraded' | 'KafkaReachable' | 'TopicsReady';

export interface LedgerStatus {
  observedGeneration?: number;
  conditions?: Condition[];
  partitions?: number;
  miners?: number;
  readyMiners?: number;
  /** Auditor replicas (the StatefulSet's spec.replicas) and how many are ready. */
  auditors?: number;
  readyAuditors?: number;
  selector?: string;
  bootstrapServers?: string;
  chain?: { height?: number; tip?: string; oldestPendingSeconds?: number; observedAt?: string };
}

export interface Ledger {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace: string;
    uid: string;
    generation: number;
    resourceVersion: string;
    deletionTimestamp?: string;
    finalizers?: string[];
    labels?: Record<string, string>;
  };
  spec: LedgerSpec;
  status?: LedgerStatus;
}

/** Bearer tokens an API requires (AUTH_TOKENS_FILE from a Secret). */
export interface ApiAuth {
  secretName: string;
  key: string;
}
