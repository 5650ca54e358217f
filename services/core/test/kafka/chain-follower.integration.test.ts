import type { Kafka } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import { type BlockRejection, ChainFollower } from '@chainlog/core/kafka';
import { createLogger } from '@chainlog/core/logging';
import {
  admitRecord,
  assembleBlock,
  type Block,
  Chain,
  encodeBlock,
  GENESIS_BLOCK,
  sealBlock,
  searchNonce,
  type SourceRange,
  type Transaction,
} from '@chainlog/core/protocol';
import { createTopic, testKafka } from '../../../../test/support/kafka.js';

const consensus = { minDifficulty: 4, blockReward: 50 };

function mine(previous: Block, miner: string, transactions: Transaction[] = [], sources: SourceRange[] = []): Block {
  const candidate = assembleBlock({ previous, transactions, sources, miner, timestamp: previous.timestamp + 1, difficulty: 4, reward: 50 });
  const nonce = searchNonce(candidate.headerDigest, 4, 0, 1_000_000);
  if (nonce === undefined) throw new Error('no nonce found');
  return sealBlock(candidate, nonce);
}

describe('ChainFollower', () => {
  const followers: ChainFollower[] = [];
  afterEach(async () => {
    await Promise.all(followers.splice(0).map((follower) => follower.stop()));
  });

  it('applies the topic in offset order, reports rejections with offsets, and catches up with later blocks', async () => {
    const kafka = testKafka();
    const topic = await createTopic(kafka, 'blockchain');

    const first = mine(GENESIS_BLOCK, 'miner-a');
    const rival = mine(GENESIS_BLOCK, 'miner-b');
    const second = mine(first, 'miner-a');
    const producer = kafka.producer({ idempotent: true });
    await producer.connect();
    const publish = (values: (Buffer | string)[]) => producer.send({ topic, acks: -1, messages: values.map((value) => ({ value })) });
    await publish([encodeBlock(GENESIS_BLOCK), encodeBlock(first), encodeBlock(rival), 'not json', encodeBlock(GENESIS_BLOCK)]);

    const accepted: [number, number][] = [];
    const rejected: BlockRejection[] = [];
    const follower = new ChainFollower({
      kafka,
      topic,
      chain: new Chain(consensus),
      logger: createLogger('test', 'silent'),
      onAccepted: (block, offset) => void accepted.push([block.index, offset]),
      onRejected: (rejection) => void rejected.push(rejection),
    });
    followers.push(follower);
    await follower.start();
    await follower.catchUp(30_000);

    expect(accepted).toEqual([
      [0, 0],
      [1, 1],
    ]);
    expect(rejected.map(({ offset, reason, claimedMiner }) => ({ offset, reason, claimedMiner }))).toEqual([
      { offset: 2, reason: 'stale', claimedMiner: 'miner-b' },
      { offset: 3, reason: 'malformed', claimedMiner: undefined },
      { offset: 4, reason: 'stale', claimedMiner: 'genesis' },
    ]);
    expect(follower.caughtUp).toBe(true);

    const [ack] = await publish([encodeBlock(second)]);
    await follower.waitUntilApplied(Number(ack?.baseOffset), 30_000);
    expect(follower.chain.tip?.hash).toBe(second.hash);
    expect(follower.appliedOffset).toBe(5);
    await producer.disconnect();
  });

  it('applies the block announced with expectOwnBlock without validating it again, unless a rival landed first', async () => {
    const kafka = testKafka();
    const topic = await createTopic(kafka, 'blockchain-own');
    const producer = kafka.producer({ idempotent: true });
    await producer.connect();
    const publish = async (value: Buffer): Promise<number> => Number((await producer.send({ topic, acks: -1, messages: [{ value }] }))[0]?.baseOffset);

    const chain = new Chain(consensus);
    const validated: number[] = [];
    const validate = chain.apply.bind(chain);
    chain.apply = (input) => {
      const result = validate(input);
      validated.push(result.accepted ? result.block.index : -1);
      return result;
    };
    const follower = new ChainFollower({ kafka, topic, chain, logger: createLogger('test', 'silent') });
    followers.push(follower);
    await follower.start();
    await follower.waitUntilApplied(await publish(encodeBlock(GENESIS_BLOCK)), 30_000);
    expect(validated).toEqual([0]);

    // Own block 1, checked on the current chain, comes back unchanged: committed without a second validation.
    const own = mine(GENESIS_BLOCK, 'miner-a');
    const version = chain.version;
    expect(chain.check(own).accepted).toBe(true);
    const ownBytes = encodeBlock(own);
    follower.expectOwnBlock(ownBytes, own, version);
    // The verdict for that offset: a publisher learns whether its block became canonical.
    expect(await follower.waitUntilApplied(await publish(ownBytes), 30_000)).toEqual({ accepted: true, index: own.index, hash: own.hash });
    expect(chain.tip?.hash).toBe(own.hash);
    expect(validated).toEqual([0]);

    // Own block 2 checked, but a rival block 2 lands first: the own block is validated in full and is stale.
    const ownSecond = mine(own, 'miner-a');
    const rival = mine(own, 'miner-b');
    follower.expectOwnBlock(encodeBlock(ownSecond), ownSecond, chain.version);
    await publish(encodeBlock(rival));
    const ownOffset = await publish(encodeBlock(ownSecond));
    expect(await follower.waitUntilApplied(ownOffset, 30_000)).toMatchObject({ accepted: false, rejection: { offset: ownOffset, reason: 'stale', claimedMiner: 'miner-a' } });
    expect(chain.tip?.hash).toBe(rival.hash);
    expect(validated).toEqual([0, 2, -1]);
    await producer.disconnect();
  });

  it('fetches a partition read on demand for every block it did not check itself, and checks that block in full', async () => {
    const kafka = testKafka();
    const topic = await createTopic(kafka, 'blockchain-on-demand');
    const transactionsTopic = await createTopic(kafka, 'transactions-on-demand');
    const producer = kafka.producer({ idempotent: true });
    await producer.connect();
    const publish = async (value: Buffer): Promise<number> => Number((await producer.send({ topic, acks: -1, messages: [{ value }] }))[0]?.baseOffset);
    /** Writes transactions to partition 0 of the transactions topic; returns what each record carries. */
    const write = async (from: number, count: number): Promise<Transaction[]> => {
      const values = Array.from({ length: count }, (_, i) => JSON.stringify({ from: `payer-${from + i}`, to: 'bob', amount: from + i + 1, timestamp: 1_700_000_000_000 }));
      const [ack] = await producer.send({ topic: transactionsTopic, acks: -1, messages: values.map((value) => ({ value })) });
      return values.map((value, i) => {
        const admitted = admitRecord({ offset: Number(ack?.baseOffset) + i, value: Buffer.from(value), timestamp: 0 }, { topic: transactionsTopic, partition: 0 }, {});
        if (!admitted.ok) throw new Error(admitted.error.detail);
        return admitted.value;
      });
    };
    const range = (firstOffset: number, lastOffset: number): SourceRange => ({ topic: transactionsTopic, partition: 0, firstOffset, lastOffset });

    const chain = new Chain(consensus);
    const follower = new ChainFollower({ kafka, topic, chain, logger: createLogger('test', 'silent'), transactionsTopic });
    // Partition 0 is "this miner's": its records are fetched only when a block waits for them.
    follower.readSourcesOnDemand([0]);
    followers.push(follower);
    await follower.start();
    await follower.waitUntilApplied(await publish(encodeBlock(GENESIS_BLOCK)), 30_000);

    // This process's own block, checked before publishing: committed without its records (they are skipped).
    const own = mine(GENESIS_BLOCK, 'miner-a', await write(0, 3), [range(0, 2)]);
    follower.expectOwnBlock(encodeBlock(own), own, chain.version);
    expect(await follower.waitUntilApplied(await publish(encodeBlock(own)), 30_000)).toMatchObject({ accepted: true, index: 1 });

    // Another writer's block over the next records, one of them altered: the records are fetched and it is rejected.
    const next = await write(3, 3);
    const altered = next.map((transaction, i) => (i === 1 ? { ...transaction, amount: transaction.amount + 100 } : transaction));
    const forged = mine(own, 'mallory', altered, [range(3, 5)]);
    const forgedOffset = await publish(encodeBlock(forged));
    expect(await follower.waitUntilApplied(forgedOffset, 30_000)).toMatchObject({
      accepted: false,
      rejection: { reason: 'bad-source-coverage', detail: expect.stringContaining('offset 4') },
    });
    // The same block as the records say: accepted.
    const honest = mine(own, 'miner-b', next, [range(3, 5)]);
    expect(await follower.waitUntilApplied(await publish(encodeBlock(honest)), 30_000)).toMatchObject({ accepted: true, index: 2, hash: honest.hash });

    // An own block whose check no longer holds (checked on an older chain) is checked in full as well.
    const [later] = (await write(6, 1)) as [Transaction];
    const ownAltered = mine(honest, 'miner-a', [{ ...later, amount: 1 }], [range(6, 6)]);
    follower.expectOwnBlock(encodeBlock(ownAltered), ownAltered, chain.version - 1);
    expect(await follower.waitUntilApplied(await publish(encodeBlock(ownAltered)), 30_000)).toMatchObject({
      accepted: false,
      rejection: { reason: 'bad-source-coverage', detail: expect.stringContaining('offset 6') },
    });
    const ownHonest = mine(honest, 'miner-a', [later], [range(6, 6)]);
    expect(await follower.waitUntilApplied(await publish(encodeBlock(ownHonest)), 30_000)).toMatchObject({ accepted: true, index: 3 });
    expect(chain.lastSourceOffset(transactionsTopic, 0)).toBe(6);
    await producer.disconnect();
  });

  it('stops its chain consumer together with the source reader: no fetch of the blockchain topic starts after stop()', async () => {
    const kafka = testKafka();
    const topic = await createTopic(kafka, 'blockchain-stop');
    const transactionsTopic = await createTopic(kafka, 'transactions-stop');
    // Every fetch the chain's consumer starts (its group id is the prefix plus "-<uuid>"; the source reader's ends in "-sources-<uuid>").
    const fetchesStarted: number[] = [];
    const watched = new Proxy(kafka, {
      get(target, property, receiver) {
        if (property !== 'consumer') return Reflect.get(target, property, receiver) as unknown;
        return (config: Parameters<Kafka['consumer']>[0]) => {
          const consumer = target.consumer(config);
          if (config.groupId.startsWith('stop-test-') && !config.groupId.startsWith('stop-test-sources-')) {
            consumer.on(consumer.events.FETCH_START, () => void fetchesStarted.push(performance.now()));
          }
          return consumer;
        };
      },
    });
    const producer = kafka.producer({ idempotent: true });
    await producer.connect();
    const values = Array.from({ length: 3 }, (_, i) => JSON.stringify({ from: `payer-${i}`, to: 'bob', amount: i + 1, timestamp: 1_700_000_000_000 }));
    await producer.send({ topic: transactionsTopic, acks: -1, messages: values.map((value) => ({ value })) });
    const transactions = values.map((value, offset) => {
      const admitted = admitRecord({ offset, value: Buffer.from(value), timestamp: 0 }, { topic: transactionsTopic, partition: 0 }, {});
      if (!admitted.ok) throw new Error(admitted.error.detail);
      return admitted.value;
    });
    const block = mine(GENESIS_BLOCK, 'miner-a', transactions, [{ topic: transactionsTopic, partition: 0, firstOffset: 0, lastOffset: 2 }]);
    await producer.send({ topic, acks: -1, messages: [{ value: encodeBlock(GENESIS_BLOCK) }, { value: encodeBlock(block) }] });
    await producer.disconnect();

    const follower = new ChainFollower({ kafka: watched, topic, chain: new Chain(consensus), logger: createLogger('test', 'silent'), transactionsTopic, groupIdPrefix: 'stop-test' });
    followers.push(follower);
    await follower.start();
    // The block waited for its source records; once it is applied the follower is stopped, as a replay ends.
    expect(await follower.waitUntilApplied(1, 30_000)).toMatchObject({ accepted: true, index: 1 });
    expect(fetchesStarted.length).toBeGreaterThan(0);
    const stopping = performance.now();
    await follower.stop();
    // A fetch started after stop() is one the stop then waited for: its whole long poll (5 s by default).
    expect(fetchesStarted.filter((at) => at >= stopping)).toEqual([]);
  });

  it('times out waiting for an offset that never arrives', async () => {
    const kafka = testKafka();
    const topic = await createTopic(kafka, 'blockchain-empty');
    const follower = new ChainFollower({ kafka, topic, chain: new Chain(consensus), logger: createLogger('test', 'silent') });
    followers.push(follower);
    await follower.start();
    await follower.catchUp(10_000);
    expect(follower.chain.height).toBe(-1);
    await expect(follower.waitUntilApplied(0, 300)).rejects.toThrow(/not applied within 300 ms/);
  });
});
