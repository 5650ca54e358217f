// Each Ledger's Kafka through the admin API: the connection built from its spec (TLS and SASL material read
// from the Secrets it names), its topics created and the transactions topic grown, never shrunk, and, only
// when the spec says so, deleted with the Ledger. One admin connection per Ledger, rebuilt when the
// connection settings change.
import type { KafkaSettings } from '@chainlog/core/config';
import { checkpointTopicSpec, createKafka, ensureTopics, partitionCount } from '@chainlog/core/kafka';
import type { Logger } from '@chainlog/core/logging';
import type { Admin } from 'kafkajs';
import { ADMIN_PRINCIPAL, applyServiceAcls } from '../kafka/acls.js';
import { resourcePath, type KubeJson } from '../kube/kube-json.js';
import { bootstrapServers, minerGroupId } from './render.js';
import type { Ledger, SecretKeyRef } from './types.js';

export interface TopicsObservation {
  /** Partitions of the transactions topic after this pass (undefined: it does not exist). */
  partitions: number | undefined;
  /** What this pass changed, for Events ("created blockchain with 1 partition(s)", "grew ..."). */
  changes: string[];
}

export interface LedgerKafkaPort {
  /** Creates missing topics and grows the transactions topic to `partitions`; throws when Kafka cannot be asked. */
  ensure(ledger: Ledger, partitions: number): Promise<TopicsObservation>;
  /** Reads the transactions topic's partition count; throws when Kafka cannot be asked. */
  read(ledger: Ledger): Promise<number | undefined>;
  deleteTopics(ledger: Ledger): Promise<string[]>;
  forget(key: string): Promise<void>;
  close(): Promise<void>;
}

/** The bounds the operator's own admin connections use (an unreachable Kafka must fail a reconcile fast). */
const CONNECTION_TIMEOUT_MS = 3000;
const REQUEST_TIMEOUT_MS = 10_000;

export class LedgerKafka implements LedgerKafkaPort {
  readonly #admins = new Map<string, { fingerprint: string; admin: Admin; aclsApplied?: boolean }>();

  readonly #kube: KubeJson;
  readonly #logger: Logger;
  readonly #brokersOverride: ((ledger: Ledger) => string | undefined) | undefined;

  constructor(
    kube: KubeJson,
    logger: Logger,
    /** Overrides the bootstrap servers (tests reach a bundled Kafka through a local broker). */
    brokersOverride?: (ledger: Ledger) => string | undefined,
  ) {
    this.#kube = kube;
    this.#logger = logger;
    this.#brokersOverride = brokersOverride;
  }

  async #secret(namespace: string, ref: SecretKeyRef): Promise<string> {
    const secret = await this.#kube.request<{ data?: Record<string, string> }>('GET', resourcePath('v1', 'secrets', namespace, ref.name));
    const data = secret.data?.[ref.key];
    if (data === undefined) throw new Error(`Secret ${namespace}/${ref.name} has no key ${ref.key}`);
    return Buffer.from(data, 'base64').toString('utf8');
  }

  async settings(ledger: Ledger): Promise<KafkaSettings> {
    const { kafka } = ledger.spec;
    const namespace = ledger.metadata.namespace;
    const servers = this.#brokersOverride?.(ledger) ?? bootstrapServers(ledger);
    const settings: KafkaSettings = {
      brokers: servers.split(','),
      clientId: `${kafka.clientIdPrefix ?? 'chainlog'}-operator`,
      connectionTimeoutMs: Math.min(kafka.connectionTimeoutMs ?? CONNECTION_TIMEOUT_MS, CONNECTION_TIMEOUT_MS),
      requestTimeoutMs: Math.min(kafka.requestTimeoutMs ?? REQUEST_TIMEOUT_MS, REQUEST_TIMEOUT_MS),
    };
    const tls = kafka.external?.tls;
    if (tls !== undefined) {
      settings.ssl = {
        rejectUnauthorized: tls.rejectUnauthorized,
        ...(tls.ca ? { ca: await this.#secret(namespace, tls.ca) } : {}),
        ...(tls.clientCert
          ? {
              cert: await this.#secret(namespace, { name: tls.clientCert.name, key: tls.clientCert.certKey }),
              key: await this.#secret(namespace, { name: tls.clientCert.name, key: tls.clientCert.keyKey }),
            }
          : {}),
      };
    }
    // A bundled Kafka with SASL is administered as its super user; the services have their own principals.
    const bundledSasl = kafka.bundled?.sasl;
    if (bundledSasl !== undefined) {
      settings.sasl = { mechanism: 'scram-sha-512', username: ADMIN_PRINCIPAL, password: await this.#secret(namespace, { name: bundledSasl.credentialsSecret, key: ADMIN_PRINCIPAL }) };
    }
    const sasl = kafka.external?.sasl;
    if (sasl !== undefined) {
      settings.sasl = {
        mechanism: sasl.mechanism,
        username: sasl.usernameSecret !== undefined ? await this.#secret(namespace, sasl.usernameSecret) : (sasl.username ?? ''),
        password: await this.#secret(namespace, sasl.passwordSecret),
      };
    }
    return settings;
  }

  async #admin(ledger: Ledger): Promise<Admin> {
    const key = `${ledger.metadata.namespace}/${ledger.metadata.name}`;
    const settings = await this.settings(ledger);
    const fingerprint = JSON.stringify(settings);
    const cached = this.#admins.get(key);
    if (cached?.fingerprint === fingerprint) return cached.admin;
    await this.forget(key);
    const admin = createKafka(settings, this.#logger.child({ ledger: key }), 0).admin();
    try {
      await admin.connect();
    } catch (error) {
      await admin.disconnect().catch(() => undefined);
      throw error;
    }
    this.#admins.set(key, { fingerprint, admin });
    return admin;
  }

  /** Runs fn with the Ledger's admin; a failure drops the connection so the next pass reconnects. */
  async #withAdmin<T>(ledger: Ledger, fn: (admin: Admin) => Promise<T>): Promise<T> {
    const admin = await this.#admin(ledger);
    try {
      return await fn(admin);
    } catch (error) {
      await this.forget(`${ledger.metadata.namespace}/${ledger.metadata.name}`);
      throw error;
    }
  }

  async ensure(ledger: Ledger, partitions: number): Promise<TopicsObservation> {
    const { topics } = ledger.spec;
    const replicationFactor = topics.replicationFactor;
    return this.#withAdmin(ledger, async (admin) => {
      const changes = await ensureTopics(admin, [
        { topic: topics.transactions, partitions, replicationFactor },
        { topic: topics.blockchain, partitions: 1, replicationFactor },
        { topic: topics.audit, partitions: 1, replicationFactor },
        { topic: topics.deadLetter, partitions: 1, replicationFactor },
        // Compacted; made here because a miner may lack the ACL to create it (docs/protocol.md §5.1).
        checkpointTopicSpec(topics.checkpoints, replicationFactor),
      ]);
      await this.#ensureAcls(ledger, admin, changes);
      return { partitions: await partitionCount(admin, topics.transactions), changes };
    });
  }

  /**
   * The services' least-privilege ACLs on a bundled Kafka with SASL (kafka/acls.ts), once per admin connection:
   * creating an ACL that exists changes nothing, and a new connection (an operator restart) applies them again.
   */
  async #ensureAcls(ledger: Ledger, admin: Admin, changes: string[]): Promise<void> {
    if (ledger.spec.kafka.bundled?.sasl === undefined) return;
    const cached = this.#admins.get(`${ledger.metadata.namespace}/${ledger.metadata.name}`);
    if (cached?.aclsApplied === true) return;
    const { topics } = ledger.spec;
    const count = await applyServiceAcls(admin, topics, undefined, minerGroupId(ledger));
    if (cached !== undefined) cached.aclsApplied = true;
    this.#logger.info({ ledger: ledger.metadata.name, acls: count }, 'service ACLs applied');
    // An Event with the first topics, not one per operator restart (re-applying changes nothing).
    if (changes.length > 0) changes.push(`applied ${count} service ACLs`);
  }

  async read(ledger: Ledger): Promise<number | undefined> {
    return this.#withAdmin(ledger, (admin) => partitionCount(admin, ledger.spec.topics.transactions));
  }

  async deleteTopics(ledger: Ledger): Promise<string[]> {
    const { topics } = ledger.spec;
    return this.#withAdmin(ledger, async (admin) => {
      const existing = new Set(await admin.listTopics());
      const names = [topics.transactions, topics.blockchain, topics.audit, topics.deadLetter, topics.checkpoints].filter((name) => existing.has(name));
      if (names.length > 0) await admin.deleteTopics({ topics: names });
      return names;
    });
  }

  async forget(key: string): Promise<void> {
    const cached = this.#admins.get(key);
    this.#admins.delete(key);
    await cached?.admin.disconnect().catch(() => undefined);
  }

  async close(): Promise<void> {
    await Promise.all([...this.#admins.keys()].map((key) => this.forget(key)));
  }
}
