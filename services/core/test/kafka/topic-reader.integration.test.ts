// The topic reader on a real broker: a handler that works without waiting on I/O (a replay's block checks) does not
// hold the event loop for a whole fetched batch; other work (an HTTP request, a probe) runs between its slices.
import { afterEach, describe, expect, it } from 'vitest';
import { READER_SLICE_MS, TopicReader } from '@chainlog/core/kafka';
import { createLogger } from '@chainlog/core/logging';
import { createTopic, eventually, testKafka } from '../../../../test/support/kafka.js';

function busyFor(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // a block check that takes this long
  }
}

describe('TopicReader', () => {
  const readers: TopicReader[] = [];
  afterEach(async () => {
    await Promise.all(readers.splice(0).map((reader) => reader.stop()));
  });

  it('lets the event loop run between slices of a batch whose handler never waits', async () => {
    const kafka = testKafka();
    const topic = await createTopic(kafka, 'reader-slices');
    const producer = kafka.producer();
    await producer.connect();
    // One send: the reader gets them in one fetched batch.
    await producer.send({ topic, acks: -1, messages: Array.from({ length: 30 }, (_, i) => ({ value: `m${i}` })) });
    await producer.disconnect();

    // Each message leaves a macrotask behind; the next one finds whether the event loop has run it since.
    let loopTurned = true;
    const turnedBetween: boolean[] = [];
    const reader = new TopicReader({
      kafka,
      topic,
      logger: createLogger('test', 'silent'),
      groupIdPrefix: 'test-reader-slices',
      name: 'slices',
      // async, as the chain follower's handler is, but never waiting on anything but microtasks.
      onMessage: async () => {
        turnedBetween.push(loopTurned);
        loopTurned = false;
        setImmediate(() => {
          loopTurned = true;
        });
        busyFor(READER_SLICE_MS + 2);
      },
    });
    readers.push(reader);
    await reader.start();
    await eventually(() => expect(turnedBetween).toHaveLength(30), 60_000, 100);
    // Every message took longer than a slice, so the loop (its timers, I/O and immediates) ran between any two.
    expect(turnedBetween.map((turned, i) => (turned ? -1 : i)).filter((i) => i >= 0)).toEqual([]);
  }, 90_000);
});
