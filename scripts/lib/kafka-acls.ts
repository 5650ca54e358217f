// The test suite's and the development broker's side of Kafka authentication and authorization: broker
// properties for SASL/SCRAM + KRaft's StandardAuthorizer and the format arguments creating the SCRAM users.
// Who may do what (the principals and their ACLs) has one owner, services/operator/src/kafka/acls.ts, which
// the chart's and the operator's bundled Kafka and Docker Compose apply too.
export {
  ADMIN_PRINCIPAL,
  aclEntries,
  applyServiceAcls,
  DEFAULT_PRINCIPALS,
  scramUsers,
  serviceGrants,
  type AclTopics,
  type ServicePrincipals,
} from '../../services/operator/src/kafka/acls.js';

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
