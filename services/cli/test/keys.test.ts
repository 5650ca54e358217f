// Keys and signing in the CLI: key new / key show, tx send --key (and CHAINLOG_KEY_FILE), the
// configuration file npm start writes, and the consensus settings chain tail --kafka / chain verify read.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signerFromSeed, verifyTransactionSignature, type TransactionInput } from '@chainlog/core/protocol';
import { afterAll, describe, expect, it } from 'vitest';
import { withConfigFile } from '../src/config-file.js';
import { consensusParams } from '../src/consensus.js';
import { fakeFetch, run, type Route } from './fixtures.js';

const INGEST = 'http://localhost:8080';
const SEED = '11'.repeat(32);
const PUBLIC_KEY = signerFromSeed(Buffer.from(SEED, 'hex')).publicKey;

const accept: Route = ({ method, url, body }) => {
  if (method !== 'POST' || url !== `${INGEST}/v1/transactions`) return undefined;
  const items = (Array.isArray(body) ? body : [body]) as TransactionInput[];
  if (items.some((item) => item.signature === undefined)) {
    return { status: 400, body: { error: { code: 'signature-required', message: 'transaction: signature is required (REQUIRE_TRANSACTION_SIGNATURES=true)' } } };
  }
  const answer = items.map((item, i) => ({ id: item.id, partition: 0, offset: i }));
  return { status: 202, body: Array.isArray(body) ? { transactions: answer } : answer[0] };
};

describe('chainlog key', () => {
  const dir = mkdtempSync(join(tmpdir(), 'chainlog-keys-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('key new writes an owner-only seed file and prints its public key; never overwrites without --force', async () => {
    const file = join(dir, 'alice.key');
    const created = await run(['key', 'new', file, '--json']);
    expect(created.code, created.stderr).toBe(0);
    const { publicKey } = JSON.parse(created.stdout) as { publicKey: string };
    const seed = readFileSync(file, 'utf8').trim();
    expect(seed).toMatch(/^[0-9a-f]{64}$/);
    expect(signerFromSeed(Buffer.from(seed, 'hex')).publicKey).toBe(publicKey);
    expect(statSync(file).mode & 0o777).toBe(0o600);

    const again = await run(['key', 'new', file]);
    expect(again).toMatchObject({ code: 2, stderr: expect.stringContaining('exists') });
    expect(readFileSync(file, 'utf8').trim()).toBe(seed);
    expect((await run(['key', 'new', file, '--force'])).code).toBe(0);
    expect(readFileSync(file, 'utf8').trim()).not.toBe(seed);
  });

  it('key show prints the public key and refuses a file that is not a key, without echoing it', async () => {
    const shown = await run(['key', 'show', 'k'], { files: { k: `${SEED}\n` } });
    expect(shown).toMatchObject({ code: 0, stdout: `${PUBLIC_KEY}\n` });
    const bad = await run(['key', 'show', 'k'], { files: { k: 'not-a-key-secret' } });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/k is not a key file/);
    expect(bad.stderr).not.toContain('not-a-key-secret');
  });
});

describe('chainlog key ensure', () => {
  const dir = mkdtempSync(join(tmpdir(), 'chainlog-ensure-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('creates missing keys, keeps existing ones, and writes the allow-list of exactly the listed keys', async () => {
    const [m0, m1, client, list] = ['m0.key', 'm1.key', 'client.key', 'allowed'].map((name) => join(dir, name)) as [string, string, string, string];
    writeFileSync(m0, `${SEED}\n`, { mode: 0o600 });
    const first = await run(['key', 'ensure', m0, m1, '--also', client, '--allow-list', list, '--json']);
    expect(first.code, first.stderr).toBe(0);
    const report = JSON.parse(first.stdout) as { publicKeys: string[]; created: string[] };
    expect(report.created).toEqual([m1, client]);
    const m1Key = signerFromSeed(Buffer.from(readFileSync(m1, 'utf8').trim(), 'hex')).publicKey;
    expect(report.publicKeys).toEqual([PUBLIC_KEY, m1Key]);
    expect(readFileSync(list, 'utf8')).toBe(`${PUBLIC_KEY},${m1Key}\n`);
    expect(statSync(m1).mode & 0o777).toBe(0o600);
    expect(statSync(client).mode & 0o777).toBe(0o600);

    const seeds = [m0, m1, client].map((file) => readFileSync(file, 'utf8'));
    const again = await run(['key', 'ensure', m0, m1, '--also', client, '--allow-list', list, '--json']);
    expect((JSON.parse(again.stdout) as { created: string[] }).created).toEqual([]);
    expect([m0, m1, client].map((file) => readFileSync(file, 'utf8'))).toEqual(seeds);
  });

  it('binds the sample accounts (or --accounts) to the --also key in an ACCOUNT_KEYS_FILE the services read', async () => {
    const [miner, client, list, accounts] = ['ak-m.key', 'ak-client.key', 'ak-allowed', 'ak-accounts'].map((name) => join(dir, name)) as [string, string, string, string];
    const result = await run(['key', 'ensure', miner, '--allow-list', list, '--also', client, '--account-keys', accounts, '--json']);
    expect(result.code, result.stderr).toBe(0);
    const clientKey = signerFromSeed(Buffer.from(readFileSync(client, 'utf8').trim(), 'hex')).publicKey;
    expect(readFileSync(accounts, 'utf8')).toBe(`${['alice', 'bob', 'carol', 'dave', 'erin'].map((account) => `${account}=${clientKey}`).join(',')}\n`);
    // What the miners and the auditor make of it: every sample account bound to the client's key only.
    const params = consensusParams({ ALLOWED_MINER_KEYS: PUBLIC_KEY, ENFORCE_BALANCES: 'true', ACCOUNT_KEYS_FILE: accounts }, {});
    expect(params.ledger?.accountKeys).toEqual({ alice: [clientKey], bob: [clientKey], carol: [clientKey], dave: [clientKey], erin: [clientKey] });
    const named = await run(['key', 'ensure', miner, '--also', client, '--account-keys', accounts, '--accounts', 'shop, bank']);
    expect(named.code, named.stderr).toBe(0);
    expect(readFileSync(accounts, 'utf8')).toBe(`shop=${clientKey},bank=${clientKey}\n`);
    const withoutClient = await run(['key', 'ensure', miner, '--account-keys', accounts]);
    expect(withoutClient.code).toBe(2);
    expect(withoutClient.stderr).toMatch(/give --also FILE/);
  });

  it('refuses a file that is not a key, without replacing it', async () => {
    const bad = join(dir, 'bad.key');
    writeFileSync(bad, 'not-a-key-secret');
    const result = await run(['key', 'ensure', bad]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/is not a key file/);
    expect(readFileSync(bad, 'utf8')).toBe('not-a-key-secret');
  });
});

describe('chainlog tx send --key', () => {
  it('signs each transaction (id and timestamp fixed first) so that it verifies', async () => {
    const { fetch, requests } = fakeFetch([accept]);
    const result = await run(['tx', 'send', '--key', 'k', '--from', 'alice', '--to', 'bob', '--amount', '3', '--json'], { fetch, files: { k: SEED } });
    expect(result.code, result.stderr).toBe(0);
    const sent = requests[0]?.body as TransactionInput;
    expect(sent).toMatchObject({ from: 'alice', to: 'bob', amount: 3, publicKey: PUBLIC_KEY });
    expect(sent.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(typeof sent.timestamp).toBe('number');
    expect(verifyTransactionSignature(sent)).toBe(true);
    expect(verifyTransactionSignature({ ...sent, amount: 4 })).toBe(false);
  });

  it('takes the key from CHAINLOG_KEY_FILE, for batches too, keeping given ids', async () => {
    const { fetch, requests } = fakeFetch([accept]);
    const lines = '{"id":"a-1","from":"alice","to":"bob","amount":1}\n{"from":"bob","to":"carol","amount":2}\n';
    const result = await run(['tx', 'send'], { fetch, stdin: lines, stdinIsTTY: false, env: { CHAINLOG_KEY_FILE: 'k' }, files: { k: SEED } });
    expect(result.code, result.stderr).toBe(0);
    const batch = requests[0]?.body as TransactionInput[];
    expect(batch[0]?.id).toBe('a-1');
    expect(batch.every((transaction) => verifyTransactionSignature(transaction))).toBe(true);
  });

  it('without a key, ingest\'s signature-required refusal says how to sign', async () => {
    const { fetch } = fakeFetch([accept]);
    const result = await run(['tx', 'send', '--from', 'alice', '--to', 'bob', '--amount', '3'], { fetch });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/signature is required.*--key FILE.*chainlog key new FILE/);
    expect((await run(['tx', 'send', '--key', 'missing', '--from', 'a', '--to', 'b', '--amount', '1'], { fetch })).stderr).toMatch(
      /cannot read the key file missing: ENOENT/,
    );
  });
});

describe('configuration file and consensus settings', () => {
  const dir = mkdtempSync(join(tmpdir(), 'chainlog-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('puts the file under the environment: --config, else CHAINLOG_CONFIG, else .data/chainlog.env if present', () => {
    const file = join(dir, 'chainlog.env');
    writeFileSync(file, '# npm start\nCHAINLOG_INGEST_URL=http://127.0.0.1:1\nDIFFICULTY=4\nALLOWED_MINER_KEYS=' + 'a'.repeat(64) + '\n');
    expect(withConfigFile(['--config', file], { DIFFICULTY: '7' }, dir)).toMatchObject({ CHAINLOG_INGEST_URL: 'http://127.0.0.1:1', DIFFICULTY: '7' });
    expect(withConfigFile([`--config=${file}`], {}, dir)).toMatchObject({ DIFFICULTY: '4' });
    expect(withConfigFile([], { CHAINLOG_CONFIG: file }, dir)).toMatchObject({ DIFFICULTY: '4' });
    expect(withConfigFile([], {}, dir)).toEqual({});
    expect(() => withConfigFile(['--config', join(dir, 'nope.env')], {}, dir)).toThrow(/cannot read the configuration file .*nope\.env: ENOENT/);
  });

  it('reads consensus as the services do: the default difficulty is the services\' 16, never 0; flags override', () => {
    expect(consensusParams({}, {})).toMatchObject({ minDifficulty: 16, blockReward: 50 });
    expect(consensusParams({ DIFFICULTY: '4', ALLOWED_MINER_KEYS: 'a'.repeat(64) }, {})).toMatchObject({ minDifficulty: 4, allowedMiners: ['a'.repeat(64)] });
    expect(consensusParams({ DIFFICULTY: '4' }, { difficulty: '9' })).toMatchObject({ minDifficulty: 9 });
    expect(() => consensusParams({ ALLOWED_MINER_KEYS: 'zz' }, {})).toThrow(/ALLOWED_MINER_KEYS must list/);
  });
});

describe('CHAINLOG_TOKEN', () => {
  it('is sent as a bearer token to ingest and the auditor', async () => {
    const seen: Array<string | null> = [];
    const fetchSpy = (async (input: string | URL | Request, init?: RequestInit) => {
      seen.push(new Headers(init?.headers).get('authorization'));
      return new Response(JSON.stringify({ id: 'x', partition: 0, offset: 0 }), { status: 202, headers: { 'content-type': 'application/json' } });
    }) as typeof fetch;
    const result = await run(['tx', 'send', '--from', 'a', '--to', 'b', '--amount', '1'], { fetch: fetchSpy, env: { CHAINLOG_TOKEN: 'token-0123456789abcdef' } });
    expect(result.code, result.stderr).toBe(0);
    expect(seen).toEqual(['Bearer token-0123456789abcdef']);
  });
});
