// docker-compose.yml as users run it: `docker compose up --wait` on a real Docker engine, transactions through
// ingest committed with proofs that verify, the ledger rules on (the sample accounts bound to the cli's key, a
// stranger's spend refused), the auditor's index on its volume across a restart, a miner container killed and
// restarted under load with nothing lost or duplicated, and the monitoring profile's Prometheus scraping every
// service with the alert rules.
// Host ports come from the compose file's own variables (20800-20899 here); the project name is our own, so
// a user's `docker compose up` in this directory is left alone. Images: `npm run images` (test:compose runs it).
// Kafka runs SASL/SCRAM with ACLs: the test reads the chain as chainlog-admin and shows what the ACLs deny.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EnvReader, readConsensusConfig } from '@chainlog/core/config';
import { signerFromSeed, type Signer } from '@chainlog/core/protocol';
import { DEFAULT_ACCOUNTS } from '../../services/cli/src/sample-accounts.js';
import { ChainTracker, generateLoad, kafkaClient, ledgerFigures, Outcomes, prng, run, sleep, waitForAgreement, waitForCommit, type ScramLogin } from '../support/chaos.js';
import { committedWithProof, DeployReport, send } from '../support/deploy.js';
import { getJson, REPO_ROOT, waitForHttp } from '../support/processes.js';

const PROJECT = process.env.COMPOSE_TEST_PROJECT ?? 'chainlog-compose-test';
const PORTS = { kafka: 20892, ingest: 20880, auditor: 20882, prometheus: 20890, grafana: 20830 };
const env = {
  ...process.env,
  COMPOSE_PROJECT_NAME: PROJECT,
  KAFKA_HOST_PORT: String(PORTS.kafka),
  INGEST_HOST_PORT: String(PORTS.ingest),
  AUDITOR_HOST_PORT: String(PORTS.auditor),
  PROMETHEUS_HOST_PORT: String(PORTS.prometheus),
  GRAFANA_HOST_PORT: String(PORTS.grafana),
};
const ingestUrl = `http://127.0.0.1:${PORTS.ingest}`;
const auditorUrl = `http://127.0.0.1:${PORTS.auditor}`;
const prometheusUrl = `http://127.0.0.1:${PORTS.prometheus}`;
const brokers = `127.0.0.1:${PORTS.kafka}`;
// Everything but Grafana, which has no local stand-in image (deploy/images/README.md).
const SERVICES = ['kafka-credentials', 'kafka', 'topic-init', 'keys-init', 'ingest', 'miner-0', 'miner-1', 'auditor', 'prometheus'];
/** The consensus the compose file gives its miners and auditor (its defaults, the keys keys-init made), for our own reader. */
const consensusWith = (allowList: string, accountKeys: string) =>
  readConsensusConfig(
    new EnvReader({
      DIFFICULTY: process.env.DIFFICULTY ?? '16',
      BLOCK_REWARD: process.env.BLOCK_REWARD ?? '50',
      ALLOWED_MINER_KEYS: allowList,
      REQUIRE_TRANSACTION_SIGNATURES: 'true',
      ENFORCE_BALANCES: 'true',
      ACCOUNT_KEYS: accountKeys,
      GENESIS_ALLOCATIONS: DEFAULT_ACCOUNTS.map((account) => `${account}=1000000`).join(','),
    }),
  );
/** Reads a file from the stack's volumes through the cli service (it mounts the client key and the allow-list). */
const readVolumeFile = (path: string): Promise<string> => composeOk(['run', '--rm', '--no-deps', '--entrypoint', 'cat', 'cli', path], 120_000).then((text) => text.trim());
const report = new DeployReport('test:compose');

function compose(args: string[], timeoutMs = 300_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return run('docker', ['compose', '--profile', 'monitoring', ...args], timeoutMs, env);
}

async function composeOk(args: string[], timeoutMs?: number): Promise<string> {
  const result = await compose(args, timeoutMs);
  if (result.code !== 0) throw new Error(`docker compose ${args.join(' ')} exited ${result.code}:\n${result.stderr.slice(-3000)}`);
  return result.stdout;
}

/** The error a write by `login` (undefined: anonymous) to `topic` ends with, or 'written'. */
async function writeAs(login: ScramLogin | undefined, topic: string): Promise<string> {
  const producer = kafkaClient(brokers, 'compose-acl-probe', login).producer({ allowAutoTopicCreation: false, retry: { retries: 1 } });
  try {
    await producer.connect();
    await producer.send({ topic, messages: [{ key: 'x', value: '{"forged":"block"}' }] });
    return 'written';
  } catch (error) {
    const { type, message, name } = error as { type?: string; message: string; name?: string };
    return type ?? (/Topic authorization failed/.test(message) ? 'TOPIC_AUTHORIZATION_FAILED' : `${name ?? 'Error'}: ${message}`);
  } finally {
    await producer.disconnect().catch(() => undefined);
  }
}

/** A principal's password, from the volume only its service mounts. */
async function passwordOf(service: string): Promise<string> {
  return (await composeOk(['run', '--rm', '--no-deps', '--entrypoint', 'cat', service, '/etc/chainlog/kafka-sasl/password'], 120_000)).trim();
}

describe('docker compose (docker-compose.yml, unmodified)', () => {
  let tracker: ChainTracker | undefined;
  let allowList = '';
  let accountKeys = '';
  // The cli's key, which keys-init bound the sample accounts to: the one key that may spend from them.
  let client: Signer | undefined;
  let admin: ScramLogin | undefined;

  beforeAll(async () => {
    await compose(['down', '-v', '--remove-orphans'], 180_000);
    await report.scenario('`docker compose up --wait` (Kafka, topic-init, keys-init, ingest, 2 miners, auditor, Prometheus)', async (figures) => {
      await composeOk(['up', '--detach', '--wait', '--wait-timeout', '600', ...SERVICES], 900_000);
      figures.push(`services: ${SERVICES.join(', ')}`);
    });
    await waitForHttp(`${ingestUrl}/readyz`, { timeoutMs: 120_000 });
    allowList = await readVolumeFile('/keys/allowed/allowed-miner-keys');
    accountKeys = await readVolumeFile('/keys/allowed/account-keys');
    client = signerFromSeed(Buffer.from(await readVolumeFile('/keys/client/client.key'), 'hex'));
    admin = { username: 'chainlog-admin', password: await passwordOf('topic-init') };
    tracker = await ChainTracker.follow(brokers, 'blockchain', consensusWith(allowList, accountKeys), admin);
  });

  afterAll(async () => {
    await tracker?.stop();
    if (process.env.COMPOSE_TEST_KEEP !== '1') await compose(['down', '-v', '--remove-orphans'], 300_000);
    report.print(process.env.COMPOSE_REPORT);
  });

  it('commits transactions sent through ingest, with inclusion proofs that verify', async () => {
    await report.scenario('transactions through ingest committed, proofs verified', async (figures) => {
      const batch = Array.from({ length: 10 }, (_, i) => ({ id: `compose-${Date.now()}-${i}`, from: DEFAULT_ACCOUNTS[i % 5] as string, to: 'shop', amount: i + 1 }));
      const accepted = await send(ingestUrl, batch, client);
      expect(new Set(accepted.map((a) => a.partition)).size).toBe(2);
      for (const { id } of accepted) await committedWithProof(auditorUrl, id);
      figures.push(`${accepted.length} transactions over 2 partitions`);
    });
  });

  it('is permissioned by default: two generated miner keys, each miner holding only its own, unsigned transactions refused', async () => {
    await report.scenario('permissioned by default (keys-init): allow-list of 2 keys, one key per miner, unsigned refused', async (figures) => {
      const keys = allowList.split(',');
      expect(keys).toHaveLength(2);
      for (const key of keys) expect(key).toMatch(/^[0-9a-f]{64}$/);
      for (const miner of ['miner-0', 'miner-1']) {
        // Its own key and the public lists (allow-list, account bindings), nothing else: not the other miner's key,
        // not the client's.
        const files = (await composeOk(['exec', '-T', miner, 'find', '/keys', '-type', 'f'])).trim().split(/\s+/).sort();
        expect(files, miner).toEqual(['/keys/allowed/account-keys', '/keys/allowed/allowed-miner-keys', '/keys/miner/miner.key']);
      }
      const unsigned = await fetch(`${ingestUrl}/v1/transactions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ from: 'alice', to: 'bob', amount: 1 }) });
      expect(unsigned.status).toBe(400);
      expect(((await unsigned.json()) as { error: { code: string } }).error.code).toBe('signature-required');
      if (!tracker) throw new Error('no chain reader');
      const signers = new Set(tracker.blocks.slice(1).flatMap((block) => (block.minerPublicKey === undefined ? [] : [block.minerPublicKey])));
      figures.push(`allow-list ${keys.map((key) => key.slice(0, 8)).join(', ')}; block signers seen: ${[...signers].map((key) => key.slice(0, 8)).join(', ') || 'none yet'}`);
      expect(signers.size).toBeGreaterThan(0);
      for (const signer of signers) expect(keys).toContain(signer);
    });
  });

  it('runs Kafka with SASL/SCRAM and ACLs: each service only its own password, denied writes denied, anonymous refused', async () => {
    await report.scenario('Kafka SASL/SCRAM + ACLs: forged writes denied, anonymous and wrong passwords refused', async (figures) => {
      // Each service container holds exactly one Kafka password, its own (not the broker's, not another's).
      const passwords: Record<string, string> = {};
      for (const [service, user] of [['ingest', 'chainlog-ingest'], ['miner-0', 'chainlog-miner'], ['auditor', 'chainlog-auditor']] as const) {
        const files = (await composeOk(['exec', '-T', service, 'find', '/etc/chainlog/kafka-sasl', '-type', 'f'])).trim().split(/\s+/);
        expect(files, service).toEqual(['/etc/chainlog/kafka-sasl/password']);
        passwords[user] = (await composeOk(['exec', '-T', service, 'cat', '/etc/chainlog/kafka-sasl/password'])).trim();
      }
      expect(new Set(Object.values(passwords)).size).toBe(3);
      const as = (user: string): ScramLogin => ({ username: user, password: passwords[user] as string });
      const outcomes = {
        'ingest -> blockchain': await writeAs(as('chainlog-ingest'), 'blockchain'),
        'auditor -> blockchain': await writeAs(as('chainlog-auditor'), 'blockchain'),
        'miner -> transactions': await writeAs(as('chainlog-miner'), 'transactions'),
        'ingest -> audit': await writeAs(as('chainlog-ingest'), 'audit'),
      };
      figures.push(Object.entries(outcomes).map(([what, outcome]) => `${what}: ${outcome}`).join('; '));
      for (const outcome of Object.values(outcomes)) expect(outcome).toBe('TOPIC_AUTHORIZATION_FAILED');
      // The cli's read-only principal reads the chain straight from Kafka, and cannot write it.
      const reader: ScramLogin = { username: 'chainlog-reader', password: (await composeOk(['run', '--rm', '--no-deps', '--entrypoint', 'cat', 'cli', '/etc/chainlog/kafka-sasl/password'], 120_000)).trim() };
      expect(await writeAs(reader, 'blockchain')).toBe('TOPIC_AUTHORIZATION_FAILED');
      const tail = await composeOk(['run', '--rm', '--no-deps', 'cli', 'chain', 'tail', '-n', '1', '--kafka', '--json'], 180_000);
      expect(tail).toMatch(/"hash":\s*"[0-9a-f]{64}"/);
      figures.push('cli as chainlog-reader: `chain tail --kafka` read the chain, its write to blockchain denied');
      // The granted write works with the same client code: the denials above are the ACLs.
      expect(await writeAs(as('chainlog-ingest'), 'transactions')).toBe('written');
      const wrong = await writeAs({ username: 'chainlog-ingest', password: 'not-the-password-at-all' }, 'transactions');
      const anonymous = await writeAs(undefined, 'blockchain');
      figures.push(`wrong password: ${wrong.slice(0, 90)}; anonymous: ${anonymous.slice(0, 90)}`);
      expect(wrong).toMatch(/authentication failed/i);
      expect(anonymous).not.toBe('written');
      expect(anonymous).not.toBe('TOPIC_AUTHORIZATION_FAILED');
    });
  });

  it('enforces the ledger rules as npm start does: the sample accounts belong to the cli key; a stranger\'s spend and an overdraft are refused', async () => {
    await report.scenario('ledger rules on (ENFORCE_BALANCES, keys-init\'s account-keys): bound spend committed, stranger and overdraft refused', async (figures) => {
      expect(accountKeys.split(',').sort()).toEqual(DEFAULT_ACCOUNTS.map((account) => `${account}=${client?.publicKey}`).sort());
      const stamp = Date.now();
      // send()'s default key (the tests' CLIENT_SIGNER) is not the key bob is bound to: ingest refuses it at the door.
      const stranger = await send(ingestUrl, [{ id: `compose-stranger-${stamp}`, from: 'bob', to: 'mallory', amount: 1 }]).then(
        () => 'acknowledged',
        (error: Error) => error.message,
      );
      expect(stranger).toMatch(/^ingest answered 403: .*"code":"unauthorized"/);
      // carol has 1 000 000, not 2 000 000: ingest cannot know balances, the miners refuse it.
      const [overdraft] = await send(ingestUrl, [{ id: `compose-overdraft-${stamp}`, from: 'carol', to: 'mallory', amount: 2_000_000 }], client);
      const [bound] = await send(ingestUrl, [{ id: `compose-bound-${stamp}`, from: 'dave', to: 'erin', amount: 5 }], client);
      await committedWithProof(auditorUrl, bound!.id, 180_000);
      const reasons: string[] = ['unauthorized (ingest, 403)'];
      for (const refused of [overdraft!]) {
        const deadline = Date.now() + 180_000;
        for (;;) {
          const { body } = await getJson<{ status: string; reason?: string }>(`${auditorUrl}/v1/transactions/${encodeURIComponent(refused.id)}`);
          if (body.status === 'dropped') {
            reasons.push(body.reason ?? '(none)');
            break;
          }
          if (Date.now() > deadline) throw new Error(`${refused.id} not refused within 180 s: ${JSON.stringify(body)}`);
          await sleep(1000);
        }
      }
      figures.push(`refused: ${reasons.join(', ')}; dave -> erin committed`);
      expect(reasons).toEqual(['unauthorized (ingest, 403)', 'insufficient-funds']);
    });
  });

  it('keeps the auditor\'s data directory on its volume, writable by the service user, across a restart', async () => {
    await report.scenario('auditor: DATA_DIR on the auditor-data volume (owner 10001), same chain after a restart', async (figures) => {
      const mount = (await composeOk(['exec', '-T', 'auditor', 'sh', '-c', 'stat -c "%u %a" /var/lib/chainlog/auditor && touch /var/lib/chainlog/auditor/.probe && echo writable'])).trim();
      expect(mount).toMatch(/^10001 \d+\s+writable$/);
      const before = (await getJson<{ height: number; hash: string }>(`${auditorUrl}/v1/chain/head`)).body;
      await composeOk(['restart', 'auditor'], 180_000);
      await waitForHttp(`${auditorUrl}/readyz`, { timeoutMs: 180_000 });
      const probe = (await composeOk(['exec', '-T', 'auditor', 'ls', '-a', '/var/lib/chainlog/auditor'])).split(/\s+/);
      expect(probe).toContain('.probe');
      const after = (await getJson<{ height: number; hash: string }>(`${auditorUrl}/v1/chain/head`)).body;
      expect(after.height).toBeGreaterThanOrEqual(before.height);
      figures.push(`${mount.replace(/\s+/g, ' ')}; head ${before.height} before, ${after.height} after the restart; the volume kept its files`);
    });
  });

  it("serves the explorer from the auditor's image at /, with its script bundle and a CSP without eval", async () => {
    await report.scenario('explorer served by the auditor container (index, bundle, CSP)', async (figures) => {
      const page = await fetch(`${auditorUrl}/`);
      expect(page.status).toBe(200);
      const csp = page.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toContain('unsafe-eval');
      const html = await page.text();
      expect(html).toContain('<title>Chainlog explorer</title>');
      // The built index names its hashed bundle: the image holds the built explorer, not the sources.
      const bundle = /<script[^>]+src="([^"]+\.js)"/.exec(html)?.[1];
      expect(bundle, html).toBeDefined();
      const script = await fetch(new URL(bundle as string, `${auditorUrl}/`));
      expect(script.status).toBe(200);
      expect(script.headers.get('content-type')).toMatch(/javascript/);
      figures.push(`index ${html.length} B, bundle ${(await script.arrayBuffer()).byteLength} B`);
    });
  });

  it('runs the CLI image against the stack: tx send --wait, tx status --proof', async () => {
    await report.scenario('CLI container: `tx send --wait`, `tx status --proof`', async (figures) => {
      const id = `compose-cli-${Date.now()}`;
      const sent = await composeOk(['run', '--rm', '--no-deps', 'cli', 'tx', 'send', '--from', 'alice', '--to', 'bob', '--amount', '3', '--id', id, '--wait', '--json'], 300_000);
      expect(sent).toContain(id);
      const status = await composeOk(['run', '--rm', '--no-deps', 'cli', 'tx', 'status', id, '--proof', '--json'], 300_000);
      expect(status).toContain('committed');
      figures.push('exit 0 both');
    });
  });

  it('loses and duplicates nothing when a miner container is killed and restarted under load', async () => {
    await report.scenario('miner-0 killed (SIGKILL) and restarted under load', async (figures) => {
      const outcomes = new Outcomes();
      const load = generateLoad({
        ingestUrl,
        outcomes,
        count: 600,
        durationMs: 60_000,
        concurrency: 4,
        ratePerSecond: 10,
        idPrefix: `compose-load-${Date.now()}`,
        random: prng(17),
        invalidShare: 0,
        signer: client,
        senders: DEFAULT_ACCOUNTS,
      });
      await sleep(15_000);
      await composeOk(['kill', '-s', 'SIGKILL', 'miner-0']);
      await sleep(10_000);
      await composeOk(['up', '--detach', '--wait', '--no-deps', 'miner-0'], 300_000);
      const sent = await load;
      if (!tracker) throw new Error('no chain reader');
      await waitForCommit(tracker, outcomes, 180_000);
      await waitForAgreement(tracker, auditorUrl, 120_000);
      const ledger = ledgerFigures(tracker.blocks, outcomes);
      figures.push(`sent ${sent}, acknowledged ${ledger.acknowledged}, lost ${ledger.lost}, duplicated ${ledger.duplicated}, blocks ${ledger.blocks}`);
      expect(ledger.acknowledged).toBeGreaterThan(0);
      expect(ledger.lostIds).toEqual([]);
      expect(ledger.duplicatedIds).toEqual([]);
      expect(ledger.refusedCommittedIds).toEqual([]);
    });
  });

  it("scrapes every service from the monitoring profile's Prometheus, with the alert rules loaded", async () => {
    await report.scenario('Prometheus (monitoring profile): every target `up == 1`, rules loaded', async (figures) => {
      const config = parse(readFileSync(join(REPO_ROOT, 'deploy/compose/prometheus.yml'), 'utf8')) as {
        scrape_configs: { static_configs: { targets: string[] }[] }[];
      };
      const expectedTargets = config.scrape_configs.flatMap((job) => job.static_configs.flatMap((s) => s.targets));
      const rules = parse(readFileSync(join(REPO_ROOT, 'deploy/prometheus/chainlog.rules.yaml'), 'utf8')) as { groups: { name: string; rules: unknown[] }[] };
      const deadline = Date.now() + 120_000;
      let up: { metric: { instance: string }; value: [number, string] }[] = [];
      for (;;) {
        up = (await getJson<{ data: { result: typeof up } }>(`${prometheusUrl}/api/v1/query?query=up`)).body.data.result;
        if (up.length >= expectedTargets.length && up.every((sample) => sample.value[1] === '1')) break;
        if (Date.now() > deadline) break;
        await sleep(2000);
      }
      expect(up.map((sample) => sample.metric.instance).sort()).toEqual(expectedTargets.sort());
      expect(up.filter((sample) => sample.value[1] !== '1')).toEqual([]);
      const loaded = (await getJson<{ data: { groups: { name: string; rules: { health: string; lastError?: string }[] }[] } }>(`${prometheusUrl}/api/v1/rules`)).body.data.groups;
      expect(loaded.map((group) => group.name).sort()).toEqual(rules.groups.map((group) => group.name).sort());
      const ruleCount = loaded.reduce((n, group) => n + group.rules.length, 0);
      expect(ruleCount).toBe(rules.groups.reduce((n, group) => n + group.rules.length, 0));
      expect(loaded.flatMap((group) => group.rules).filter((rule) => rule.health === 'err')).toEqual([]);
      figures.push(`${up.length} targets up, ${loaded.length} rule groups / ${ruleCount} rules loaded`);
    });
  });
});
