// The miners' Ed25519 keys of a permissioned chain on Kubernetes. Helm has no Ed25519, so the chart runs this
// as a pre-install/pre-upgrade hook Job (`node services/operator/dist/miner-keys.js`) with the project image:
//   - the Secret MINER_KEYS_SECRET holds one private key (32-byte seed, 64 hex digits) per miner, `miner-<i>.key`
//     (or one shared key). Missing keys are generated (MINER_KEYS_GENERATE, default on); a key already there is
//     never replaced or removed: blocks it signed must stay valid.
//   - the ConfigMap MINER_ALLOWLIST_CONFIGMAP holds their public keys under `allowed-miner-keys`, comma-separated:
//     the allow-list every miner and auditor reads (ALLOWED_MINER_KEYS from a configMapKeyRef), and the only
//     part of the keys anything but a miner ever sees.
// The Secret is made by the Job, not by Helm, so `helm uninstall` keeps it (the chain's identity outlives a
// release, like a PVC). Exit codes: 0 done, 1 Kubernetes API failure or unusable keys in the Secret, 2 invalid configuration.
import { CoreV1Api, type KubeConfig, type V1ConfigMap, type V1Secret } from '@kubernetes/client-node';
import { EnvReader, LOG_LEVELS, type LogLevel } from '@chainlog/core/config';
import { createLogger, type Logger } from '@chainlog/core/logging';
import { newSeed, signerFromSeed } from '@chainlog/core/protocol';
import { inClusterNamespace, type KubeAccess, readKubeAccess, readNamespace } from './config.js';
import { isEntryPoint, runAsProgram, runOneShot } from './entry-point.js';
import { describeError, loadKubeConfig, requestOptions, statusOf } from './kube/kube.js';

export const SERVICE_NAME = 'miner-keys';
/** The ConfigMap key holding the allow-list. */
export const ALLOWLIST_KEY = 'allowed-miner-keys';
const SEED = /^[0-9a-fA-F]{64}$/;
const PER_MINER_KEY = /^miner-(\d{1,5})\.key$/;

export interface MinerKeysConfig {
  logLevel: LogLevel;
  namespace: string;
  kube: KubeAccess;
  kubeRequestTimeoutMs: number;
  secret: string;
  configMap: string;
  /** How many miners need a key (perMiner): the most the miner StatefulSet can grow to. */
  count: number;
  generate: boolean;
  perMiner: boolean;
  /** The one key every miner reads when perMiner is false. */
  keyName: string;
}

const DNS_SUBDOMAIN = { regex: /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, description: 'a DNS subdomain name' };
const SECRET_KEY = { regex: /^[-._a-zA-Z0-9]{1,253}$/, description: 'a Secret key (letters, digits, "-", "_", ".")' };

export function readMinerKeysConfig(env: Record<string, string | undefined> = process.env, readNamespaceFile = inClusterNamespace): MinerKeysConfig {
  const reader = new EnvReader(env);
  const kube = readKubeAccess(reader, env);
  const config: MinerKeysConfig = {
    logLevel: reader.oneOf('LOG_LEVEL', LOG_LEVELS, 'info'),
    namespace: readNamespace(reader, kube, readNamespaceFile),
    kube,
    kubeRequestTimeoutMs: reader.integer('KUBE_REQUEST_TIMEOUT_MS', 10_000, { min: 100, max: 300_000 }),
    secret: reader.string('MINER_KEYS_SECRET', '', DNS_SUBDOMAIN),
    configMap: reader.string('MINER_ALLOWLIST_CONFIGMAP', '', DNS_SUBDOMAIN),
    count: reader.integer('MINER_KEY_COUNT', 1, { min: 1, max: 1024 }),
    generate: reader.boolean('MINER_KEYS_GENERATE', true),
    perMiner: reader.boolean('MINER_KEYS_PER_MINER', true),
    keyName: reader.string('MINER_KEY_NAME', 'miner.key', SECRET_KEY),
  };
  reader.done();
  return config;
}

export interface MinerKeysPlan {
  /** Keys to add to the Secret (name -> seed hex). */
  add: Record<string, string>;
  /** Public keys of every miner key the Secret will hold, by ordinal: the allow-list. */
  allowed: string[];
  /** Why the Secret cannot be used as it is (a malformed key, or a missing one that may not be generated). */
  problems: string[];
}

/**
 * What the Secret lacks and the allow-list it then implies (pure). Keys beyond `count` that the Secret already
 * holds stay allowed: a release scaled down keeps the chain its former miners signed valid.
 */
export function planMinerKeys(
  existing: Readonly<Record<string, string>>,
  options: Pick<MinerKeysConfig, 'count' | 'generate' | 'perMiner' | 'keyName'>,
  makeSeed: () => Buffer = newSeed,
): MinerKeysPlan {
  const wanted = options.perMiner ? Array.from({ length: options.count }, (_, ordinal) => `miner-${ordinal}.key`) : [options.keyName];
  const present = Object.keys(existing).filter((name) => (options.perMiner ? PER_MINER_KEY.test(name) : name === options.keyName));
  const names = [...new Set([...wanted, ...present])].sort((a, b) => ordinal(a) - ordinal(b));
  const plan: MinerKeysPlan = { add: {}, allowed: [], problems: [] };
  for (const name of names) {
    let seed = existing[name]?.trim();
    if (seed === undefined) {
      if (!options.generate) {
        plan.problems.push(`the Secret has no key "${name}" and generating keys is off (MINER_KEYS_GENERATE=false): add it (chainlog key new ${name})`);
        continue;
      }
      seed = makeSeed().toString('hex');
      plan.add[name] = seed;
    }
    // Never echo a key, not even a malformed one.
    if (!SEED.test(seed)) plan.problems.push(`the Secret's "${name}" is not an Ed25519 private key (64 hex digits, as chainlog key new writes): fix or remove it`);
    else plan.allowed.push(signerFromSeed(Buffer.from(seed, 'hex')).publicKey);
  }
  return plan;
}

function ordinal(name: string): number {
  const match = PER_MINER_KEY.exec(name);
  return match === null ? -1 : Number(match[1]);
}

const LABELS = { 'app.kubernetes.io/part-of': 'chainlog', 'app.kubernetes.io/component': 'miner-keys', 'app.kubernetes.io/managed-by': 'chainlog-miner-keys' };

const decode = (data: Record<string, string> | undefined): Record<string, string> =>
  Object.fromEntries(Object.entries(data ?? {}).map(([name, value]) => [name, Buffer.from(value, 'base64').toString('utf8')]));
const encode = (data: Record<string, string>): Record<string, string> =>
  Object.fromEntries(Object.entries(data).map(([name, value]) => [name, Buffer.from(`${value}\n`).toString('base64')]));

/** Reads, completes and writes the Secret, then the allow-list ConfigMap; returns the allow-list. */
export async function ensureMinerKeys(kubeConfig: KubeConfig, config: MinerKeysConfig, logger: Logger): Promise<string[]> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const options = requestOptions(config.kubeRequestTimeoutMs);
  const { namespace } = config;
  // A concurrent writer (a second Job, someone adding a key) makes a write conflict: read again and redo.
  for (let attempt = 1; ; attempt++) {
    const secret = await readOptional(() => core.readNamespacedSecret({ name: config.secret, namespace }, options));
    const plan = planMinerKeys(decode(secret?.data), config);
    if (plan.problems.length > 0) throw new KeysError(plan.problems);
    const added = Object.keys(plan.add);
    try {
      if (secret === undefined) {
        const body: V1Secret = { metadata: { name: config.secret, namespace, labels: LABELS }, type: 'Opaque', data: encode(plan.add) };
        await core.createNamespacedSecret({ namespace, body }, options);
      } else if (added.length > 0) {
        // resourceVersion makes the replace fail with 409 if the Secret changed since it was read.
        const body: V1Secret = { ...secret, data: { ...secret.data, ...encode(plan.add) } };
        await core.replaceNamespacedSecret({ name: config.secret, namespace, body }, options);
      }
    } catch (error) {
      if (statusOf(error) === 409 && attempt < 5) continue;
      throw error;
    }
    logger.info({ secret: config.secret, generated: added, keys: plan.allowed.length }, added.length > 0 ? `generated ${added.length} miner key(s)` : 'every miner key was there already');
    await writeAllowList(core, config, plan.allowed, options);
    logger.info({ configMap: config.configMap, allowedMinerKeys: plan.allowed }, `allow-list of ${plan.allowed.length} miner key(s) written`);
    return plan.allowed;
  }
}

async function writeAllowList(core: CoreV1Api, config: MinerKeysConfig, allowed: string[], options: ReturnType<typeof requestOptions>): Promise<void> {
  const { namespace } = config;
  const data = { [ALLOWLIST_KEY]: allowed.join(',') };
  for (let attempt = 1; ; attempt++) {
    const current = await readOptional(() => core.readNamespacedConfigMap({ name: config.configMap, namespace }, options));
    try {
      if (current === undefined) {
        const body: V1ConfigMap = { metadata: { name: config.configMap, namespace, labels: LABELS }, data };
        await core.createNamespacedConfigMap({ namespace, body }, options);
      } else if (current.data?.[ALLOWLIST_KEY] !== data[ALLOWLIST_KEY]) {
        await core.replaceNamespacedConfigMap({ name: config.configMap, namespace, body: { ...current, data: { ...current.data, ...data } } }, options);
      }
      return;
    } catch (error) {
      if (statusOf(error) === 409 && attempt < 5) continue;
      throw error;
    }
  }
}

async function readOptional<T>(read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch (error) {
    if (statusOf(error) === 404) return undefined;
    throw error;
  }
}

/** The Secret holds keys that cannot be used as they are; the Job fails naming them (never their content). */
export class KeysError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
    this.name = 'KeysError';
  }
}

/** Reads the environment, ensures the keys and returns the process exit code. */
export async function run(
  env: Record<string, string | undefined> = process.env,
  makeLogger: (level: LogLevel) => Logger = (level) => createLogger(SERVICE_NAME, level),
): Promise<number> {
  return runOneShot({
    read: () => readMinerKeysConfig(env),
    makeLogger,
    work: (config, logger) => ensureMinerKeys(loadKubeConfig(config.kube), config, logger),
    logFailure: (error, config, logger) => {
      if (error instanceof KeysError) logger.error({ problems: error.problems }, `the miner keys in Secret ${config.secret} cannot be used`);
      else logger.error({ error: describeError(error) }, `could not write the miner keys (Secret ${config.secret}, ConfigMap ${config.configMap})`);
    },
  });
}

if (isEntryPoint(import.meta.url)) runAsProgram(() => run());
