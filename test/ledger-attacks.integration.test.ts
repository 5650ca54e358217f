// The attacks of issue #19 parts 2-4 against a real broker, on a permissioned chain with ledger rules
// (ENFORCE_BALANCES): a spend from carol signed by mallory's key, an overdraft by carol's own key, a
// transaction "signed" by a small-order key (valid for every message under plain OpenSSL verification) and
// an amount whose decimal text is not an integer. Each is refused with its reason and reported so by the
// auditor; the honest transaction among them is committed; every reader (the verify command) agrees.
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '@chainlog/core/logging';
import { signerFromSeed, signTransaction, type Block, type Signer } from '@chainlog/core/protocol';
import { verifyTopic } from '@chainlog/core/verify';
import { readConfig } from '../services/auditor/src/config.js';
import { AuditorService } from '../services/auditor/src/service.js';
import { consensusOf, minerEnv, produce, startMiner, testTopics } from '../services/miner/test/support/miners.js';
import { eventually, testKafka, uniqueTopic } from './support/kafka.js';
import { carolLedgerEnv } from './support/ledger.js';

const seedOf = (label: string): Buffer => createHash('sha256').update(label).digest();
const minerSeed = seedOf('issue 19 ledger miner');
const minerKey: Signer = signerFromSeed(minerSeed);
const owner: Signer = signerFromSeed(seedOf('issue 19 carol'));
const mallory: Signer = signerFromSeed(seedOf('issue 19 mallory'));
const IDENTITY = `01${'00'.repeat(31)}`;

describe('ledger rules on the real broker', () => {
  const stops: Array<() => Promise<void>> = [];
  afterEach(async () => {
    await Promise.all(stops.splice(0).map((stop) => stop()));
  });

  it('refuses an unauthorized spend, an overdraft, a small-order-key signature and an inexact amount, each with its reason; nothing is lost', async () => {
    const topics = testTopics('ledger-attacks');
    const env = minerEnv(topics, carolLedgerEnv(minerSeed, minerKey, owner));
    const running = await startMiner(env);
    stops.push(running.stop);
    const auditor = new AuditorService(
      readConfig({ ...env, TOPIC_AUDIT: uniqueTopic('ledger-attacks-audit'), KAFKA_CLIENT_ID: 'chainlog-auditor-ledger', LOG_LEVEL: 'silent' }),
      createLogger('auditor', 'silent'),
      { topicPollIntervalMs: 200 },
    );
    await auditor.start();
    stops.push(() => auditor.stop());

    const at = Date.now();
    const payment = (id: string, amount: number, signer: Signer): string =>
      JSON.stringify(signTransaction({ id, from: 'carol', to: 'dave', amount, timestamp: at }, signer));
    const records = [
      payment('steal', 5, mallory), // unauthorized: mallory's key is not bound to carol
      payment('pay-1', 6, owner), // honest: 10 -> 4
      payment('pay-2', 5, owner), // insufficient-funds: 4 < 5
      JSON.stringify({ id: 'forged', from: 'carol', to: 'mallory', amount: 1, timestamp: at, publicKey: IDENTITY, signature: `${IDENTITY}${'00'.repeat(32)}` }),
      `{"id":"inexact","from":"carol","to":"dave","amount":2.9999999999999999,"timestamp":${at}}`,
    ];
    const produced = await produce(topics.TOPIC_TRANSACTIONS, records.map((value) => ({ partition: 0, value, key: 'carol' })));
    const last = produced.at(-1)?.offset as number;
    const { miner } = running;
    await eventually(() => expect(miner.chain.lastSourceOffset(topics.TOPIC_TRANSACTIONS, 0)).toBe(last), 45_000);
    expect(['steal', 'pay-1', 'pay-2', 'forged', 'inexact'].map((id) => miner.chain.hasTransaction(id))).toEqual([false, true, false, false, false]);

    // The auditor: terminal statuses with the block's reasons, and consensus balances.
    await auditor.caughtUpNow(30_000);
    await eventually(() => {
      const view = (id: string) => {
        const status = auditor.state.transactionStatus(id);
        return status?.status === 'dropped' ? `refused: ${status.reason}` : status?.status;
      };
      expect(['steal', 'pay-1', 'pay-2', 'forged'].map(view)).toEqual(['refused: unauthorized', 'committed', 'refused: insufficient-funds', 'refused: bad-signature']);
    }, 30_000);
    expect([auditor.state.chain.balance('carol'), auditor.state.chain.balance('dave')]).toEqual([4n, 6n]);
    const blocks = Array.from({ length: auditor.state.chain.height + 1 }, (_, i) => auditor.state.index.block(i) as Block);
    const skipped = blocks.flatMap((block) => block.sources.flatMap((range) => range.skipped ?? []));
    expect(skipped.map(({ offset, reason }) => [offset - (produced[0]?.offset as number), reason])).toEqual([
      [0, 'unauthorized'],
      [2, 'insufficient-funds'],
      [3, 'bad-signature'],
      [4, 'malformed'],
    ]);

    // Every reader: the verify command reads both topics from the start and rejects nothing.
    const report = await verifyTopic({
      kafka: testKafka(),
      topic: topics.TOPIC_BLOCKCHAIN,
      transactionsTopic: topics.TOPIC_TRANSACTIONS,
      params: consensusOf(env),
      logger: createLogger('verify', 'silent'),
      timeoutMs: 60_000,
    });
    expect(report.rejections.filter((r) => r.reason !== 'stale' && r.reason !== 'fork')).toEqual([]);
    expect(report.height).toBe(auditor.state.chain.height);
  });
});
