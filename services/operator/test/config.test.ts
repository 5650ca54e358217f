// Configuration: defaults, every variable, and one ConfigError naming every bad variable.
import { ConfigError } from '@chainlog/core/config';
import { describe, expect, it } from 'vitest';
import { readConfig } from '../src/config.js';

const minimal = { KUBECONFIG: '/tmp/kubeconfig', NAMESPACE: 'ledger' };

function problems(env: Record<string, string>, namespaceFile: () => string | undefined = () => undefined): string[] {
  try {
    readConfig(env, namespaceFile);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('readConfig', () => {
  it('has working defaults', () => {
    const config = readConfig({ ...minimal, POD_NAME: 'op-1' });
    expect(config).toMatchObject({
      httpPort: 8083,
      namespace: 'ledger',
      minerStatefulSet: 'chainlog-miner',
      configuredPartitions: undefined,
      maxPartitions: 64,
      kafkaPollIntervalMs: 10_000,
      resyncIntervalMs: 30_000,
      mode: 'ledgers',
      leaseName: 'chainlog-ledger-operator',
      defaultImageTag: '0.1.0',
      auditorUrlTemplate: 'http://{name}-auditor.{namespace}.svc:{port}',
      leaseDurationSeconds: 15,
      identity: 'op-1',
      kube: { kind: 'kubeconfig', path: '/tmp/kubeconfig' },
      kubeRequestTimeoutMs: 10_000,
      topics: { transactions: 'transactions' },
      kafka: { clientId: 'chainlog-operator' },
    });
  });

  it('reads every variable, as the chart sets them', () => {
    const config = readConfig(
      {
        POD_NAMESPACE: 'prod',
        POD_NAME: 'ledger-chainlog-operator-7d9f-abcde',
        MINER_STATEFULSET: 'ledger-chainlog-miner',
        TRANSACTIONS_PARTITIONS: '6',
        TOPIC_TRANSACTIONS: 'tx',
        KAFKA_BROKERS: 'k1:9092,k2:9092',
        KAFKA_POLL_INTERVAL_MS: '500',
        RESYNC_INTERVAL_MS: '1000',
        LEASE_NAME: 'my-lease',
        LEASE_DURATION_SECONDS: '4',
        MAX_PARTITIONS: '64',
        KUBE_REQUEST_TIMEOUT_MS: '2000',
        HTTP_PORT: '0',
        LOG_LEVEL: 'debug',
        KUBERNETES_SERVICE_HOST: '10.0.0.1',
        KUBERNETES_SERVICE_PORT: '443',
      },
      () => 'ignored',
    );
    expect(config).toMatchObject({
      namespace: 'prod',
      identity: 'ledger-chainlog-operator-7d9f-abcde',
      minerStatefulSet: 'ledger-chainlog-miner',
      configuredPartitions: 6,
      topics: { transactions: 'tx' },
      kafka: { brokers: ['k1:9092', 'k2:9092'] },
      kafkaPollIntervalMs: 500,
      resyncIntervalMs: 1000,
      leaseName: 'my-lease',
      leaseDurationSeconds: 4,
      maxPartitions: 64,
      kubeRequestTimeoutMs: 2000,
      httpPort: 0,
      logLevel: 'debug',
      kube: { kind: 'in-cluster' },
    });
  });

  it('OPERATOR_MODE picks the controller; the statefulset mode names its lease after the StatefulSet', () => {
    expect(readConfig({ ...minimal, OPERATOR_MODE: 'statefulset', MINER_STATEFULSET: 'x-miner' })).toMatchObject({ mode: 'statefulset', leaseName: 'x-miner-operator' });
    expect(readConfig({ ...minimal, CHAINLOG_IMAGE_TAG: '1.2.3', AUDITOR_URL_TEMPLATE: 'http://a:1' })).toMatchObject({ defaultImageTag: '1.2.3', auditorUrlTemplate: 'http://a:1' });
    expect(problems({ ...minimal, OPERATOR_MODE: 'both', CHAINLOG_IMAGE_TAG: 'a b' })).toEqual([
      'OPERATOR_MODE must be ledgers or statefulset, got "both"',
      'CHAINLOG_IMAGE_TAG must be an image tag, got "a b"',
    ]);
  });

  it('NAMESPACE wins over POD_NAMESPACE; in a cluster the ServiceAccount namespace file is the fallback', () => {
    expect(readConfig({ ...minimal, NAMESPACE: 'a', POD_NAMESPACE: 'b' }).namespace).toBe('a');
    const inCluster = { KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443' };
    expect(readConfig(inCluster, () => 'from-file').namespace).toBe('from-file');
    expect(problems({ KUBECONFIG: '/tmp/k' }, () => 'from-file')).toEqual([expect.stringMatching(/^NAMESPACE \(or POD_NAMESPACE/)]);
  });

  it('needs a way to the Kubernetes API', () => {
    expect(problems({ NAMESPACE: 'ledger' })).toEqual([expect.stringMatching(/KUBECONFIG/)]);
  });

  it('names every bad variable in one error', () => {
    const found = problems({
      KUBECONFIG: '/tmp/k',
      NAMESPACE: 'Not_A_Namespace',
      MINER_STATEFULSET: 'Bad Name',
      TRANSACTIONS_PARTITIONS: '0',
      KAFKA_POLL_INTERVAL_MS: '10',
      RESYNC_INTERVAL_MS: 'often',
      LEASE_NAME: '-lease',
      LEASE_DURATION_SECONDS: '0',
      MAX_PARTITIONS: '-1',
      HTTP_PORT: '70000',
      KAFKA_BROKERS: 'no-port',
    });
    for (const name of ['NAMESPACE', 'MINER_STATEFULSET', 'TRANSACTIONS_PARTITIONS', 'KAFKA_POLL_INTERVAL_MS', 'RESYNC_INTERVAL_MS', 'LEASE_NAME', 'LEASE_DURATION_SECONDS', 'MAX_PARTITIONS', 'HTTP_PORT', 'KAFKA_BROKERS']) {
      expect(found.filter((problem) => problem.startsWith(name)), name).toHaveLength(1);
    }
    expect(found).toHaveLength(10);
  });
});
