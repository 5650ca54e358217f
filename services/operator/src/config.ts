// Every setting of the operator, parsed and validated in one place. A bad value is reported together with
// every other bad value in one ConfigError, and main.ts exits with code 2.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { type CommonConfig, EnvReader, readCommonConfig } from '@chainlog/core/config';

export const SERVICE_NAME = 'operator';
/** The operator's version: the image tag of a Ledger's workloads unless spec.image.tag says otherwise. */
export const OPERATOR_VERSION = '0.1.0';
export const DEFAULT_HTTP_PORT = 8083;
/** The field manager of every write the operator makes (managedFields name it). */
export const FIELD_MANAGER = 'chainlog-operator';
/** The annotation on the miner StatefulSet recording the partition count the operator last reconciled. */
export const OBSERVED_PARTITIONS_ANNOTATION = 'chainlog.dev/observed-partitions';
/** Where Kubernetes mounts the pod's namespace next to its ServiceAccount token. */
export const IN_CLUSTER_NAMESPACE_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

/** How the operator reaches the Kubernetes API. */
export type KubeAccess = { kind: 'kubeconfig'; path: string } | { kind: 'in-cluster' };

/** What the operator runs: the Ledger controller, or the older miner/partition matcher for one StatefulSet. */
export type OperatorMode = 'ledgers' | 'statefulset';

export interface OperatorConfig extends CommonConfig {
  mode: OperatorMode;
  /** Namespace of the Ledgers (or of the miner StatefulSet), the Lease and the Events. */
  namespace: string;
  /** Image tag of the workloads of a Ledger without spec.image.tag (the operator's own version). */
  defaultImageTag: string;
  /** Where the chain status of a Ledger is asked: {name}, {namespace} and {port} are replaced. */
  auditorUrlTemplate: string;
  /** Name of the miner StatefulSet (the chart's <release>-miner). */
  minerStatefulSet: string;
  /** The chart's topics.transactions.partitions: the baseline for "partitions grew" before the first record. */
  configuredPartitions: number | undefined;
  /** The operator never grows partitions nor scales miners beyond this. */
  maxPartitions: number;
  /** How often the transactions topic's partition count is read from Kafka. */
  kafkaPollIntervalMs: number;
  /** How often a reconcile runs even when nothing was observed to change. */
  resyncIntervalMs: number;
  /** Name of the coordination.k8s.io/v1 Lease of the leader election. */
  leaseName: string;
  leaseDurationSeconds: number;
  /** The operator's own Deployment: the owner of the Lease, so deleting the operator deletes it. */
  operatorDeployment: string | undefined;
  /** This instance's identity in the Lease (the pod name). */
  identity: string;
  kube: KubeAccess;
  /** Upper bound of each Kubernetes API request (watches excepted). */
  kubeRequestTimeoutMs: number;
}

const DNS_SUBDOMAIN = { regex: /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, description: 'a DNS subdomain name (lowercase a-z, 0-9, "-", ".")' };
const DNS_LABEL = { regex: /^(?=.{1,63}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, description: 'a DNS label (lowercase a-z, 0-9, "-", at most 63 characters)' };

type Env = Record<string, string | undefined>;

export function readConfig(env: Env = process.env, readNamespaceFile: () => string | undefined = inClusterNamespace): OperatorConfig {
  const reader = new EnvReader(env);
  const common = readCommonConfig(reader, SERVICE_NAME, DEFAULT_HTTP_PORT);
  const mode = readMode(reader);
  const minerStatefulSet = reader.string('MINER_STATEFULSET', 'chainlog-miner', DNS_SUBDOMAIN);
  const kube = readKubeAccess(reader, env);
  const defaultLease = mode === 'ledgers' ? 'chainlog-ledger-operator' : `${minerStatefulSet}-operator`;
  const config: OperatorConfig = {
    ...common,
    mode,
    namespace: readNamespace(reader, kube, readNamespaceFile),
    defaultImageTag: reader.string('CHAINLOG_IMAGE_TAG', OPERATOR_VERSION, { regex: /^[\w][\w.-]{0,127}$/, description: 'an image tag' }),
    auditorUrlTemplate: reader.string('AUDITOR_URL_TEMPLATE', 'http://{name}-auditor.{namespace}.svc:{port}'),
    minerStatefulSet,
    configuredPartitions: reader.optionalInteger('TRANSACTIONS_PARTITIONS', { min: 1, max: 100_000 }),
    // Growth is permanent (Kafka cannot remove partitions): a low ceiling stops a typo or a runaway scaler.
    maxPartitions: reader.integer('MAX_PARTITIONS', 64, { min: 1, max: 100_000 }),
    kafkaPollIntervalMs: reader.integer('KAFKA_POLL_INTERVAL_MS', 10_000, { min: 100, max: 3_600_000 }),
    resyncIntervalMs: reader.integer('RESYNC_INTERVAL_MS', 30_000, { min: 100, max: 3_600_000 }),
    // The default derives from the StatefulSet's name (one lease per release); only an explicit name is checked.
    leaseName: reader.optionalString('LEASE_NAME') === undefined ? defaultLease : reader.string('LEASE_NAME', '', DNS_SUBDOMAIN),
    leaseDurationSeconds: reader.integer('LEASE_DURATION_SECONDS', 15, { min: 1, max: 3600 }),
    operatorDeployment: reader.optionalString('OPERATOR_DEPLOYMENT') === undefined ? undefined : reader.string('OPERATOR_DEPLOYMENT', '', DNS_SUBDOMAIN),
    identity: reader.string('POD_NAME', hostname()),
    kube,
    kubeRequestTimeoutMs: reader.integer('KUBE_REQUEST_TIMEOUT_MS', 10_000, { min: 100, max: 300_000 }),
  };
  if (config.identity.length > 128) reader.problem(`POD_NAME must be at most 128 characters, got ${config.identity.length}`);
  reader.done();
  return config;
}

export function readNamespace(reader: EnvReader, kube: KubeAccess, readNamespaceFile: () => string | undefined): string {
  const explicit = reader.optionalString('NAMESPACE') ?? reader.optionalString('POD_NAMESPACE');
  const namespace = explicit ?? (kube.kind === 'in-cluster' ? readNamespaceFile() : undefined);
  if (namespace === undefined) {
    reader.problem('NAMESPACE (or POD_NAMESPACE, from the downward API) is required outside a cluster');
    return 'default';
  }
  if (!DNS_LABEL.regex.test(namespace)) reader.problem(`NAMESPACE must be ${DNS_LABEL.description}, got "${namespace}"`);
  return namespace;
}

export function readKubeAccess(reader: EnvReader, env: Env): KubeAccess {
  const path = reader.optionalString('KUBECONFIG');
  if (path !== undefined) return { kind: 'kubeconfig', path };
  if ((env.KUBERNETES_SERVICE_HOST ?? '') !== '' && (env.KUBERNETES_SERVICE_PORT ?? '') !== '') return { kind: 'in-cluster' };
  reader.problem('set KUBECONFIG (a kubeconfig file) or run in a pod (KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT)');
  return { kind: 'in-cluster' };
}

export function inClusterNamespace(): string | undefined {
  try {
    return readFileSync(IN_CLUSTER_NAMESPACE_FILE, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

function readMode(reader: EnvReader): OperatorMode {
  const mode = reader.string('OPERATOR_MODE', 'ledgers');
  if (mode === 'ledgers' || mode === 'statefulset') return mode;
  reader.problem(`OPERATOR_MODE must be ledgers or statefulset, got "${mode}"`);
  return 'ledgers';
}
