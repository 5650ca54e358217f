// The objects a Ledger implies (pure): ownership, labels, the Kafka wiring, and the property that a scale
// changes nothing but the miners' replica count.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { clusterId, OWNED_KINDS, renderLedger, type KubeObject } from '../../src/ledger/render.js';
import type { Ledger, LedgerSpec } from '../../src/ledger/types.js';

const OPTIONS = { defaultImageTag: '9.9.9' };

/** A Ledger as the API server returns it: every CRD default filled in. */
function ledger(overrides: Partial<LedgerSpec> = {}, name = 'main'): Ledger {
  const resources = { requests: { cpu: '100m' }, limits: { memory: '256Mi' } };
  const spec: LedgerSpec = {
    image: { repository: 'registry.example.com/chainlog', pullPolicy: 'IfNotPresent' },
    logLevel: 'info',
    partitions: 2,
    maxPartitions: 64,
    kafka: { external: { bootstrapServers: 'kafka:9092' } },
    topics: { transactions: 'tx', blockchain: 'chain', audit: 'audit', deadLetter: 'dlq', checkpoints: 'cp', replicationFactor: -1, deletionPolicy: 'Retain' },
    consensus: { difficulty: 16, blockReward: 50, requireTransactionSignatures: false, enforceBalances: false },
    checkpoints: {},
    ingest: { replicas: 2, resources, service: { type: 'ClusterIP', port: 8080 }, config: {} },
    miners: { powWorkers: 1, resources, config: {} },
    auditor: { replicas: 2, resources, storage: { tmpSizeLimit: '64Mi', ephemeral: false, size: '10Gi' }, service: { type: 'ClusterIP', port: 8082 } },
    monitoring: { serviceMonitor: { enabled: false, interval: '30s' }, prometheusRule: { enabled: false }, dashboards: { enabled: false } },
    networkPolicy: { enabled: true, apiFrom: [], metricsNamespace: 'monitoring', dns: { to: [] }, kafka: {} },
    ...overrides,
  };
  return {
    apiVersion: 'chainlog.dev/v1alpha1',
    kind: 'Ledger',
    metadata: { name, namespace: 'ns', uid: '6f1c2d3e-4b5a-4c6d-8e7f-0123456789ab', generation: 1, resourceVersion: '1' },
    spec,
  };
}

const find = (objects: KubeObject[], kind: string, name: string): KubeObject => {
  const found = objects.find((object) => object.kind === kind && object.metadata.name === name);
  if (found === undefined) throw new Error(`no ${kind}/${name} in ${objects.map((object) => `${object.kind}/${object.metadata.name}`).join(', ')}`);
  return found;
};
type Container = { env: { name: string; value?: string; valueFrom?: unknown }[]; image: string; volumeMounts: { name: string }[] };
const container = (object: KubeObject): Container => (object.spec as { template: { spec: { containers: Container[] } } }).template.spec.containers[0] as Container;
const env = (object: KubeObject): Record<string, string | undefined> => Object.fromEntries(container(object).env.map((entry) => [entry.name, entry.value]));

describe('renderLedger', () => {
  it('every object is owned by the Ledger (controller) and labelled with it', () => {
    const objects = renderLedger(ledger(), OPTIONS);
    expect(objects.map((object) => `${object.kind}/${object.metadata.name}`).sort()).toEqual(
      [
        'ServiceAccount/main',
        'StatefulSet/main-miner',
        'Service/main-miner-headless',
        'PodDisruptionBudget/main-miner',
        'Deployment/main-ingest',
        'Service/main-ingest',
        'PodDisruptionBudget/main-ingest',
        'StatefulSet/main-auditor',
        'Service/main-auditor',
        'PodDisruptionBudget/main-auditor',
        'NetworkPolicy/main-ingest',
        'NetworkPolicy/main-miner',
        'NetworkPolicy/main-auditor',
      ].sort(),
    );
    for (const object of objects) {
      expect(object.metadata.namespace).toBe('ns');
      expect(object.metadata.ownerReferences).toEqual([
        { apiVersion: 'chainlog.dev/v1alpha1', kind: 'Ledger', name: 'main', uid: '6f1c2d3e-4b5a-4c6d-8e7f-0123456789ab', controller: true, blockOwnerDeletion: true },
      ]);
      expect(object.metadata.labels?.['chainlog.dev/ledger']).toBe('main');
    }
  });

  it('a scale changes nothing but the miner StatefulSet\'s replicas (no miner is rolled)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1024 }), fc.integer({ min: 1, max: 1024 }), (a, b) => {
        const before = renderLedger(ledger({ partitions: a }), OPTIONS);
        const after = renderLedger(ledger({ partitions: b }), OPTIONS);
        const strip = (objects: KubeObject[]) =>
          objects.map((object) => (object.kind === 'StatefulSet' ? { ...object, spec: { ...(object.spec as object), replicas: 0 } } : object));
        expect(strip(after)).toEqual(strip(before));
        expect((find(after, 'StatefulSet', 'main-miner').spec as { replicas: number }).replicas).toBe(b);
      }),
      { numRuns: 50 },
    );
  });

  it('consensus is identical on miners and auditor; the image defaults to the operator\'s tag', () => {
    const objects = renderLedger(ledger({ consensus: { difficulty: 20, blockReward: 7, requireTransactionSignatures: true, maxBlockTransactions: 100 } }), OPTIONS);
    const consensus = (object: KubeObject) => {
      const all = env(object);
      return ['DIFFICULTY', 'BLOCK_REWARD', 'REQUIRE_TRANSACTION_SIGNATURES', 'CONSENSUS_MAX_BLOCK_TRANSACTIONS', 'ALLOWED_MINER_KEYS'].map((name) => all[name]);
    };
    expect(consensus(find(objects, 'StatefulSet', 'main-miner'))).toEqual(['20', '7', 'true', '100', undefined]);
    expect(consensus(find(objects, 'StatefulSet', 'main-auditor'))).toEqual(consensus(find(objects, 'StatefulSet', 'main-miner')));
    expect(env(find(objects, 'Deployment', 'main-ingest')).REQUIRE_TRANSACTION_SIGNATURES).toBe('true');
    expect(container(find(objects, 'Deployment', 'main-ingest')).image).toBe('registry.example.com/chainlog:9.9.9');
  });

  it('gives the miners their take limits, and ingest the miners\' group and the replay-window guards (only with a window)', () => {
    const resources = { requests: { cpu: '100m' }, limits: { memory: '256Mi' } };
    const tuned = ledger({
      consensus: { difficulty: 16, blockReward: 50, requireTransactionSignatures: false, enforceBalances: false, replayWindowMs: 600_000 },
      ingest: { replicas: 2, resources, service: { type: 'ClusterIP', port: 8080 }, config: { timestampToleranceMs: 60_000, miningBacklogLimitMs: 0 } },
      miners: { powWorkers: 1, resources, config: { takeUpToTransactions: 250, takeUpToBytes: 500_000 } },
    });
    const objects = renderLedger(tuned, OPTIONS);
    const miner = env(find(objects, 'StatefulSet', 'main-miner'));
    expect([miner.TAKE_UP_TO_TRANSACTIONS, miner.TAKE_UP_TO_BYTES]).toEqual(['250', '500000']);
    const ingest = env(find(objects, 'Deployment', 'main-ingest'));
    expect([ingest.MINER_GROUP_ID, ingest.TIMESTAMP_TOLERANCE_MS, ingest.MINING_BACKLOG_LIMIT_MS]).toEqual([miner.MINER_GROUP_ID, '60000', '0']);
    // Without a window ingest would refuse the guards (exit 2): they are left out.
    const windowless = env(find(renderLedger(ledger({ ingest: tuned.spec.ingest }), OPTIONS), 'Deployment', 'main-ingest'));
    expect([windowless.TIMESTAMP_TOLERANCE_MS, windowless.MINING_BACKLOG_LIMIT_MS]).toEqual([undefined, undefined]);
  });

  it('permissioned mode mounts the miners\' keys; TLS and SASL come from the referenced Secrets', () => {
    const key = 'ab'.repeat(32);
    const objects = renderLedger(
      ledger({
        consensus: { difficulty: 16, blockReward: 50, requireTransactionSignatures: false, permissioned: { allowedMinerKeys: [key], minerKeysSecret: { name: 'keys', perMiner: true, key: 'miner.key' } } },
        kafka: {
          external: {
            bootstrapServers: 'k:9093',
            tls: { rejectUnauthorized: true, ca: { name: 'ca', key: 'ca.crt' } },
            sasl: { mechanism: 'scram-sha-512', username: 'chainlog', passwordSecret: { name: 'user', key: 'password' } },
          },
        },
      }),
      OPTIONS,
    );
    const miner = find(objects, 'StatefulSet', 'main-miner');
    expect(env(miner)).toMatchObject({ ALLOWED_MINER_KEYS: key, MINER_PRIVATE_KEY_FILE: '/etc/chainlog/miner-key/miner.key', KAFKA_SSL: 'true', KAFKA_SSL_CA_FILE: '/etc/chainlog/kafka-tls/ca/ca.crt', KAFKA_SASL_USERNAME: 'chainlog' });
    expect(container(miner).env.find((entry) => entry.name === 'KAFKA_SASL_PASSWORD')?.valueFrom).toEqual({ secretKeyRef: { name: 'user', key: 'password' } });
    // The miner container mounts only its own key (an in-memory copy), never the Secret of every miner's keys.
    expect(container(miner).volumeMounts.map((mount) => mount.name)).toEqual(['tmp', 'kafka-tls-ca', 'miner-key']);
    const pod = (miner.spec as { template: { spec: { volumes: { name: string; secret?: { secretName: string }; emptyDir?: { medium?: string } }[]; initContainers: { command: string[]; volumeMounts: { name: string; readOnly?: boolean }[] }[] } } }).template.spec;
    expect(pod.volumes.find((volume) => volume.name === 'miner-key')?.emptyDir?.medium).toBe('Memory');
    expect(pod.volumes.find((volume) => volume.name === 'miner-keys-all')?.secret?.secretName).toBe('keys');
    expect(pod.initContainers).toHaveLength(1);
    expect(pod.initContainers[0]?.volumeMounts.map((mount) => mount.name)).toEqual(['miner-keys-all', 'miner-key']);
    expect(pod.initContainers[0]?.command.join(' ')).toContain('miner-${POD_INDEX}.key');
    expect(container(find(objects, 'Deployment', 'main-ingest')).volumeMounts.map((mount) => mount.name)).toEqual(['tmp', 'kafka-tls-ca']);
  });

  it('permissioned with the allow-list from a ConfigMap (the chart\'s miner-keys Job): miners and auditor read it by reference', () => {
    const objects = renderLedger(
      ledger({
        consensus: {
          difficulty: 16,
          blockReward: 50,
          requireTransactionSignatures: true,
          permissioned: { allowedMinerKeysFrom: { name: 'r-allowed-miner-keys', key: 'allowed-miner-keys' }, minerKeysSecret: { name: 'r-miner-keys', perMiner: true, key: 'miner.key' } },
        },
      }),
      OPTIONS,
    );
    const reference = { configMapKeyRef: { name: 'r-allowed-miner-keys', key: 'allowed-miner-keys' } };
    for (const [kind, name] of [['StatefulSet', 'main-miner'], ['StatefulSet', 'main-auditor']] as const) {
      const entries = container(find(objects, kind, name)).env.filter((entry) => entry.name === 'ALLOWED_MINER_KEYS');
      expect(entries, name).toEqual([{ name: 'ALLOWED_MINER_KEYS', valueFrom: reference }]);
    }
    expect(env(find(objects, 'StatefulSet', 'main-miner')).MINER_PRIVATE_KEY_FILE).toBe('/etc/chainlog/miner-key/miner.key');
    expect(container(find(objects, 'Deployment', 'main-ingest')).env.some((entry) => entry.name === 'ALLOWED_MINER_KEYS')).toBe(false);
  });

  it('bearer tokens from Secrets as files on ingest and the auditor only, and ingest\'s fairness and idempotency settings', () => {
    const spec = ledger({});
    const objects = renderLedger(
      {
        ...spec,
        spec: {
          ...spec.spec,
          ingest: { ...spec.spec.ingest, config: { rateLimitPerSecond: 0, clientIpHeader: 'x-forwarded-for', idempotencyTtlSeconds: 60 }, auth: { secretName: 'api', key: 'writers' } },
          auditor: { ...spec.spec.auditor, auth: { secretName: 'api', key: 'readers' } },
        },
      },
      OPTIONS,
    );
    for (const [kind, name, key] of [['Deployment', 'main-ingest', 'writers'], ['StatefulSet', 'main-auditor', 'readers']] as const) {
      const deployment = find(objects, kind, name);
      expect(env(deployment).AUTH_TOKENS_FILE, name).toBe(`/etc/chainlog/auth/${key}`);
      expect(container(deployment).volumeMounts.map((mount) => mount.name), name).toContain('auth-tokens');
      const volumes = (deployment.spec as { template: { spec: { volumes: { name: string; secret?: unknown }[] } } }).template.spec.volumes;
      expect(volumes.find((volume) => volume.name === 'auth-tokens')?.secret, name).toEqual({ secretName: 'api', defaultMode: 0o440, items: [{ key, path: key }] });
    }
    expect(env(find(objects, 'StatefulSet', 'main-miner')).AUTH_TOKENS_FILE).toBeUndefined();
    expect(env(find(objects, 'Deployment', 'main-ingest'))).toMatchObject({ RATE_LIMIT_PER_SECOND: '0', CLIENT_IP_HEADER: 'x-forwarded-for', IDEMPOTENCY_TTL_SECONDS: '60' });
  });

  it('the auditor is a StatefulSet with a PersistentVolumeClaim per replica for DATA_DIR, a startup probe and the pod group on the volume', () => {
    const objects = renderLedger(ledger({}), OPTIONS);
    const auditor = find(objects, 'StatefulSet', 'main-auditor');
    const spec = auditor.spec as {
      replicas: number;
      serviceName: string;
      template: { spec: { securityContext: Record<string, unknown>; volumes: { name: string }[]; containers: { startupProbe?: Record<string, unknown>; volumeMounts: { name: string; mountPath: string }[] }[] } };
      volumeClaimTemplates?: { metadata: { name: string }; spec: { accessModes: string[]; storageClassName?: string; resources: { requests: { storage: string } } } }[];
    };
    expect(spec.replicas).toBe(2);
    expect(spec.serviceName).toBe('main-auditor');
    expect(spec.volumeClaimTemplates?.map((claim) => [claim.metadata.name, claim.spec.accessModes, claim.spec.resources.requests.storage, claim.spec.storageClassName])).toEqual([['data', ['ReadWriteOnce'], '10Gi', undefined]]);
    const pod = spec.template.spec;
    expect(pod.containers[0]?.volumeMounts).toContainEqual({ name: 'data', mountPath: '/var/lib/chainlog/auditor' });
    expect(env(auditor).DATA_DIR).toBe('/var/lib/chainlog/auditor');
    expect(env(auditor).MALLOC_ARENA_MAX).toBe('2');
    expect(env(auditor).MALLOC_MMAP_THRESHOLD_).toBe('131072');
    // The claim, not a pod volume, provides `data`.
    expect(pod.volumes.map((volume) => volume.name)).not.toContain('data');
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 10001, fsGroup: 10001, fsGroupChangePolicy: 'OnRootMismatch' });
    const startup = pod.containers[0]?.startupProbe as { httpGet: { path: string }; periodSeconds: number; failureThreshold: number };
    expect(startup.httpGet.path).toBe('/healthz');
    expect(startup.periodSeconds * startup.failureThreshold).toBeGreaterThanOrEqual(176);
    // The old Deployment is not rendered, so the controller prunes it from a Ledger made before.
    expect(objects.some((object) => object.kind === 'Deployment' && object.metadata.name === 'main-auditor')).toBe(false);
    expect(OWNED_KINDS.map((kind) => kind.kind)).toContain('Deployment');

    const ephemeral = ledger({});
    ephemeral.spec.auditor.storage = { ...ephemeral.spec.auditor.storage, ephemeral: true };
    const light = find(renderLedger(ephemeral, OPTIONS), 'StatefulSet', 'main-auditor').spec as typeof spec;
    expect(light.volumeClaimTemplates).toBeUndefined();
    expect(light.template.spec.volumes).toContainEqual({ name: 'data', emptyDir: {} });
    const classed = ledger({});
    classed.spec.auditor.storage = { ...classed.spec.auditor.storage, size: '50Gi', storageClassName: 'fast' };
    const claim = (find(renderLedger(classed, OPTIONS), 'StatefulSet', 'main-auditor').spec as typeof spec).volumeClaimTemplates?.[0]?.spec;
    expect([claim?.storageClassName, claim?.resources.requests.storage]).toEqual(['fast', '50Gi']);
  });

  it('replay window, ledger rules and checkpoints: one rendering on miners and auditor, ingest gets the rules it applies at the door', () => {
    const [alice, bob] = ['a'.repeat(64), 'b'.repeat(64)];
    const objects = renderLedger(
      ledger({
        consensus: {
          difficulty: 16,
          blockReward: 50,
          requireTransactionSignatures: true,
          replayWindowMs: 86_400_000,
          enforceBalances: true,
          // Out of order on purpose: rendered sorted, so a reordered map rolls nothing.
          accountKeys: { carol: [bob], alice: [alice, bob] },
          genesisAllocations: { bob: 5, alice: 1_000_000 },
          permissioned: { allowedMinerKeys: [alice], minerKeysSecret: { name: 'keys', perMiner: true, key: 'miner.key' } },
        },
        checkpoints: { everyBlocks: 10, verify: false },
      }),
      OPTIONS,
    );
    const names = ['DIFFICULTY', 'BLOCK_REWARD', 'ALLOWED_MINER_KEYS', 'REQUIRE_TRANSACTION_SIGNATURES', 'REPLAY_WINDOW_MS', 'ENFORCE_BALANCES', 'ACCOUNT_KEYS', 'GENESIS_ALLOCATIONS', 'TOPIC_CHECKPOINTS', 'CHECKPOINT_RESTORE', 'CHECKPOINT_EVERY_TRANSACTIONS', 'CHECKPOINT_EVERY_BLOCKS', 'CHECKPOINT_VERIFY'];
    const pick = (object: KubeObject) => container(object).env.filter((entry) => names.includes(entry.name));
    const miner = pick(find(objects, 'StatefulSet', 'main-miner'));
    expect(miner).toEqual([
      { name: 'DIFFICULTY', value: '16' },
      { name: 'BLOCK_REWARD', value: '50' },
      { name: 'ALLOWED_MINER_KEYS', value: alice },
      { name: 'REQUIRE_TRANSACTION_SIGNATURES', value: 'true' },
      { name: 'REPLAY_WINDOW_MS', value: '86400000' },
      { name: 'ENFORCE_BALANCES', value: 'true' },
      { name: 'ACCOUNT_KEYS', value: `alice=${alice},alice=${bob},carol=${bob}` },
      { name: 'GENESIS_ALLOCATIONS', value: 'alice=1000000,bob=5' },
      { name: 'TOPIC_CHECKPOINTS', value: 'cp' },
      { name: 'CHECKPOINT_EVERY_BLOCKS', value: '10' },
      { name: 'CHECKPOINT_VERIFY', value: 'false' },
    ]);
    expect(pick(find(objects, 'StatefulSet', 'main-auditor'))).toEqual(miner);
    // With the ledger rules on, ingest refuses unauthorized spends at the door: it reads the whole consensus.
    expect(pick(find(objects, 'Deployment', 'main-ingest'))).toEqual(miner.filter((entry) => !entry.name.includes('CHECKPOINT')));
    // Without them, ingest gets only the rules it applies alone: signatures and the window.
    const windowOnly = ledger({ consensus: { difficulty: 16, blockReward: 50, requireTransactionSignatures: true, replayWindowMs: 60_000, enforceBalances: false } });
    expect(pick(find(renderLedger(windowOnly, OPTIONS), 'Deployment', 'main-ingest'))).toEqual([
      { name: 'REQUIRE_TRANSACTION_SIGNATURES', value: 'true' },
      { name: 'REPLAY_WINDOW_MS', value: '60000' },
    ]);
    // Off (the CRD default): none of the rules' variables, and the checkpoint topic still named.
    const plain = renderLedger(ledger({}), OPTIONS);
    expect(pick(find(plain, 'StatefulSet', 'main-auditor')).map((entry) => entry.name)).toEqual(['DIFFICULTY', 'BLOCK_REWARD', 'REQUIRE_TRANSACTION_SIGNATURES', 'TOPIC_CHECKPOINTS']);
    // A V8 heap cap only where memory is bounded by the window: without one every id stays in the heap.
    for (const reader of ['main-miner', 'main-auditor']) {
      expect(env(find(objects, 'StatefulSet', reader)).NODE_OPTIONS).toBe('--max-old-space-size=128 --max-semi-space-size=2');
      expect(env(find(plain, 'StatefulSet', reader)).NODE_OPTIONS).toBeUndefined();
    }
    expect(env(find(objects, 'Deployment', 'main-ingest')).NODE_OPTIONS).toBeUndefined();
  });

  it('a bundled Kafka: a KRaft StatefulSet and its Services, every service pointed at it', () => {
    const objects = renderLedger(
      ledger({ kafka: { bundled: { replicas: 3, image: 'apache/kafka:3.9.1', heapOpts: '-Xmx1g', storage: { ephemeral: false, size: '10Gi' }, resources: {} } } }),
      OPTIONS,
    );
    const kafka = find(objects, 'StatefulSet', 'main-kafka');
    expect(env(kafka).KAFKA_CONTROLLER_QUORUM_VOTERS).toBe(
      [0, 1, 2].map((i) => `${i}@main-kafka-${i}.main-kafka-headless.ns.svc:9093`).join(','),
    );
    expect(env(kafka)).toMatchObject({ KAFKA_DEFAULT_REPLICATION_FACTOR: '3', KAFKA_MIN_INSYNC_REPLICAS: '2', CLUSTER_ID: clusterId(ledger()) });
    expect(clusterId(ledger())).toMatch(/^[A-Za-z0-9_-]{22}$/);
    find(objects, 'Service', 'main-kafka');
    find(objects, 'Service', 'main-kafka-headless');
    expect(env(find(objects, 'Deployment', 'main-ingest')).KAFKA_BROKERS).toBe('main-kafka.ns.svc:9092');
  });

  it('a KRaft cluster id never starts with "-" (kafka-storage would read it as an option), and is stable per uid', () => {
    const withUid = (uid: string): Ledger => ({ ...ledger(), metadata: { ...ledger().metadata, uid } });
    // A uid starting 0xf8: its base64url starts with "-" (the broker of such a Ledger crash-looped).
    const dashed = clusterId(withUid('f8e3b86b-c1d2-4e5f-8a9b-0c1d2e3f4a5b'));
    expect(dashed).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
    expect(dashed).toBe(clusterId(withUid('f8e3b86b-c1d2-4e5f-8a9b-0c1d2e3f4a5b')));
    // Every other id is what it always was (brokers of existing Ledgers keep finding their data).
    expect(clusterId(withUid('00112233-4455-6677-8899-aabbccddeeff'))).toBe(Buffer.from('00112233445566778899aabbccddeeff', 'hex').toString('base64url'));
  });

  it('a bundled Kafka with SASL: each service logs in as its own principal with only its own password; the brokers read every credential', () => {
    const bundled = { replicas: 3, image: 'apache/kafka:4.4.0', heapOpts: '-Xmx1g', storage: { ephemeral: true, size: '1Gi' }, resources: {}, sasl: { credentialsSecret: 'creds' } };
    const objects = renderLedger(ledger({ kafka: { bundled } }), OPTIONS);
    const secretRefs = (object: KubeObject): string[] =>
      container(object).env.flatMap((entry) => {
        const ref = (entry.valueFrom as { secretKeyRef?: { name: string; key: string } } | undefined)?.secretKeyRef;
        return ref === undefined ? [] : [`${entry.name}=${ref.name}/${ref.key}`];
      });
    for (const [kind, name, user] of [['Deployment', 'main-ingest', 'chainlog-ingest'], ['StatefulSet', 'main-miner', 'chainlog-miner'], ['StatefulSet', 'main-auditor', 'chainlog-auditor']] as const) {
      const object = find(objects, kind, name);
      expect(env(object), name).toMatchObject({ KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: user });
      // Its own password and no other: not another service's, not the administrator's.
      expect(secretRefs(object), name).toEqual([`KAFKA_SASL_PASSWORD=creds/${user}`]);
    }
    const kafka = find(objects, 'StatefulSet', 'main-kafka');
    const broker = container(kafka) as Container & { command: string[]; ports: { containerPort: number }[] };
    expect(broker.command.slice(0, 2)).toEqual(['bash', '-c']);
    expect(broker.command[2]).toContain('--add-scram');
    expect(env(kafka)).toMatchObject({
      KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'CLIENT:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT,INTERNAL:SASL_PLAINTEXT',
      KAFKA_AUTHORIZER_CLASS_NAME: 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
      KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND: 'false',
      KAFKA_INTER_BROKER_LISTENER_NAME: 'INTERNAL',
    });
    expect(env(kafka).KAFKA_ADVERTISED_LISTENERS).toBe('CLIENT://$(POD_NAME).main-kafka-headless.ns.svc:9092,INTERNAL://$(POD_NAME).main-kafka-headless.ns.svc:9094');
    const volumes = (kafka.spec as { template: { spec: { volumes: { name: string; secret?: { secretName: string; items: { key: string; path: string }[] } }[] } } }).template.spec.volumes;
    expect(volumes.find((volume) => volume.name === 'sasl')?.secret).toMatchObject({
      secretName: 'creds',
      items: [
        { key: 'broker', path: 'broker' },
        { key: 'chainlog-admin', path: 'scram/chainlog-admin' },
        { key: 'chainlog-ingest', path: 'scram/chainlog-ingest' },
        { key: 'chainlog-miner', path: 'scram/chainlog-miner' },
        { key: 'chainlog-auditor', path: 'scram/chainlog-auditor' },
        { key: 'chainlog-reader', path: 'scram/chainlog-reader' },
      ],
    });
    // Three brokers replicate over the inter-broker listener: the NetworkPolicy lets them.
    const policy = find(objects, 'NetworkPolicy', 'main-kafka').spec as { ingress: { ports: { port: number }[] }[] };
    expect(policy.ingress.flatMap((rule) => rule.ports.map((port) => port.port))).toContain(9094);
    // Without sasl: plaintext, no credentials anywhere, no command of ours.
    const plain = renderLedger(ledger({ kafka: { bundled: { ...bundled, sasl: undefined } } }), OPTIONS);
    expect((container(find(plain, 'StatefulSet', 'main-kafka')) as { command?: unknown }).command).toBeUndefined();
    expect(env(find(plain, 'Deployment', 'main-ingest')).KAFKA_SASL_MECHANISM).toBeUndefined();
  });

  it('two Ledgers share nothing: names, selectors, consumer groups differ', () => {
    const a = renderLedger(ledger({}, 'a'), OPTIONS);
    const b = renderLedger(ledger({}, 'b'), OPTIONS);
    const names = (objects: KubeObject[]) => new Set(objects.map((object) => `${object.kind}/${object.metadata.name}`));
    const shared = [...names(a)].filter((name) => names(b).has(name));
    expect(shared).toEqual([]);
    expect(env(find(a, 'StatefulSet', 'a-miner')).MINER_GROUP_ID).not.toBe(env(find(b, 'StatefulSet', 'b-miner')).MINER_GROUP_ID);
  });

  describe('NetworkPolicies', () => {
    type Peer = { podSelector?: { matchLabels: Record<string, string> }; namespaceSelector?: { matchLabels: Record<string, string> } };
    type Rule = { ports: { port: number; protocol: string }[]; from?: Peer[]; to?: Peer[] };
    type Policy = { podSelector: { matchLabels: Record<string, string> }; ingress: Rule[]; egress: Rule[] };
    const policyOf = (objects: KubeObject[], name: string): Policy => find(objects, 'NetworkPolicy', name).spec as Policy;
    const podLabels = (objects: KubeObject[], name: string): Record<string, string> =>
      (find(objects, name.endsWith('ingest') ? 'Deployment' : 'StatefulSet', name).spec as { template: { metadata: { labels: Record<string, string> } } }).template.metadata.labels;
    const selects = (selector: Record<string, string>, labels: Record<string, string>): boolean => Object.entries(selector).every(([key, v]) => labels[key] === v);

    it('select exactly their component and open only its port: ingest and auditor to anyone, miners to the scraper only', () => {
      const objects = renderLedger(ledger(), OPTIONS);
      const components = ['ingest', 'miner', 'auditor'];
      for (const component of components) {
        const selector = policyOf(objects, `main-${component}`).podSelector.matchLabels;
        for (const other of components) expect(selects(selector, podLabels(objects, `main-${other}`)), `${component} selects ${other}`).toBe(component === other);
      }
      expect(policyOf(objects, 'main-ingest').ingress).toEqual([{ ports: [{ port: 8080, protocol: 'TCP' }] }]);
      expect(policyOf(objects, 'main-auditor').ingress).toEqual([{ ports: [{ port: 8082, protocol: 'TCP' }] }]);
      expect(policyOf(objects, 'main-miner').ingress).toEqual([{ ports: [{ port: 8081, protocol: 'TCP' }], from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }] }]);
      // External Kafka: egress on the bootstrap servers' ports, to any destination (spec.networkPolicy.kafka.to narrows it).
      expect(policyOf(objects, 'main-ingest').egress).toContainEqual({ ports: [{ port: 9092, protocol: 'TCP' }] });
    });

    it('with apiFrom set, only those peers, the operator (auditor) and the scraper reach the APIs', () => {
      const frontend = { podSelector: { matchLabels: { role: 'frontend' } } };
      const objects = renderLedger(ledger({ networkPolicy: { enabled: true, apiFrom: [frontend], metricsNamespace: 'monitoring', dns: {}, kafka: {} } }), OPTIONS);
      const auditor = policyOf(objects, 'main-auditor').ingress;
      expect(auditor.every((rule) => rule.from !== undefined && rule.from.length > 0)).toBe(true);
      expect(auditor.flatMap((rule) => rule.from ?? [])).toContainEqual(frontend);
      expect(auditor.flatMap((rule) => rule.from ?? []).some((peer) => peer.podSelector?.matchLabels['app.kubernetes.io/component'] === 'operator')).toBe(true);
      expect(policyOf(objects, 'main-ingest').ingress.flatMap((rule) => rule.from ?? []).some((peer) => peer.podSelector?.matchLabels['app.kubernetes.io/component'] === 'operator')).toBe(false);
    });

    it("the bundled Kafka takes this Ledger's pods and the operator only, and the services' Kafka egress selects its pods", () => {
      const bundled = { replicas: 1, image: 'apache/kafka:3.9.0', heapOpts: '-Xmx512m', resources: {}, storage: { ephemeral: true, size: '1Gi' } };
      const objects = renderLedger(ledger({ kafka: { bundled } as LedgerSpec['kafka'] }), OPTIONS);
      const kafka = policyOf(objects, 'main-kafka');
      expect(selects(kafka.podSelector.matchLabels, podLabels(objects, 'main-kafka'))).toBe(true);
      const from = kafka.ingress.flatMap((rule) => rule.from ?? []);
      for (const component of ['ingest', 'miner', 'auditor']) expect(from.some((peer) => peer.podSelector !== undefined && selects(peer.podSelector.matchLabels, podLabels(objects, `main-${component}`))), component).toBe(true);
      const otherLedger = renderLedger(ledger({}, 'other'), OPTIONS);
      expect(from.some((peer) => peer.podSelector !== undefined && selects(peer.podSelector.matchLabels, podLabels(otherLedger, 'other-ingest')))).toBe(false);
      const toKafka = policyOf(objects, 'main-miner').egress.find((rule) => rule.ports.some((port) => port.port === 9092));
      expect(toKafka?.to?.some((peer) => peer.podSelector !== undefined && selects(peer.podSelector.matchLabels, podLabels(objects, 'main-kafka')))).toBe(true);
    });

    it('spec.networkPolicy.enabled=false renders none', () => {
      const objects = renderLedger(ledger({ networkPolicy: { enabled: false, dns: {}, kafka: {} } }), OPTIONS);
      expect(objects.filter((object) => object.kind === 'NetworkPolicy')).toEqual([]);
    });
  });
});

describe('renderLedger monitoring (alerts and dashboards from charts/chainlog/files)', () => {
  const FILES = join(import.meta.dirname, '../../../../charts/chainlog/files');
  const monitoring = (prometheusRule: boolean, dashboards: boolean, labels?: Record<string, string>): Partial<LedgerSpec> => ({
    monitoring: { serviceMonitor: { enabled: false, interval: '30s' }, prometheusRule: { enabled: prometheusRule, labels }, dashboards: { enabled: dashboards, ...(labels ? { labels } : {}) } },
  });

  it('renders neither when disabled; PrometheusRule and ConfigMap are owned kinds, so a disabled one is pruned', () => {
    const kinds = renderLedger(ledger(), OPTIONS).map((object) => object.kind);
    expect(kinds).not.toContain('PrometheusRule');
    expect(kinds).not.toContain('ConfigMap');
    expect(OWNED_KINDS.map((kind) => kind.kind)).toEqual(expect.arrayContaining(['PrometheusRule', 'ConfigMap']));
  });

  it('a PrometheusRule with the chart\'s rule groups, the spec\'s labels and the Ledger as owner', () => {
    const rule = find(renderLedger(ledger(monitoring(true, false, { release: 'kps' })), OPTIONS), 'PrometheusRule', 'main');
    const groups = readdirSync(join(FILES, 'alerts')).sort().flatMap((file) => (parseYaml(readFileSync(join(FILES, 'alerts', file), 'utf8')) as { groups: unknown[] }).groups);
    expect(groups.length).toBeGreaterThan(0);
    expect(rule.spec).toEqual({ groups });
    expect(rule.metadata.labels).toMatchObject({ release: 'kps', 'chainlog.dev/ledger': 'main' });
    expect(rule.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'Ledger', name: 'main', controller: true });
  });

  it('one ConfigMap per dashboard file, labelled grafana_dashboard=1 by default, per Ledger name', () => {
    const files = readdirSync(join(FILES, 'dashboards')).filter((file) => file.endsWith('.json')).sort();
    for (const name of ['main', 'other']) {
      const maps = renderLedger(ledger(monitoring(false, true), name), OPTIONS).filter((object) => object.kind === 'ConfigMap');
      expect(maps.map((map) => map.metadata.name)).toEqual(files.map((file) => `${name}-dashboard-${file.replace(/\.json$/, '')}`));
      for (const [index, map] of maps.entries()) {
        const file = files[index] as string;
        expect(map.metadata.labels).toMatchObject({ grafana_dashboard: '1', 'chainlog.dev/ledger': name });
        expect(JSON.parse((map.data as Record<string, string>)[file] as string)).toEqual(JSON.parse(readFileSync(join(FILES, 'dashboards', file), 'utf8')));
        expect(map.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'Ledger', name });
      }
    }
    const custom = renderLedger(ledger(monitoring(false, true, { dash: 'yes' })), OPTIONS).filter((object) => object.kind === 'ConfigMap');
    expect(custom[0]?.metadata.labels).toMatchObject({ dash: 'yes' });
    expect(custom[0]?.metadata.labels).not.toHaveProperty('grafana_dashboard');
  });
});

