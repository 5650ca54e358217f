// The poller both of ingest's watchers use: a failed poll drops its admin client (the next connects afresh),
// a failure never escapes, and stop disconnects and ends the timer.
import type { Admin, Kafka } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { AdminPoller } from '../../src/kafka/admin-poller.js';

/** A Kafka whose admin clients only count their connects and disconnects. */
function countingKafka() {
  const clients: { connected: number; disconnected: number }[] = [];
  const kafka = {
    admin: () => {
      const client = { connected: 0, disconnected: 0 };
      clients.push(client);
      return {
        connect: async () => void client.connected++,
        disconnect: async () => void client.disconnected++,
      } as unknown as Admin;
    },
  } as unknown as Kafka;
  return { kafka, clients };
}

describe('AdminPoller', () => {
  it('keeps one client while polls succeed, and replaces it after a failure', async () => {
    const { kafka, clients } = countingKafka();
    const outcomes = [true, false, true, true];
    const failures: unknown[] = [];
    const seen: Admin[] = [];
    const poller = new AdminPoller({
      kafka,
      poll: async (admin) => {
        seen.push(admin);
        if (!outcomes.shift()) throw new Error('broker gone');
      },
      onFailure: (error) => failures.push(error),
      nextDelayMs: () => 60_000,
    });
    for (let i = 0; i < 4; i++) await poller.pollOnce();
    expect(failures).toEqual([new Error('broker gone')]);
    expect(clients).toEqual([
      { connected: 1, disconnected: 1 },
      { connected: 1, disconnected: 0 },
    ]);
    expect(seen[0]).toBe(seen[1]);
    expect(seen[2]).not.toBe(seen[1]);
    expect(seen[3]).toBe(seen[2]);
    await poller.stop();
    expect(clients[1]?.disconnected).toBe(1);
  });

  it('polls on its timer from start until stop', async () => {
    const { kafka } = countingKafka();
    let polls = 0;
    const poller = new AdminPoller({ kafka, poll: async () => void polls++, onFailure: () => undefined, nextDelayMs: () => 5 });
    poller.start();
    await expect.poll(() => polls, { timeout: 5000 }).toBeGreaterThanOrEqual(3);
    await poller.stop();
    const stoppedAt = polls;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(polls).toBe(stoppedAt);
  });
});
