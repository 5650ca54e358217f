// Security against a real broker configured for it (docs/reliability.md, "Security"):
// - Kafka TLS and SASL/SCRAM-SHA-512: a broker of its own with a SASL_SSL listener (a SCRAM credential created
//   at format time) and an SSL listener that requires client certificates, both on a CA made here with openssl
//   and keytool. Ingest (secrets from *_FILE) and a miner (secrets from the environment) talk SASL_SSL, the
//   auditor mutual TLS: a transaction gets through. Wrong credentials, an untrusted CA, a missing client
//   certificate fail with a clear error; both a secret and its _FILE is a configuration error.
// - No secret in any log line or HTTP answer, with every service at LOG_LEVEL=debug.
// - Ed25519 transaction signatures enforced at ingest (REQUIRE_TRANSACTION_SIGNATURES) and by consensus
//   (REQUIRE_TRANSACTION_SIGNATURES); permissioned blocks: only the allowed key's blocks count.
// - The dependency audit CI calls (scripts/audit-deps.sh) fails on high/critical advisories.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type RunningBroker } from '../scripts/lib/kafka-broker.js';
import { allocatePort } from '../scripts/lib/ports.js';
import { signedTransaction } from '../services/auditor/test/support/chain-builder.js';
import { ChainTracker, MINER_SEEDS, produceRaw, sleep, Stack } from './support/chaos.js';
import { auditReport, deadLettered, injectForgeries } from './support/chaos-hostile.js';
import { getJson, REPO_ROOT, ServiceProcess } from './support/processes.js';

const USER = 'chainlog';
const PASSWORD = `scram-${randomBytes(12).toString('hex')}`;
const WRONG_PASSWORD = `wrong-${randomBytes(12).toString('hex')}`;
const STORE_PASSWORD = `store-${randomBytes(8).toString('hex')}`;

interface Pki {
  dir: string;
  ca: string;
  otherCa: string;
  clientCert: string;
  clientKey: string;
  keystore: string;
  truststore: string;
}

/** A CA, a broker certificate for 127.0.0.1/localhost in a PKCS12 keystore, a client certificate, a truststore. */
function makePki(dir: string): Pki {
  const run = (command: string, args: string[]): void => void execFileSync(command, args, { cwd: dir, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  run('openssl', ['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=chainlog test CA']);
  run('openssl', ['req', '-x509', ...ec, '-keyout', 'other-ca.key', '-out', 'other-ca.pem', '-days', '2', '-subj', '/CN=someone else']);
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  writeFileSync(join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
  for (const [name, subject] of [
    ['server', '/CN=localhost'],
    ['client', '/CN=chainlog-auditor'],
  ] as const) {
    run('openssl', ['req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject]);
    run('openssl', ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '2', '-extfile', `${name}.ext`]);
  }
  run('openssl', ['pkcs12', '-export', '-in', 'server.pem', '-inkey', 'server.key', '-certfile', 'ca.pem', '-name', 'broker', '-out', 'server.p12', '-passout', `pass:${STORE_PASSWORD}`]);
  run('keytool', ['-importcert', '-noprompt', '-alias', 'ca', '-file', 'ca.pem', '-keystore', 'truststore.p12', '-storetype', 'PKCS12', '-storepass', STORE_PASSWORD]);
  return {
    dir,
    ca: join(dir, 'ca.pem'),
    otherCa: join(dir, 'other-ca.pem'),
    clientCert: join(dir, 'client.pem'),
    clientKey: join(dir, 'client.key'),
    keystore: join(dir, 'server.p12'),
    truststore: join(dir, 'truststore.p12'),
  };
}

describe('security: Kafka TLS and SASL/SCRAM, secrets, signatures', () => {
  const dir = mkdtempSync(join(tmpdir(), 'chainlog-security-'));
  let pki: Pki;
  let broker: RunningBroker;
  let stack: Stack;
  const ports = { plain: 0, controller: 0, saslSsl: 0, ssl: 0 };
  const extra: ServiceProcess[] = [];
  const files = { user: join(dir, 'secrets', 'user'), password: join(dir, 'secrets', 'password'), minerKey: join(dir, 'secrets', 'miner-key') };
  const minerKeyHex = (MINER_SEEDS[0] as Buffer).toString('hex');

  const saslEnv = (password: string | undefined): Record<string, string> => ({
    KAFKA_BROKERS: `127.0.0.1:${ports.saslSsl}`,
    KAFKA_SSL: 'true',
    KAFKA_SASL_MECHANISM: 'scram-sha-512',
    KAFKA_SASL_USERNAME: USER,
    ...(password === undefined ? {} : { KAFKA_SASL_PASSWORD: password }),
  });

  beforeAll(async () => {
    mkdirSync(join(dir, 'secrets'), { recursive: true });
    pki = makePki(dir);
    writeFileSync(files.user, `${USER}\n`);
    writeFileSync(files.password, `${PASSWORD}\n`);
    writeFileSync(files.minerKey, `${minerKeyHex}\n`);
    for (const file of Object.values(files)) chmodSync(file, 0o600);
    ports.plain = await allocatePort();
    ports.controller = await allocatePort();
    ports.saslSsl = await allocatePort();
    ports.ssl = await allocatePort();
    const tls = {
      'ssl.keystore.type': 'PKCS12',
      'ssl.keystore.location': pki.keystore,
      'ssl.keystore.password': STORE_PASSWORD,
      'ssl.key.password': STORE_PASSWORD,
      'ssl.truststore.type': 'PKCS12',
      'ssl.truststore.location': pki.truststore,
      'ssl.truststore.password': STORE_PASSWORD,
    };
    broker = await startBroker({
      dataDir: join(dir, 'kafka'),
      port: ports.plain,
      controllerPort: ports.controller,
      heapMb: 384,
      extraProperties: {
        listeners: `PLAINTEXT://127.0.0.1:${ports.plain},CONTROLLER://127.0.0.1:${ports.controller},SASL_SSL://127.0.0.1:${ports.saslSsl},SSL://127.0.0.1:${ports.ssl}`,
        'advertised.listeners': `PLAINTEXT://127.0.0.1:${ports.plain},SASL_SSL://127.0.0.1:${ports.saslSsl},SSL://127.0.0.1:${ports.ssl}`,
        'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL,SSL:SSL',
        'sasl.enabled.mechanisms': 'SCRAM-SHA-512',
        'listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config': 'org.apache.kafka.common.security.scram.ScramLoginModule required;',
        'listener.name.ssl.ssl.client.auth': 'required',
        ...tls,
      },
      formatArguments: ['--add-scram', `SCRAM-SHA-512=[name=${USER},password=${PASSWORD}]`],
    });
    // The plaintext listener is the test's own back door (topics, the independent reader, the hostile writer).
    stack = new Stack({
      brokers: broker.brokers,
      prefix: 'security',
      partitions: 1,
      miners: 1,
      difficulty: 4,
      permissioned: true,
      requireTransactionSignatures: true,
      supervise: false,
      env: { LOG_LEVEL: 'debug' },
      // Ingest: SASL_SSL, every secret from a file; REQUIRE_TRANSACTION_SIGNATURES at the door.
      ingestEnv: {
        ...saslEnv(undefined),
        KAFKA_SASL_USERNAME: '',
        KAFKA_SASL_USERNAME_FILE: files.user,
        KAFKA_SASL_PASSWORD_FILE: files.password,
        KAFKA_SSL_CA_FILE: pki.ca,
        REQUIRE_TRANSACTION_SIGNATURES: 'true',
      },
      // Miner: SASL_SSL, the password and the CA in the environment, its signing key from a file.
      minerEnv: { ...saslEnv(PASSWORD), KAFKA_SSL_CA: readFileSync(pki.ca, 'utf8'), MINER_PRIVATE_KEY: '', MINER_PRIVATE_KEY_FILE: files.minerKey },
      // Auditor: mutual TLS with a client certificate.
      auditorEnv: {
        KAFKA_BROKERS: `127.0.0.1:${ports.ssl}`,
        KAFKA_SSL: 'true',
        KAFKA_SSL_CA_FILE: pki.ca,
        KAFKA_SSL_CERT_FILE: pki.clientCert,
        KAFKA_SSL_KEY_FILE: pki.clientKey,
      },
    });
    await stack.start();
  }, 240_000);

  afterAll(async () => {
    await Promise.allSettled(extra.map((p) => p.dispose()));
    await stack?.dispose();
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  const post = async (body: unknown): Promise<{ status: number; body: { id?: string; error?: { code: string } } }> => {
    const response = await fetch(`${stack.ingestUrl}/v1/transactions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: response.status, body: (await response.json()) as { id?: string; error?: { code: string } } };
  };
  const committed = async (id: string, timeoutMs = 60_000): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { body } = await getJson<{ status: string }>(`${stack.auditorUrl}/v1/transactions/${encodeURIComponent(id)}`);
      if (body.status === 'committed') return;
      if (Date.now() > deadline) throw new Error(`${id} is ${body.status}, not committed`);
      await sleep(250);
    }
  };

  it('commits a signed transaction through SASL_SSL (ingest, miner) and mutual TLS (auditor); ingest enforces signatures', async () => {
    const signed = signedTransaction(`secure-${Date.now()}`, 'carol', 'dave', 7, Date.now());
    const accepted = await post(signed);
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(202);
    await committed(signed.id);

    expect((await post({ id: `unsigned-${Date.now()}`, from: 'carol', to: 'dave', amount: 1 })).body.error?.code).toBe('signature-required');
    const forged = { ...signedTransaction(`forged-${Date.now()}`, 'carol', 'dave', 7, Date.now()), amount: 700 };
    expect(await post(forged)).toMatchObject({ status: 400, body: { error: { code: 'invalid-signature' } } });
  }, 120_000);

  it('consensus requires signatures and the allowed signer: unsigned transactions are dead-lettered, forged blocks rejected', async () => {
    // Straight to the topic (past ingest's check): the miner must refuse it, and keep mining what follows.
    const unsigned = { id: `bypass-${Date.now()}`, from: 'mallory', to: 'trent', amount: 5 };
    const guard = signedTransaction(`guard-${Date.now()}`, 'carol', 'dave', 1, Date.now());
    const poison = { partition: 0, message: { name: 'unsigned', value: Buffer.from(JSON.stringify(unsigned)) } };
    await produceRaw(broker.brokers, stack.topics.TOPIC_TRANSACTIONS, 0, [poison.message.value, Buffer.from(JSON.stringify(guard))]);
    await committed(guard.id);
    expect((await getJson<{ status: string }>(`${stack.auditorUrl}/v1/transactions/${unsigned.id}`)).body.status).not.toBe('committed');
    const dlq = await deadLettered(stack, [poison]);
    expect(dlq.missing).toEqual([]);
    expect(dlq.reasons.unsigned).toMatch(/requires signed transactions/);

    await sleep(1500);
    const tracker = await ChainTracker.follow(broker.brokers, stack.topics.TOPIC_BLOCKCHAIN, stack.consensus);
    try {
      await tracker.catchUp();
      const wanted = ['unknown signer (permissioned)', 'unsigned block (permissioned)', 'unsigned transaction (signatures required)'];
      const { injected } = await injectForgeries(stack, tracker, { only: (name) => wanted.includes(name) });
      expect(injected.map((f) => [f.name, f.final])).toEqual([
        ['unknown signer (permissioned)', 'unknown-signer'],
        ['unsigned block (permissioned)', 'unsigned'],
        ['unsigned transaction (signatures required)', 'bad-transaction'],
      ]);
      const offsets = injected.flatMap((f) => f.attempts.map((a) => a.offset));
      let audit = await auditReport(stack.auditorUrl);
      for (let i = 0; i < 40 && !offsets.every((o) => audit.rejected.recent.some((r) => r.offset === o)); i++) {
        await sleep(250);
        audit = await auditReport(stack.auditorUrl);
      }
      for (const f of injected) for (const a of f.attempts) expect(audit.rejected.recent.find((r) => r.offset === a.offset)?.reason).toBe(a.reason);
    } finally {
      await tracker.stop();
    }
  }, 120_000);

  it('fails with a clear error on wrong credentials, an untrusted CA or a missing client certificate', async () => {
    const base = { TOPIC_TRANSACTIONS: stack.topics.TOPIC_TRANSACTIONS, TOPIC_BLOCKCHAIN: stack.topics.TOPIC_BLOCKCHAIN, TOPIC_DEAD_LETTER: stack.topics.TOPIC_DEAD_LETTER, TOPIC_AUDIT: stack.topics.TOPIC_AUDIT, LOG_LEVEL: 'debug', KAFKA_CONNECTION_TIMEOUT_MS: '2000' };
    const ingestPort = await allocatePort();
    const wrongIngest = new ServiceProcess('ingest (wrong password)', 'ingest', { ...base, ...saslEnv(WRONG_PASSWORD), KAFKA_SSL_CA_FILE: pki.ca, HTTP_PORT: String(ingestPort) });
    const wrongMiner = new ServiceProcess('miner (wrong password)', 'miner', { ...base, ...stack.consensusEnv, ...saslEnv(WRONG_PASSWORD), KAFKA_SSL_CA_FILE: pki.ca, MINER_PRIVATE_KEY: minerKeyHex, MINER_ID: 'intruder', HTTP_PORT: '0' });
    const untrusted = new ServiceProcess('ingest (untrusted CA)', 'ingest', { ...base, ...saslEnv(PASSWORD), KAFKA_SSL_CA_FILE: pki.otherCa, HTTP_PORT: '0' });
    const noClientCert = new ServiceProcess('auditor (no client certificate)', 'auditor', { ...base, ...stack.consensusEnv, KAFKA_BROKERS: `127.0.0.1:${ports.ssl}`, KAFKA_SSL: 'true', KAFKA_SSL_CA_FILE: pki.ca, HTTP_PORT: '0' });
    const both = new ServiceProcess('ingest (secret twice)', 'ingest', { ...base, ...saslEnv(PASSWORD), KAFKA_SASL_PASSWORD_FILE: files.password, HTTP_PORT: '0' });
    extra.push(wrongIngest, wrongMiner, untrusted, noClientCert, both);
    for (const p of extra) p.start();

    expect(await both.exited).toEqual({ code: 2, signal: null });
    expect(both.output()).toContain('set only one of KAFKA_SASL_PASSWORD and KAFKA_SASL_PASSWORD_FILE');

    const saslError = await wrongIngest.waitForLog((line) => /SASL SCRAM SHA512 authentication failed/.test(JSON.stringify(line)) && line.level === 'error', 60_000, 'a SASL authentication error');
    const refused = await fetch(`http://127.0.0.1:${ingestPort}/v1/transactions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(signedTransaction(`never-${Date.now()}`, 'carol', 'dave', 1, Date.now())),
    });
    expect(refused.status).toBe(503);
    expect((await getJson(`http://127.0.0.1:${ingestPort}/readyz`)).status).toBe(503);

    const minerExit = await Promise.race([wrongMiner.exited, sleep(90_000).then(() => undefined)]);
    expect(minerExit, wrongMiner.tail()).toEqual({ code: 1, signal: null });
    expect(wrongMiner.output()).toMatch(/SASL SCRAM SHA512 authentication failed/);

    const certificateError = await untrusted.waitForLog((line) => /certificate/i.test(JSON.stringify(line)), 60_000, 'a certificate error');
    const tlsError = await noClientCert.waitForLog((line) => /ssl|tls|certificate|handshake|disconnected|ECONNRESET|closed/i.test(JSON.stringify(line)) && (line.level === 'error' || line.level === 'fatal'), 60_000, 'a TLS error');
    const said = (line: { msg: string; [field: string]: unknown }): string => `${line.msg} ${JSON.stringify(line.err ?? line.error ?? line.stack ?? '').slice(0, 160)}`;
    console.info(`wrong password (ingest): ${said(saslError)}\nwrong password (miner): ${wrongMiner.output().match(/.*authentication failed.*/i)?.[0]?.slice(0, 200)}\nuntrusted CA: ${said(certificateError)}\nno client certificate: ${said(tlsError)}`);
  }, 180_000);

  it('never logs or serves a secret, even at LOG_LEVEL=debug', async () => {
    const clientKeyBody = readFileSync(pki.clientKey, 'utf8')
      .split('\n')
      .filter((line) => line !== '' && !line.startsWith('-----'));
    const secrets = [PASSWORD, WRONG_PASSWORD, STORE_PASSWORD, minerKeyHex, ...clientKeyBody];
    const answers = await Promise.all(
      [`${stack.ingestUrl}/readyz`, `${stack.ingestUrl}/metrics`, `${stack.auditorUrl}/readyz`, `${stack.auditorUrl}/metrics`, `${stack.minerUrl(0)}/status`, `${stack.minerUrl(0)}/readyz`, `${stack.minerUrl(0)}/metrics`].map(
        async (url) => `${url}\n${await (await fetch(url)).text()}`,
      ),
    );
    for (const p of [...stack.processes, ...extra]) {
      const output = p.output();
      expect(output.length, `${p.name} logged nothing`).toBeGreaterThan(0);
      for (const secret of secrets) expect(output.includes(secret), `${p.name}'s output contains a secret`).toBe(false);
    }
    for (const answer of answers) for (const secret of secrets) expect(answer.includes(secret), answer.split('\n')[0]).toBe(false);
  });

  it('audits the production dependencies in CI: high or critical fails, an unreachable registry is not a pass', () => {
    const script = join(REPO_ROOT, 'scripts/audit-deps.sh');
    expect(readFileSync(script, 'utf8')).toContain('npm audit --omit=dev --audit-level="$level"');
    const fakeBin = join(dir, 'fake-npm');
    mkdirSync(fakeBin, { recursive: true });
    const withNpm = (report: object, status: number): { status: number | null; output: string } => {
      writeFileSync(join(fakeBin, 'npm'), `#!/bin/sh\ncat <<'JSON'\n${JSON.stringify(report)}\nJSON\nexit ${status}\n`);
      chmodSync(join(fakeBin, 'npm'), 0o755);
      const result = spawnSync('bash', [script], { env: { ...process.env, PATH: `${fakeBin}:${process.env.PATH ?? ''}` }, encoding: 'utf8' });
      return { status: result.status, output: `${result.stdout}${result.stderr}` };
    };
    const counts = (high: number, critical: number) => ({ info: 0, low: 1, moderate: 2, high, critical, total: 3 + high + critical });
    const clean = withNpm({ vulnerabilities: { lodash: { severity: 'moderate' } }, metadata: { vulnerabilities: counts(0, 0) } }, 0);
    expect(clean.status, clean.output).toBe(0);
    const vulnerable = withNpm({ vulnerabilities: { express: { severity: 'critical', range: '<5', via: [{ title: 'RCE', url: 'https://example.test/1' }] } }, metadata: { vulnerabilities: counts(0, 1) } }, 1);
    expect(vulnerable.status).toBe(1);
    expect(vulnerable.output).toContain('critical: express');
    const unreachable = withNpm({ message: '405 Method Not Allowed - POST https://registry.npmjs.org/-/npm/v1/security/advisories/bulk', error: { summary: '' } }, 1);
    expect(unreachable.status).toBe(2);
    expect(unreachable.output).toContain('could not run: 405');
  });
});
