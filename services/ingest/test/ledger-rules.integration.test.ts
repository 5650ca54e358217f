// Ledger rules at the door (#19, docs/protocol.md §4.4), against the real broker: with ENFORCE_BALANCES a
// transaction whose signer is not bound to its sender gets 403 unauthorized and nothing is written, while
// one signed by a bound key (a named account's ACCOUNT_KEYS entry, or the key a key account names) is
// accepted. Balances are not checked at the door: an overdraft is acknowledged, the miner refuses it.
import { createHash } from 'node:crypto';
import { ensureTopics } from '@chainlog/core/kafka';
import { signerFromSeed, signTransaction, type Transaction } from '@chainlog/core/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, testKafka, uniqueTopic } from '../../../test/support/kafka.js';
import { getJson, metricValue, post, startIngest, topicEnd, type RunningIngest } from './helpers.js';

const kafka = testKafka();
const topic = uniqueTopic('ingest-ledger');
const seed = (label: string): Buffer => createHash('sha256').update(label).digest();
const alice = signerFromSeed(seed('ingest ledger alice'));
const mallory = signerFromSeed(seed('ingest ledger mallory'));
const miner = signerFromSeed(seed('ingest ledger miner'));
let ingest: RunningIngest;

beforeAll(async () => {
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [{ topic, partitions: 2 }]);
  await admin.disconnect();
  ingest = await startIngest({
    TOPIC_TRANSACTIONS: topic,
    ALLOWED_MINER_KEYS: miner.publicKey,
    ENFORCE_BALANCES: 'true',
    ACCOUNT_KEYS: `alice=${alice.publicKey}`,
    GENESIS_ALLOCATIONS: 'alice=10',
  });
  await eventually(async () => expect((await getJson(`${ingest.url}/readyz`)).status).toBe(200), 30_000);
});

afterAll(async () => {
  await ingest?.stop();
});

const transfer = (id: string, from: string, amount = 3): Omit<Transaction, 'publicKey' | 'signature'> => ({
  id,
  from,
  to: 'bob',
  amount,
  timestamp: Date.now(),
});

describe('ingest with ledger rules', () => {
  it('refuses a spend its signer is not bound to with 403 unauthorized, and writes nothing', async () => {
    const endBefore = await topicEnd(kafka, topic);
    const rejectedBefore = await metricValue(ingest.registry, 'chainlog_ingest_transactions_rejected_total', { reason: 'unauthorized' });
    const cases = [
      ['mallory signs "from alice" with her own key', signTransaction(transfer(uniqueTopic('theft'), 'alice'), mallory), 'is signed by'],
      ['unsigned from alice', transfer(uniqueTopic('unsigned'), 'alice'), 'is not signed'],
      ["mallory spends from alice's key account", signTransaction(transfer(uniqueTopic('key'), alice.publicKey), mallory), 'is signed by'],
      ['from an account bound to no key', signTransaction(transfer(uniqueTopic('nobody'), 'treasury'), mallory), 'no key is bound to'],
    ] as const;
    for (const [name, body, problem] of cases) {
      const reply = await post(ingest.url, body);
      expect({ name, status: reply.status }).toEqual({ name, status: 403 });
      expect(reply.headers.get('content-type')).toMatch(/^application\/json/);
      expect(reply.body.error, name).toMatchObject({ code: 'unauthorized', field: '$' });
      expect(reply.body.error.problem, name).toContain(problem);
    }
    expect(await topicEnd(kafka, topic)).toBe(endBefore);
    expect(await metricValue(ingest.registry, 'chainlog_ingest_transactions_rejected_total', { reason: 'unauthorized' })).toBe(rejectedBefore + cases.length);
  });

  it('accepts spends signed by a bound key, and an overdraft (balances are the miners to enforce)', async () => {
    const endBefore = await topicEnd(kafka, topic);
    const named = await post(ingest.url, signTransaction(transfer(uniqueTopic('named'), 'alice'), alice));
    expect(named.status).toBe(202);
    const keyAccount = await post(ingest.url, signTransaction(transfer(uniqueTopic('key-account'), mallory.publicKey), mallory));
    expect(keyAccount.status).toBe(202);
    const overdraft = await post(ingest.url, signTransaction(transfer(uniqueTopic('overdraft'), 'alice', 1_000_000), alice));
    expect(overdraft.status).toBe(202);
    expect(await topicEnd(kafka, topic)).toBe(endBefore + 3);
  });
});
