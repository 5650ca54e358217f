// The NetworkPolicies a Ledger implies: each component may receive and send only what it needs. Permissioned and
// locked down by default (spec.networkPolicy.enabled); a cluster without a NetworkPolicy-enforcing CNI ignores them.
//
// Who talks to whom: every component reaches DNS and Kafka; ingest and the auditor serve their HTTP APIs (and
// /metrics on the same port) to spec.networkPolicy.apiFrom (empty: anyone); the miners serve nothing but
// /metrics to the scraper's namespace; the operator (same namespace: it watches its own) asks the auditor for the
// chain's status and the bundled Kafka for the topics; the bundled Kafka takes clients of this Ledger only.
import type { Ledger, NetworkPolicyPeer } from './types.js';
import type { KubeObject } from './render.js';

type Port = { port: number; protocol: 'TCP' | 'UDP' };
type Rule = { ports: Port[]; from?: NetworkPolicyPeer[]; to?: NetworkPolicyPeer[] };

export interface PolicyContext {
  ledger: Ledger;
  metadata: (component: 'ingest' | 'miner' | 'auditor' | 'kafka') => KubeObject['metadata'];
  /** The pods of one of the Ledger's components (its label and the component's). */
  podsOf: (component: 'ingest' | 'miner' | 'auditor' | 'kafka') => Record<string, string>;
  ports: { ingest: number; miner: number; auditor: number; kafka: number; kafkaController: number; kafkaInternal: number };
}

/** The operator's pods (the chart's labels), in the Ledger's namespace. */
export const OPERATOR_PODS = { 'app.kubernetes.io/name': 'chainlog', 'app.kubernetes.io/component': 'operator' };
const tcp = (...ports: number[]): Port[] => ports.map((port) => ({ port, protocol: 'TCP' }));
const withPeers = (rule: Rule, key: 'from' | 'to', peers: NetworkPolicyPeer[] | undefined): Rule => (peers !== undefined && peers.length > 0 ? { ...rule, [key]: peers } : rule);

/** The distinct ports of "host:port,host:port" (an external Kafka's bootstrap servers). */
export function bootstrapPorts(bootstrapServers: string): number[] {
  const ports = bootstrapServers.split(',').map((server) => Number(server.trim().split(':').at(-1))).filter((port) => Number.isInteger(port) && port > 0 && port < 65536);
  return [...new Set(ports)].sort((a, b) => a - b);
}

function policy(context: PolicyContext, component: 'ingest' | 'miner' | 'auditor' | 'kafka', ingress: Rule[], egress: Rule[]): KubeObject {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: context.metadata(component),
    spec: { podSelector: { matchLabels: context.podsOf(component) }, policyTypes: ['Ingress', 'Egress'], ingress, egress },
  };
}

function metricsRule(context: PolicyContext, port: number): Rule[] {
  const { metricsNamespace, metricsPodSelector } = context.ledger.spec.networkPolicy;
  if (metricsNamespace === undefined || metricsNamespace === '') return [];
  const peer: NetworkPolicyPeer = {
    namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': metricsNamespace } },
    ...(metricsPodSelector !== undefined && Object.keys(metricsPodSelector).length > 0 ? { podSelector: metricsPodSelector } : {}),
  };
  return [{ ports: tcp(port), from: [peer] }];
}

function kafkaEgress(context: PolicyContext): Rule {
  const { ledger, ports } = context;
  const external = ledger.spec.kafka.external;
  if (external === undefined) return { ports: tcp(ports.kafka), to: [{ podSelector: { matchLabels: context.podsOf('kafka') } }] };
  const { kafka } = ledger.spec.networkPolicy;
  // The brokers' ports: the bootstrap servers' unless given (a broker advertising another port needs spec.networkPolicy.kafka.ports).
  const brokerPorts = kafka.ports !== undefined && kafka.ports.length > 0 ? kafka.ports : bootstrapPorts(external.bootstrapServers);
  return withPeers({ ports: tcp(...brokerPorts) }, 'to', kafka.to);
}

function serviceEgress(context: PolicyContext): Rule[] {
  const dns = withPeers({ ports: [{ port: 53, protocol: 'UDP' }, { port: 53, protocol: 'TCP' }] }, 'to', context.ledger.spec.networkPolicy.dns.to);
  return [dns, kafkaEgress(context)];
}

function apiIngress(context: PolicyContext, port: number, fromOperator: boolean): Rule[] {
  const { apiFrom } = context.ledger.spec.networkPolicy;
  const restricted = apiFrom !== undefined && apiFrom.length > 0;
  return [
    withPeers({ ports: tcp(port) }, 'from', apiFrom),
    // With apiFrom set, the operator (chain status) and the scraper are let in explicitly.
    ...(restricted && fromOperator ? [{ ports: tcp(port), from: [{ podSelector: { matchLabels: OPERATOR_PODS } }] }] : []),
    ...(restricted ? metricsRule(context, port) : []),
  ];
}

function kafkaPolicy(context: PolicyContext, replicas: number): KubeObject {
  const { ports } = context;
  const clients: Rule = {
    ports: tcp(ports.kafka),
    from: [{ podSelector: { matchLabels: { 'chainlog.dev/ledger': context.ledger.metadata.name } } }, { podSelector: { matchLabels: OPERATOR_PODS } }],
  };
  // Several nodes reach each other: replication (with SASL on its own listener) and the KRaft quorum.
  const nodePorts = context.ledger.spec.kafka.bundled?.sasl !== undefined ? tcp(ports.kafka, ports.kafkaController, ports.kafkaInternal) : tcp(ports.kafka, ports.kafkaController);
  const peers: Rule[] = replicas > 1 ? [{ ports: nodePorts, from: [{ podSelector: { matchLabels: context.podsOf('kafka') } }] }] : [];
  const dns = withPeers({ ports: [{ port: 53, protocol: 'UDP' }, { port: 53, protocol: 'TCP' }] }, 'to', context.ledger.spec.networkPolicy.dns.to);
  const egressPeers: Rule[] = replicas > 1 ? [{ ports: nodePorts, to: [{ podSelector: { matchLabels: context.podsOf('kafka') } }] }] : [];
  return policy(context, 'kafka', [clients, ...peers], [dns, ...egressPeers]);
}

/** Every NetworkPolicy of the Ledger (none when spec.networkPolicy.enabled is false). */
export function networkPolicies(context: PolicyContext): KubeObject[] {
  const { ledger, ports } = context;
  if (!ledger.spec.networkPolicy.enabled) return [];
  const bundled = ledger.spec.kafka.bundled;
  return [
    policy(context, 'ingest', apiIngress(context, ports.ingest, false), serviceEgress(context)),
    // Miners serve nothing: only the scraper, on the metrics port.
    policy(context, 'miner', metricsRule(context, ports.miner), serviceEgress(context)),
    policy(context, 'auditor', apiIngress(context, ports.auditor, true), serviceEgress(context)),
    ...(bundled !== undefined ? [kafkaPolicy(context, bundled.replicas)] : []),
  ];
}
