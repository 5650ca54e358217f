// kafkajs 2.2.4 keeps every broker connection polling its request queue once per millisecond while nothing is
// queued (tulios/kafkajs#1556 and #1704, open; no release fixes it): scheduleCheckPendingRequests waits
// `throttledUntil - now`, negative when no throttle is in effect (Node then waits 1 ms), and the check it
// schedules schedules the next one, for as long as the connection lives. Every idle consumer, producer and admin
// client costs its thread a timer callback per millisecond: ~35 ms of CPU per second on a chain reader's main
// thread waiting with its consumer and an admin client connected (docs/benchmarks.md, "Session 9 (#19)"), on
// every idle miner, auditor and ingest. The fix proposed upstream: with nothing queued and no throttle in effect,
// schedule no check. Nothing then waits for one: a request queued later schedules its own check, a response or a
// timed-out request checks the queue, and a throttle still gets its check when it ends.
import { createRequire } from 'node:module';

/** The parts of kafkajs' RequestQueue (src/network/requestQueue) this module relies on. */
interface RequestQueueState {
  readonly pending: readonly unknown[];
  readonly inflight: ReadonlyMap<unknown, unknown>;
  readonly throttledUntil: number;
  emit(event: string): boolean;
}

interface RequestQueueClass {
  prototype: { scheduleCheckPendingRequests?: (this: RequestQueueState) => void };
}

/** kafkajs' REQUEST_QUEUE_EMPTY: what the check emits when nothing is queued or in flight (waitForPendingRequests). */
const REQUEST_QUEUE_EMPTY = 'requestQueueEmpty';

const FIXED = Symbol.for('chainlog.kafkajs.idlePollingStopped');

/**
 * Makes kafkajs' request queues (every client in this thread: the module is shared) schedule no check while
 * nothing is queued and no throttle is in effect. Idempotent. False when this kafkajs has no such queue (another
 * version: nothing is changed).
 */
export function stopKafkajsIdlePolling(requestQueue: RequestQueueClass = loadRequestQueue()): boolean {
  const prototype = requestQueue.prototype as RequestQueueClass['prototype'] & { [FIXED]?: true };
  const original = prototype.scheduleCheckPendingRequests;
  if (typeof original !== 'function') return false;
  if (prototype[FIXED]) return true;
  prototype.scheduleCheckPendingRequests = function (this: RequestQueueState): void {
    if (this.pending.length === 0 && !(this.throttledUntil > Date.now())) {
      // What the original emits when it schedules; nothing else changes.
      if (this.inflight.size === 0) this.emit(REQUEST_QUEUE_EMPTY);
      return;
    }
    original.call(this);
  };
  prototype[FIXED] = true;
  return true;
}

/** The RequestQueue class of the kafkajs this module imports (the same module instance: no `exports` map). */
function loadRequestQueue(): RequestQueueClass {
  return createRequire(import.meta.url)('kafkajs/src/network/requestQueue/index.js') as RequestQueueClass;
}
