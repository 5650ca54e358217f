// Least privilege on Kafka: what each Chainlog service may do, as ACL bindings for KRaft's StandardAuthorizer
// (authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer, no allow-if-no-ACL). One
// principal per service (SASL/SCRAM users): only the miners write the blockchain and the checkpoints, only
// ingest (and the miners' dead-letter writer) the transactions side, only the auditor the audit topic; each
// reads only what it needs and uses only its own consumer groups. The one table of who may do what: the
// chart's and the operator's bundled Kafka, Docker Compose (provision-topics applies it) and the test suite
// (scripts/lib/kafka-acls.ts) all apply these grants.
import kafkajs, { type Admin, type AclEntry } from 'kafkajs';

// kafkajs is CommonJS and Node's ESM loader cannot see these as named exports: take them from the default export.
const { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes } = kafkajs;

export interface AclTopics {
  transactions: string;
  blockchain: string;
  audit: string;
  deadLetter: string;
  /** The miners' chain checkpoints (replay-window chains only); default `checkpoints`. */
  checkpoints?: string;
}

/** SASL user names of the services (the principal is User:<name>). */
export interface ServicePrincipals {
  ingest: string;
  miner: string;
  auditor: string;
  /** Read-only: people and the CLI reading the chain from Kafka (`chain tail --kafka`, `chain verify`, kcat). */
  reader: string;
}

export const DEFAULT_PRINCIPALS: ServicePrincipals = { ingest: 'chainlog-ingest', miner: 'chainlog-miner', auditor: 'chainlog-auditor', reader: 'chainlog-reader' };

/**
 * The administrator of a bundled Kafka (a super user: no grant applies to it): the operator and the topic
 * provisioning create topics and apply these ACLs with it. Its password never reaches a service.
 */
export const ADMIN_PRINCIPAL = 'chainlog-admin';
/** The brokers' and controllers' own identity on their internal listeners (SASL/PLAIN; a super user). */
export const BROKER_PRINCIPAL = 'broker';

/** Every SCRAM user a bundled Kafka is formatted with: the services' and the administrator. */
export function scramUsers(principals: ServicePrincipals = DEFAULT_PRINCIPALS): string[] {
  return [ADMIN_PRINCIPAL, principals.ingest, principals.miner, principals.auditor, principals.reader];
}

type Operation = 'READ' | 'WRITE' | 'DESCRIBE' | 'IDEMPOTENT_WRITE';

export interface Grant {
  principal: string;
  resource: 'TOPIC' | 'GROUP' | 'CLUSTER';
  name: string;
  prefixed?: boolean;
  operations: Operation[];
}

/** The grants, readable: who may do what on which topic or group. */
export function serviceGrants(topics: AclTopics, principals: ServicePrincipals = DEFAULT_PRINCIPALS, minerGroup = 'chainlog-miners'): Grant[] {
  const { ingest, miner, auditor, reader } = principals;
  const checkpoints = topics.checkpoints ?? 'checkpoints';
  return [
    // ingest: appends transactions (idempotent producer); reads the topic's metadata for the partition count.
    { principal: ingest, resource: 'TOPIC', name: topics.transactions, operations: ['WRITE', 'DESCRIBE'] },
    { principal: ingest, resource: 'CLUSTER', name: 'kafka-cluster', operations: ['IDEMPOTENT_WRITE'] },
    // …and the miners' committed offsets, for its mining-backlog check (docs/architecture.md, "Mining backlog").
    { principal: ingest, resource: 'GROUP', name: minerGroup, operations: ['DESCRIBE'] },
    // miners: consume transactions in their group, write dead letters, read and write the blockchain and the
    // checkpoints; their chain readers, checkpoint readers and verifiers use groups of their own prefixes
    // (services/core/src/kafka: topic readers take a prefix and add a random suffix).
    { principal: miner, resource: 'TOPIC', name: topics.transactions, operations: ['READ', 'DESCRIBE'] },
    { principal: miner, resource: 'TOPIC', name: topics.deadLetter, operations: ['WRITE', 'DESCRIBE'] },
    { principal: miner, resource: 'TOPIC', name: topics.blockchain, operations: ['READ', 'WRITE', 'DESCRIBE'] },
    { principal: miner, resource: 'TOPIC', name: checkpoints, operations: ['READ', 'WRITE', 'DESCRIBE'] },
    { principal: miner, resource: 'CLUSTER', name: 'kafka-cluster', operations: ['IDEMPOTENT_WRITE'] },
    { principal: miner, resource: 'GROUP', name: minerGroup, operations: ['READ', 'DESCRIBE'] },
    { principal: miner, resource: 'GROUP', name: 'chainlog-miner-chain-', prefixed: true, operations: ['READ'] },
    { principal: miner, resource: 'GROUP', name: 'chainlog-sources', prefixed: true, operations: ['READ'] },
    { principal: miner, resource: 'GROUP', name: 'chainlog-background-verifier', prefixed: true, operations: ['READ'] },
    { principal: miner, resource: 'GROUP', name: 'chainlog-checkpoint-', prefixed: true, operations: ['READ'] },
    // auditor: reads the blockchain, the checkpoints and the transactions (pending), writes and reads its audit
    // topic, and describes the miners' group for the commit lag.
    { principal: auditor, resource: 'TOPIC', name: topics.blockchain, operations: ['READ', 'DESCRIBE'] },
    { principal: auditor, resource: 'TOPIC', name: topics.transactions, operations: ['READ', 'DESCRIBE'] },
    { principal: auditor, resource: 'TOPIC', name: checkpoints, operations: ['READ', 'DESCRIBE'] },
    { principal: auditor, resource: 'TOPIC', name: topics.audit, operations: ['READ', 'WRITE', 'DESCRIBE'] },
    { principal: auditor, resource: 'CLUSTER', name: 'kafka-cluster', operations: ['IDEMPOTENT_WRITE'] },
    { principal: auditor, resource: 'GROUP', name: 'chainlog-auditor', prefixed: true, operations: ['READ', 'DESCRIBE'] },
    { principal: auditor, resource: 'GROUP', name: 'chainlog-sources', prefixed: true, operations: ['READ'] },
    { principal: auditor, resource: 'GROUP', name: 'chainlog-background-verifier', prefixed: true, operations: ['READ'] },
    { principal: auditor, resource: 'GROUP', name: 'chainlog-checkpoint-', prefixed: true, operations: ['READ'] },
    { principal: auditor, resource: 'GROUP', name: minerGroup, operations: ['DESCRIBE'] },
    // reader: the chain and what it refers to, read only, in the CLI's own groups (never the services').
    { principal: reader, resource: 'TOPIC', name: topics.blockchain, operations: ['READ', 'DESCRIBE'] },
    { principal: reader, resource: 'TOPIC', name: topics.transactions, operations: ['READ', 'DESCRIBE'] },
    { principal: reader, resource: 'TOPIC', name: checkpoints, operations: ['READ', 'DESCRIBE'] },
    { principal: reader, resource: 'GROUP', name: 'chainlog-cli-', prefixed: true, operations: ['READ'] },
    { principal: reader, resource: 'GROUP', name: 'chainlog-verify', prefixed: true, operations: ['READ'] },
    { principal: reader, resource: 'GROUP', name: 'chainlog-checkpoint-', prefixed: true, operations: ['READ'] },
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

/** Creates the grants (creating an ACL that exists changes nothing, so this is safe to repeat); returns how many. */
export async function applyServiceAcls(admin: Admin, topics: AclTopics, principals: ServicePrincipals = DEFAULT_PRINCIPALS, minerGroup?: string): Promise<number> {
  const acl = aclEntries(serviceGrants(topics, principals, minerGroup));
  await admin.createAcls({ acl });
  return acl.length;
}
