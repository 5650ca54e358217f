import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { stopKafkajsIdlePolling } from '../../src/kafka/kafkajs-idle-polling.js';

// kafkajs' own RequestQueue (the class every broker connection uses), with the fix applied as core applies it.
interface Queue {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: ReturnType<typeof setTimeout> | null;
  checkPendingRequests(): void;
  scheduleCheckPendingRequests(): void;
  waitForPendingRequests(): Promise<void>;
  destroy(): void;
}
const RequestQueue = createRequire(import.meta.url)('kafkajs/src/network/requestQueue/index.js') as new (options: object) => Queue;
const silent = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
const queue = (): Queue => new RequestQueue({ maxInFlightRequests: null, requestTimeout: 1000, enforceRequestTimeout: false, clientId: 'test', broker: 'b:9092', logger: silent });

describe('stopKafkajsIdlePolling', () => {
  it('applies to the kafkajs this repository ships (core applies it on load)', () => {
    expect(stopKafkajsIdlePolling()).toBe(true);
  });

  it('schedules no check of an idle queue (kafkajs 2.2.4 scheduled one per millisecond, for ever)', async () => {
    stopKafkajsIdlePolling();
    const idle = queue();
    // What a response does once it is fulfilled: check the queue, which then schedules the next check.
    idle.checkPendingRequests();
    expect(idle.throttleCheckTimeoutId).toBeNull();
    // Whoever waits for the queue to drain (a disconnect) is not kept waiting.
    await idle.waitForPendingRequests();
    idle.destroy();
  });

  it('still schedules the check a queued request or a throttle needs', () => {
    stopKafkajsIdlePolling();
    // A request queued behind the in-flight limit: the check that sends it must come.
    const waiting = queue();
    waiting.pending.push({ correlationId: 1 });
    waiting.scheduleCheckPendingRequests();
    expect(waiting.throttleCheckTimeoutId).not.toBeNull();
    clearTimeout(waiting.throttleCheckTimeoutId ?? undefined);
    waiting.destroy();

    const throttled = queue();
    throttled.throttledUntil = Date.now() + 60_000;
    throttled.scheduleCheckPendingRequests();
    expect(throttled.throttleCheckTimeoutId).not.toBeNull();
    clearTimeout(throttled.throttleCheckTimeoutId ?? undefined);
    throttled.destroy();
  });

  it('leaves a kafkajs without such a queue unchanged', () => {
    const other = { prototype: {} };
    expect(stopKafkajsIdlePolling(other)).toBe(false);
    expect(other.prototype).toEqual({});
  });
});
