// Least privilege on Kafka: what each Chainlog service may do, as ACL bindings for KRaft's StandardAuthorizer
// (authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer, no allow-if-no-ACL). One
// principal per service (SASL/SCRAM users): only the miners write the blockchain, only ingest (and the
// miners' dead-letter writer) the transactions side, only the auditor the audit topic; each reads only what it
// needs and uses only its own consumer groups. Applied with an admin (super user) connection, by the test
// suite and by whoever sets up a cluster (docs/running.md, "Kafka authentication and ACLs").
import {
  AclOperationTypes,
  AclPermissionTypes,
  AclResourceTypes,
  ResourcePatternTypes,
  type Admin,
  type AclEntry,
} from 'kafkajs';

export interface AclTopics {
  transactions: string;
  blockchain: string;
  audit: string;
  deadLetter: string;
}

/** SASL user names of the services (the principal is User:<name>). */
export interface ServicePrincipals {
  ingest: string;
  miner: string;
  auditor: string;
}

export const DEFAULT_PRINCIPALS: ServicePrincipals = { ingest: 'chainlog-ingest', miner: 'chainlog-miner', auditor: 'chainlog-auditor' };

type Operation = 'READ' | 'WRITE' | 'DESCRIBE' | 'IDEMPOTENT_WRITE';

interface Grant {
  principal: string;
  resource: 'TOPIC' | 'GROUP' | 'CLUSTER';
  name: string;
  prefixed?: boolean;
  operations: Operation[];
}

/** The grants, readable: who may do what on which topic or group. */
export function serviceGrants(topics: AclTopics, principals: ServicePrincipals = DEFAULT_PRINCIPALS, minerGroup = 'chainlog-miners'): Grant[] {
  const { ingest, miner, auditor } = principals;
  return [
    // ingest: appends transactions (idempotent producer); reads the topic's metadata for the partition count.
    { principal: ingest, resource: 'TOPIC', name: topics.transactions, operations: ['WRITE', 'DESCRIBE'] },
    { principal: ingest, resource: 'CLUSTER', name: 'kafka-cluster', operations: ['IDEMPOTENT_WRITE'] },
    // miners: consume transactions in their group, write dead letters, read and write the blockchain.
    { principal: miner, resource: 'TOPIC', name: topics.transactions, operations: ['READ', 'DESCRIBE'] },
    { principal: miner, resource: 'TOPIC', name: topics.deadLetter, operations: ['WRITE', 'DESCRIBE'] },
    { principal: miner, resource: 'TOPIC', name: topics.blockchain, operations: ['READ', 'WRITE', 'DESCRIBE'] },
    { principal: miner, resource: 'CLUSTER', name: 'kafka-cluster', operations: ['IDEMPOTENT_WRITE'] },
    { principal: miner, resource: 'GROUP', name: minerGroup, operations: ['READ', 'DESCRIBE'] },
    { principal: miner, resource: 'GROUP', name: 'chainlog-miner-chain-', prefixed: true, operations: ['READ'] },
    // auditor: reads the blockchain and the transactions (pending), writes and reads its audit topic, and
    // describes the miners' group for the commit lag.
    { principal: auditor, resource: 'TOPIC', name: topics.blockchain, operations: ['READ', 'DESCRIBE'] },
    { principal: auditor, resource: 'TOPIC', name: topics.transactions, operations: ['READ', 'DESCRIBE'] },
    { principal: auditor, resource: 'TOPIC', name: topics.audit, operations: ['READ', 'WRITE', 'DESCRIBE'] },
    { principal: auditor, resource: 'CLUSTER', name: 'kafka-cluster', operations: ['IDEMPOTENT_WRITE'] },
    { principal: auditor, resource: 'GROUP', name: 'chainlog-auditor', prefixed: true, operations: ['READ', 'DESCRIBE'] },
    { principal: auditor, resource: 'GROUP', name: minerGroup, operations: ['DESCRIBE'] },
  ];
}

/** The grants as kafkajs ACL entries (one per operation), all ALLOW from any host. */
export function aclEntries(grants: readonly Grant[]): AclEntry[] {
  return grants.flatMap((grant) =>
    grant.operations.map((operation) => ({
      resourceType: AclResourceTypes[grant.resource],
      resourceName: grant.name,
      resourcePatternType: grant.prefixed === true ? ResourcePatternTypes.PREFIXED : ResourcePatternTypes.LITERAL,
      principal: `User:${grant.principal}`,
      host: '*',
      operation: AclOperationTypes[operation],
      permissionType: AclPermissionTypes.ALLOW,
    })),
  );
}

export async function applyServiceAcls(admin: Admin, topics: AclTopics, principals: ServicePrincipals = DEFAULT_PRINCIPALS): Promise<number> {
  const acl = aclEntries(serviceGrants(topics, principals));
  await admin.createAcls({ acl });
  return acl.length;
}

/**
 * server.properties lines for a broker with SASL/SCRAM-SHA-512 on `saslPort` and the StandardAuthorizer;
 * `superUsers` (e.g. User:ANONYMOUS for a plaintext admin listener bound to localhost) bypass the ACLs.
 * The SCRAM users are created at format time: kafka-broker.ts's formatArguments, scramFormatArguments below.
 */
export function saslAclBrokerProperties(ports: { plain: number; controller: number; sasl: number }, superUsers: readonly string[]): Record<string, string> {
  return {
    listeners: `PLAINTEXT://127.0.0.1:${ports.plain},CONTROLLER://127.0.0.1:${ports.controller},SASL_PLAINTEXT://127.0.0.1:${ports.sasl}`,
    'advertised.listeners': `PLAINTEXT://127.0.0.1:${ports.plain},SASL_PLAINTEXT://127.0.0.1:${ports.sasl}`,
    'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT',
    'sasl.enabled.mechanisms': 'SCRAM-SHA-512',
    'listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config': 'org.apache.kafka.common.security.scram.ScramLoginModule required;',
    'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
    'allow.everyone.if.no.acl.found': 'false',
    'super.users': superUsers.join(';'),
  };
}

/** `kafka-storage format` arguments creating one SCRAM-SHA-512 credential per user. */
export function scramFormatArguments(users: Readonly<Record<string, string>>): string[] {
  return Object.entries(users).flatMap(([name, password]) => ['--add-scram', `SCRAM-SHA-512=[name=${name},password=${password}]`]);
}
