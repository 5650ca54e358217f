// The article's scenario: three {"from":"alice","to":"bob","amount":3} messages produced straight to
// partition 0 become one block, with the miner's coinbase first, on the blockchain topic.
import { createHash } from 'node:crypto';
import type { Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { closeServer, listen } from '@chainlog/core/http';
import { derivedTransactionId, GENESIS_BLOCK, signerFromSeed, signTransaction } from '@chainlog/core/protocol';
import { eventually } from '../../../test/support/kafka.js';
import { ARTICLE_TRANSACTION, consensusOf, minerEnv, produce, rebuildChain, startMiner, testTopics, type RunningMiner } from './support/miners.js';

describe('the article scenario', () => {
  const running: RunningMiner[] = [];
  const servers: Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => closeServer(server, 1000)));
    await Promise.all(running.splice(0).map((miner) => miner.stop()));
  });

  it('mines three kcat-style transactions on partition 0 into one block with a coinbase', async () => {
    const topics = testTopics('article');
    // A long timer: the block must be cut because three transactions are pending, as in the article.
    const env = minerEnv(topics, { CUT_AT_PENDING_TRANSACTIONS: '3', MAX_BLOCK_WAIT_MS: '600000', BLOCK_REWARD: '7', MINER_ID: 'article-miner' });
    const started = await startMiner(env);
    running.push(started);
    const { miner } = started;
    const server = await listen(miner.app, 0);
    servers.push(server);
    const address = server.address();
    const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;

    await eventually(async () => expect((await fetch(`${base}/readyz`)).status).toBe(200));
    expect(miner.ownedPartitions).toEqual([0, 1]);

    const positions = await produce(topics.TOPIC_TRANSACTIONS, [0, 1, 2].map(() => ({ partition: 0, value: ARTICLE_TRANSACTION })));
    expect(positions.map((p) => p.offset)).toEqual([0, 1, 2]);
    await eventually(() => expect(miner.chain.height).toBe(1), 30_000);

    const { blocks, rejected } = await rebuildChain(topics.TOPIC_BLOCKCHAIN, consensusOf(env));
    expect(rejected).toEqual([]);
    expect(blocks.map((b) => b.hash)).toEqual([GENESIS_BLOCK.hash, miner.chain.tip?.hash]);
    const block = blocks[1];
    expect(block?.miner).toBe('article-miner');
    expect(block?.transactions.map(({ id, from, to, amount }) => ({ id, from, to, amount }))).toEqual([
      { id: 'coinbase:1', from: '0', to: 'article-miner', amount: 7 },
      ...[0, 1, 2].map((offset) => ({ id: derivedTransactionId(topics.TOPIC_TRANSACTIONS, 0, offset), from: 'alice', to: 'bob', amount: 3 })),
    ]);
    expect(block?.sources).toEqual([{ topic: topics.TOPIC_TRANSACTIONS, partition: 0, firstOffset: 0, lastOffset: 2 }]);
    expect(block && block.hash.startsWith('00')).toBe(true); // difficulty 8: one zero byte

    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/^chainlog_miner_blocks_mined_total\{service="miner"\} 1$/m);
    expect(metrics).toMatch(/^chainlog_chain_height\{service="miner"\} 1$/m);
    expect(metrics).toMatch(/^chainlog_miner_owned_partitions\{service="miner"\} 2$/m);
    expect(metrics).toMatch(/^chainlog_miner_pending_transactions\{partition="0",service="miner"\} 0$/m);
    expect(metrics).toMatch(/^chainlog_miner_block_transactions_sum\{service="miner"\} 3$/m);
    expect(metrics).toMatch(/^chainlog_miner_hashes_total\{service="miner"\} [1-9]/m);
    const status = (await (await fetch(`${base}/status`)).json()) as { chain: { height: number }; mined: number };
    expect([status.chain.height, status.mined]).toEqual([1, 1]);
  });
});

describe('a permissioned chain', () => {
  const running: RunningMiner[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((miner) => miner.stop()));
  });

  it('gets blocks signed with MINER_PRIVATE_KEY, and unsigned transactions dead-lettered when signatures are required', async () => {
    const seed = createHash('sha256').update('miner test key').digest();
    const signer = signerFromSeed(seed);
    const client = signerFromSeed(createHash('sha256').update('miner test client').digest());
    const topics = testTopics('permissioned');
    const env = minerEnv(topics, {
      MINER_PRIVATE_KEY: seed.toString('hex'),
      ALLOWED_MINER_KEYS: signer.publicKey,
      REQUIRE_TRANSACTION_SIGNATURES: 'true',
      MAX_BLOCK_WAIT_MS: '100',
    });
    const started = await startMiner(env);
    running.push(started);
    const payment = signTransaction({ id: 'signed-1', from: 'carol', to: 'dave', amount: 5, timestamp: 1_700_000_000_000 }, client);
    await produce(topics.TOPIC_TRANSACTIONS, [
      { partition: 1, value: ARTICLE_TRANSACTION },
      { partition: 1, value: JSON.stringify(payment) },
    ]);
    await eventually(() => expect(started.miner.chain.lastSourceOffset(topics.TOPIC_TRANSACTIONS, 1)).toBe(1), 30_000);

    const { blocks, rejected } = await rebuildChain(topics.TOPIC_BLOCKCHAIN, consensusOf(env));
    expect(rejected).toEqual([]);
    expect(blocks.slice(1).flatMap((b) => b.transactions.slice(1))).toEqual([payment]);
    for (const block of blocks.slice(1)) {
      expect(block.minerPublicKey).toBe(signer.publicKey);
      expect(block.signature).toMatch(/^[0-9a-f]{128}$/);
    }
    expect(started.miner.stats.poison).toBe(1);
  });
});
