// The SASL credentials of a bundled Kafka on Kubernetes, generated once. Like the miner keys (miner-keys.ts),
// the chart runs this as a pre-install/pre-upgrade hook Job with the project image
// (`node services/operator/dist/kafka-credentials.js`): the Secret KAFKA_CREDENTIALS_SECRET gets one random
// password per key that is missing, `broker` (the brokers' own identity on their controller and inter-broker
// listeners) and one per SCRAM user (kafka/acls.ts: the administrator, each service and the read-only reader). A password already
// there is never replaced: the broker formatted its storage with it (kafka-storage format --add-scram), so a
// silent rotation would lock every service out. The Secret is the Job's, not Helm's: `helm uninstall` keeps it
// with the Kafka volume it belongs to. Exit codes: 0 done, 1 Kubernetes API failure or an unusable password,
// 2 invalid configuration.
import { randomBytes } from 'node:crypto';
import { CoreV1Api, type KubeConfig, type V1Secret } from '@kubernetes/client-node';
import { EnvReader, LOG_LEVELS, type LogLevel } from '@chainlog/core/config';
import { createLogger, type Logger } from '@chainlog/core/logging';
import { inClusterNamespace, type KubeAccess, readKubeAccess, readNamespace } from './config.js';
import { isEntryPoint, runAsProgram, runOneShot } from './entry-point.js';
import { BROKER_PRINCIPAL, scramUsers } from './kafka/acls.js';
import { describeError, loadKubeConfig, requestOptions, statusOf } from './kube/kube.js';

export const SERVICE_NAME = 'kafka-credentials';
/**
 * What a password may contain: it is written into a JAAS line and a `--add-scram` argument, where quotes,
 * commas, brackets and `=` would break the syntax.
 */
const PASSWORD = /^[A-Za-z0-9._~-]{16,256}$/;

/** The Secret's keys: the broker's own password, then one per SCRAM user (the key is the user name). */
export function credentialKeys(): string[] {
  return [BROKER_PRINCIPAL, ...scramUsers()];
}

export function newPassword(): string {
  return randomBytes(24).toString('hex');
}

export interface CredentialsPlan {
  add: Record<string, string>;
  problems: string[];
}

/** What the Secret lacks (pure); a malformed password is named, never echoed, never replaced. */
export function planCredentials(existing: Readonly<Record<string, string>>, generate: boolean, makePassword: () => string = newPassword): CredentialsPlan {
  const plan: CredentialsPlan = { add: {}, problems: [] };
  for (const key of credentialKeys()) {
    const current = existing[key]?.trim();
    if (current === undefined) {
      if (generate) plan.add[key] = makePassword();
      else plan.problems.push(`the Secret has no key "${key}" and generating is off (KAFKA_CREDENTIALS_GENERATE=false): add one (16-256 of A-Z a-z 0-9 . _ ~ -)`);
    } else if (!PASSWORD.test(current)) {
      plan.problems.push(`the Secret's "${key}" is not a usable password (16-256 of A-Z a-z 0-9 . _ ~ -): fix it`);
    }
  }
  return plan;
}

export interface CredentialsConfig {
  logLevel: LogLevel;
  namespace: string;
  kube: KubeAccess;
  kubeRequestTimeoutMs: number;
  secret: string;
  generate: boolean;
}

const DNS_SUBDOMAIN = { regex: /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, description: 'a DNS subdomain name' };

export function readCredentialsConfig(env: Record<string, string | undefined> = process.env, readNamespaceFile = inClusterNamespace): CredentialsConfig {
  const reader = new EnvReader(env);
  const kube = readKubeAccess(reader, env);
  const config: CredentialsConfig = {
    logLevel: reader.oneOf('LOG_LEVEL', LOG_LEVELS, 'info'),
    namespace: readNamespace(reader, kube, readNamespaceFile),
    kube,
    kubeRequestTimeoutMs: reader.integer('KUBE_REQUEST_TIMEOUT_MS', 10_000, { min: 100, max: 300_000 }),
    secret: reader.string('KAFKA_CREDENTIALS_SECRET', '', DNS_SUBDOMAIN),
    generate: reader.boolean('KAFKA_CREDENTIALS_GENERATE', true),
  };
  reader.done();
  return config;
}

const LABELS = { 'app.kubernetes.io/part-of': 'chainlog', 'app.kubernetes.io/component': 'kafka-credentials', 'app.kubernetes.io/managed-by': 'chainlog-kafka-credentials' };
const decode = (data: Record<string, string> | undefined): Record<string, string> =>
  Object.fromEntries(Object.entries(data ?? {}).map(([name, value]) => [name, Buffer.from(value, 'base64').toString('utf8')]));
const encode = (data: Record<string, string>): Record<string, string> =>
  Object.fromEntries(Object.entries(data).map(([name, value]) => [name, Buffer.from(value).toString('base64')]));

/** Reads, completes (never changes) and writes the Secret; returns the keys it added. */
export async function ensureCredentials(kubeConfig: KubeConfig, config: CredentialsConfig, logger: Logger): Promise<string[]> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const options = requestOptions(config.kubeRequestTimeoutMs);
  const { namespace, secret: name } = config;
  for (let attempt = 1; ; attempt++) {
    let secret: V1Secret | undefined;
    try {
      secret = await core.readNamespacedSecret({ name, namespace }, options);
    } catch (error) {
      if (statusOf(error) !== 404) throw error;
    }
    const plan = planCredentials(decode(secret?.data), config.generate);
    if (plan.problems.length > 0) throw new CredentialsError(plan.problems);
    const added = Object.keys(plan.add);
    try {
      if (secret === undefined) {
        await core.createNamespacedSecret({ namespace, body: { metadata: { name, namespace, labels: LABELS }, type: 'Opaque', data: encode(plan.add) } }, options);
      } else if (added.length > 0) {
        // resourceVersion makes the replace fail with 409 if the Secret changed since it was read.
        await core.replaceNamespacedSecret({ name, namespace, body: { ...secret, data: { ...secret.data, ...encode(plan.add) } } }, options);
      }
    } catch (error) {
      if (statusOf(error) === 409 && attempt < 5) continue;
      throw error;
    }
    logger.info({ secret: name, generated: added }, added.length > 0 ? `generated ${added.length} Kafka password(s)` : 'every Kafka password was there already');
    return added;
  }
}

export class CredentialsError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
    this.name = 'CredentialsError';
  }
}

export async function run(
  env: Record<string, string | undefined> = process.env,
  makeLogger: (level: LogLevel) => Logger = (level) => createLogger(SERVICE_NAME, level),
): Promise<number> {
  return runOneShot({
    read: () => readCredentialsConfig(env),
    makeLogger,
    work: (config, logger) => ensureCredentials(loadKubeConfig(config.kube), config, logger),
    logFailure: (error, config, logger) => {
      if (error instanceof CredentialsError) logger.error({ problems: error.problems }, `the Kafka credentials in Secret ${config.secret} cannot be used`);
      else logger.error({ error: describeError(error) }, `could not write the Kafka credentials (Secret ${config.secret})`);
    },
  });
}

if (isEntryPoint(import.meta.url)) runAsProgram(() => run());
