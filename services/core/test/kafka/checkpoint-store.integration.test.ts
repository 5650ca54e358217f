// Checkpoints on a real broker: a checkpoint of several 512 KiB parts is written and read back whole, a newer
// one replaces the older (its parts deleted), and probeMessageAt reads exactly one offset of a topic,
// tells a broker's "not there" from no answer (a broker that never answers, a closed port), and
// a restore asks again for a checkpoint's tip the broker is slow to show instead of rejecting the checkpoint.
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { CheckpointWriter, ensureCheckpointTopic, probeMessageAt, readCheckpointCandidates, restoreFromCheckpoint } from '../../src/kafka/index.js';
import { createLogger } from '../../src/logging/index.js';
import { Chain, createCheckpoint, encodeBlock, GENESIS_BLOCK, openCheckpoint, type ChainState, type ConsensusParams } from '../../src/protocol/index.js';
import { testKafka, uniqueTopic } from '../../../../test/support/kafka.js';

const params: ConsensusParams = { minDifficulty: 0, blockReward: 50, replayWindowMs: 60_000 };
const logger = createLogger('test', 'silent');

/** A state with many window ids, so that its body needs several parts. */
function bigState(ids: number): ChainState {
  return {
    tip: GENESIS_BLOCK,
    transactionCount: ids,
    sourceOffsets: [{ topic: 'transactions', partition: 0, lastOffset: ids - 1 }],
    recentIds: Array.from({ length: ids }, (_, i) => ({ id: `payment-${String(i).padStart(8, '0')}-${'x'.repeat(30)}`, timestamp: 1_700_000_000_000 + i })),
  };
}

function encoded(state: ChainState, tipOffset: number, blockchainTopic = 'blockchain') {
  const checkpoint = createCheckpoint(state, params, { blockchainTopic, tipOffset, tipIndex: state.tip.index, tipHash: state.tip.hash, writer: 'miner-a', writtenAt: 1 });
  if (checkpoint === undefined) throw new Error('no checkpoint');
  return checkpoint;
}

describe('checkpoint store', () => {
  it('writes a multi-part checkpoint, reads it back whole, and replaces it with a newer one', { timeout: 120_000 }, async () => {
    const kafka = testKafka();
    const topic = uniqueTopic('checkpoints');
    const admin = kafka.admin();
    await admin.connect();
    expect(await ensureCheckpointTopic(admin, topic)).toBe(true);
    expect(await ensureCheckpointTopic(admin, topic)).toBe(false);
    await admin.disconnect();

    const writer = new CheckpointWriter(kafka, topic);
    const first = encoded(bigState(30_000), 0);
    expect(first.parts.length).toBeGreaterThanOrEqual(3);
    await writer.write(first);
    const [candidate] = await readCheckpointCandidates(kafka, topic, logger);
    expect(candidate?.parts.every((part) => part !== undefined)).toBe(true);
    const opened = openCheckpoint(candidate?.manifest ?? Buffer.alloc(0), candidate?.parts ?? []);
    expect(opened.ok && opened.body.recentIds.length).toBe(30_000);

    const newer = encoded({ ...bigState(10), tip: { ...GENESIS_BLOCK, index: 7 } }, 7);
    await writer.write(newer);
    await writer.stop();
    const candidates = await readCheckpointCandidates(kafka, topic, logger);
    expect(candidates.map((c) => [c.writer, c.tipIndex])).toEqual([['miner-a', 7]]);
    const reopened = openCheckpoint(candidates[0]?.manifest ?? Buffer.alloc(0), candidates[0]?.parts ?? []);
    expect(reopened.ok && reopened.body.recentIds.length).toBe(10);
  });

  it('reads the message at one offset, and nothing past the end', { timeout: 60_000 }, async () => {
    const kafka = testKafka();
    const topic = uniqueTopic('message-at');
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: ['zero', 'one', 'two'].map((value) => ({ value })) });
    await producer.disconnect();
    const one = await probeMessageAt(kafka, topic, 1, logger);
    expect(one.outcome === 'found' && one.value.toString()).toBe('one');
    expect(await probeMessageAt(kafka, topic, 3, logger)).toMatchObject({ outcome: 'absent' });
    expect(await probeMessageAt(kafka, uniqueTopic('missing'), 0, logger)).toMatchObject({ outcome: 'absent' });
  });

  it('probes an offset: found, absent only on the broker\'s word, unknown when no broker answers', { timeout: 90_000 }, async () => {
    const kafka = testKafka();
    const topic = uniqueTopic('probe');
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: ['zero', 'one', 'two', 'three'].map((value) => ({ value })) });
    await producer.disconnect();
    // The records below offset 2 deleted (what retention does): offset 1 is gone, by the broker's word.
    // (The admin client's metadata must know the new topic's leader first.)
    await admin.fetchTopicMetadata({ topics: [topic] });
    await admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: '2' }] });
    await admin.disconnect();

    const found = await probeMessageAt(kafka, topic, 3, logger);
    expect(found.outcome === 'found' && found.value.toString()).toBe('three');
    expect(await probeMessageAt(kafka, topic, 1, logger)).toMatchObject({ outcome: 'absent', detail: expect.stringContaining('below the start') });
    expect(await probeMessageAt(kafka, topic, 4, logger)).toMatchObject({ outcome: 'absent', detail: expect.stringContaining('past the end') });
    expect(await probeMessageAt(kafka, uniqueTopic('missing'), 0, logger)).toMatchObject({ outcome: 'absent', detail: expect.stringContaining('does not exist') });

    // A "broker" that accepts connections and never answers (a paused or overloaded one): no evidence.
    const sockets: Socket[] = [];
    const silent = await listening(createServer((socket) => sockets.push(socket)));
    try {
      const stalled = await probeMessageAt(testKafka(`127.0.0.1:${port(silent)}`), topic, 3, logger, 1500);
      expect(stalled).toMatchObject({ outcome: 'unknown', detail: expect.stringContaining('did not answer within 1500 ms') });
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
    // A closed port (the broker is down): no evidence either, and the broker's error is kept for the log.
    const closed = await listening(createServer());
    const closedPort = port(closed);
    await new Promise((resolve) => closed.close(resolve));
    const down = testKafka(`127.0.0.1:${closedPort}`);
    const refused = await probeMessageAt(down, topic, 3, logger);
    expect(refused.outcome === 'unknown' && refused.error).toBeInstanceOf(Error);
  });

  it("restores from a checkpoint whose tip the broker is slow to show: asked again, never rejected as not on the chain", { timeout: 90_000 }, async () => {
    const kafka = testKafka();
    const blockchainTopic = uniqueTopic('probe-chain');
    const topic = uniqueTopic('probe-checkpoints');
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: blockchainTopic, numPartitions: 1 }], waitForLeaders: true });
    await ensureCheckpointTopic(admin, topic);
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: blockchainTopic, acks: -1, messages: [{ value: encodeBlock(GENESIS_BLOCK) }] });
    await producer.disconnect();
    const writer = new CheckpointWriter(kafka, topic);
    await writer.write(encoded(bigState(10), 0, blockchainTopic));
    await writer.stop();

    let asked = 0;
    // The real broker, asked twice with a deadline it cannot meet (a slow broker at start-up), then normally.
    const slowAtFirst: typeof probeMessageAt = (client, onTopic, offset, log) => probeMessageAt(client, onTopic, offset, log, ++asked <= 2 ? 1 : 15_000);
    const restored = await restoreFromCheckpoint({ kafka, topic, blockchainTopic, chain: new Chain(params), logger, probe: slowAtFirst, retryMs: () => 10 });
    expect(restored).toMatchObject({ outcome: 'restored', tipIndex: 0, rejected: [] });
    expect(asked).toBe(3);

    // Stopped while the broker still does not answer: no checkpoint used, and none rejected.
    const stop = new AbortController();
    const silent: typeof probeMessageAt = () => {
      stop.abort();
      return Promise.resolve({ outcome: 'unknown', detail: 'no answer' });
    };
    const stopped = await restoreFromCheckpoint({ kafka, topic, blockchainTopic, chain: new Chain(params), logger, probe: silent, signal: stop.signal });
    expect(stopped).toEqual({ outcome: 'none', rejected: [] });
  });
});

function listening(server: Server): Promise<Server> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function port(server: Server): number {
  return (server.address() as AddressInfo).port;
}
