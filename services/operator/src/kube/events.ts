// Records what the operator did as core/v1 Events on the miner StatefulSet (`kubectl describe statefulset`,
// `kubectl get events`). A report repeated within the aggregation window bumps the count of the Event this
// process created instead of creating another one, like the kubelet's event correlator. Recording never
// fails the caller: an Event that cannot be written is logged.
import { randomBytes } from 'node:crypto';
import type { Logger } from '@chainlog/core/logging';
import { describeError, type EventTarget, type EventType } from './kube.js';

export interface EventApi {
  create(event: { name: string; target: EventTarget; type: EventType; reason: string; message: string; at: Date; instance: string }): Promise<void>;
  bump(event: { name: string; namespace: string; count: number; at: Date }): Promise<void>;
}

export interface RecordedEvent {
  type: EventType;
  reason: string;
  message: string;
}

/** Repeats of the same reason and message within this window are aggregated into one Event. */
const AGGREGATION_WINDOW_MS = 10 * 60_000;
/** At most this many distinct reports are remembered for aggregation. */
const MAX_REMEMBERED = 64;

export class EventRecorder {
  readonly #recent = new Map<string, { name: string; namespace: string; count: number; firstAtMs: number }>();

  readonly #api: EventApi;
  readonly #instance: string;
  readonly #logger: Logger;
  readonly #now: () => number;

  constructor(
    api: EventApi,
    instance: string,
    logger: Logger,
    now: () => number = Date.now,
  ) {
    this.#api = api;
    this.#instance = instance;
    this.#logger = logger;
    this.#now = now;
  }

  async record(target: EventTarget, event: RecordedEvent): Promise<void> {
    const at = new Date(this.#now());
    const key = `${target.namespace}/${target.name}/${target.uid ?? ''}/${event.type}/${event.reason}/${event.message}`;
    const previous = this.#recent.get(key);
    try {
      if (previous !== undefined && at.getTime() - previous.firstAtMs < AGGREGATION_WINDOW_MS) {
        const count = previous.count + 1;
        await this.#api.bump({ name: previous.name, namespace: previous.namespace, count, at });
        previous.count = count;
        return;
      }
      const name = `${target.name}.${at.getTime().toString(16)}${randomBytes(3).toString('hex')}`;
      await this.#api.create({ name, target, ...event, at, instance: this.#instance });
      this.#recent.delete(key);
      this.#recent.set(key, { name, namespace: target.namespace, count: 1, firstAtMs: at.getTime() });
      while (this.#recent.size > MAX_REMEMBERED) this.#recent.delete(this.#recent.keys().next().value as string);
    } catch (error) {
      // A bump of an Event that expired (the API server deletes Events after an hour) creates a new one next time.
      this.#recent.delete(key);
      this.#logger.warn({ err: describeError(error), reason: event.reason }, 'could not record an Event');
    }
  }
}
