// Runs the reconcile: read the miner StatefulSet and the topic's partition count fresh, decide (pure, in
// domain/reconcile.ts), and, when leading, carry out the actions. Reconciles are serialized and coalesced:
// any number of triggers while one runs (watch events, partition changes, the resync timer, becoming the
// leader) cause exactly one more. A failed reconcile is retried with a backoff. Every action is idempotent
// (a target state: grow TO n partitions, scale TO n replicas, record n), so a retry or a second operator
// repeating one changes nothing.
import type { Logger } from '@chainlog/core/logging';
import { decide, MUTATING, unownedPartitions, type Action, type Decision, type Observation } from './domain/reconcile.js';
import type { RecordedEvent } from './kube/events.js';
import { ConflictError, describeError, type EventTarget, type MinerStatefulSet } from './kube/kube.js';
import type { OperatorMetrics } from './metrics.js';

export interface StatefulSetPort {
  readonly name: string;
  readonly namespace: string;
  get(): Promise<MinerStatefulSet | undefined>;
  scale(replicas: number, resourceVersion: string): Promise<void>;
  recordObservedPartitions(partitions: number): Promise<void>;
}

export interface TopicPort {
  readonly topic: string;
  read(): Promise<number | undefined>;
  grow(to: number): Promise<number>;
}

export interface EventPort {
  record(target: EventTarget, event: RecordedEvent): Promise<void>;
}

export interface Leadership {
  isLeader(): boolean;
}

export interface ReconcilerOptions {
  statefulSets: StatefulSetPort;
  topic: TopicPort;
  events: EventPort;
  leadership: Leadership;
  metrics: OperatorMetrics;
  logger: Logger;
  maxPartitions: number;
  configuredPartitions: number | undefined;
  resyncIntervalMs: number;
}

export interface ReconcileRecord {
  at: string;
  trigger: string;
  observation?: Omit<Observation, 'maxPartitions'>;
  decision?: Decision;
  error?: string;
}

const MIN_RETRY_MS = 500;
const MAX_RETRY_MS = 30_000;
const CONFLICT_RETRY_MS = 100;

export class Reconciler {
  #running: Promise<void> | undefined;
  #pendingTrigger: string | undefined;
  #resyncTimer: NodeJS.Timeout | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #retryMs = MIN_RETRY_MS;
  #stopped = false;
  /** Reports made for the current situation, so that a report is made once, not on every resync. */
  #reported = new Set<string>();
  #last: ReconcileRecord | undefined;
  #succeeded = 0;

  readonly #options: ReconcilerOptions;

  constructor(options: ReconcilerOptions) {
    this.#options = options;
  }

  start(): void {
    if (this.#stopped || this.#resyncTimer !== undefined) return;
    this.#resyncTimer = setInterval(() => this.trigger('resync'), this.#options.resyncIntervalMs);
    this.#resyncTimer.unref();
    this.trigger('start');
  }

  /** Asks for a reconcile; coalesced with any already pending. */
  trigger(reason: string): void {
    if (this.#stopped) return;
    if (this.#running !== undefined) {
      this.#pendingTrigger ??= reason;
      return;
    }
    this.#running = this.#loop(reason).finally(() => {
      this.#running = undefined;
    });
  }

  /** Resolves once no reconcile is running or pending (tests). */
  async idle(): Promise<void> {
    while (this.#running !== undefined) await this.#running;
  }

  status(): { last: ReconcileRecord | undefined; succeeded: number } {
    return { last: this.#last, succeeded: this.#succeeded };
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#resyncTimer);
    clearTimeout(this.#retryTimer);
    await this.#running;
  }

  async #loop(reason: string): Promise<void> {
    let next: string | undefined = reason;
    while (next !== undefined && !this.#stopped) {
      this.#pendingTrigger = undefined;
      await this.#reconcileOnce(next);
      next = this.#pendingTrigger;
    }
  }

  #scheduleRetry(delayMs: number, reason: string): void {
    clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(() => this.trigger(reason), delayMs);
    this.#retryTimer.unref();
  }

  async #reconcileOnce(trigger: string): Promise<void> {
    const { metrics, logger } = this.#options;
    const stopTimer = metrics.reconcileDuration.startTimer();
    const record: ReconcileRecord = { at: new Date().toISOString(), trigger };
    try {
      await this.#reconcile(record);
      this.#retryMs = MIN_RETRY_MS;
      this.#succeeded += 1;
    } catch (error) {
      record.error = describeError(error);
      if (error instanceof ConflictError) {
        logger.info({ reason: record.error }, 'a concurrent change won; reconciling again');
        this.#scheduleRetry(CONFLICT_RETRY_MS, 'conflict');
      } else {
        metrics.reconcileErrors.inc();
        logger.warn({ err: record.error, trigger, retryInMs: this.#retryMs }, 'reconcile failed');
        this.#scheduleRetry(this.#retryMs, 'retry');
        this.#retryMs = Math.min(MAX_RETRY_MS, this.#retryMs * 2);
      }
    } finally {
      stopTimer();
      this.#last = record;
    }
  }

  async #reconcile(record: ReconcileRecord): Promise<void> {
    const { statefulSets, topic, leadership, metrics, logger, maxPartitions, configuredPartitions } = this.#options;
    const statefulSet = await statefulSets.get();
    const partitions = await topic.read();

    // A missing topic or StatefulSet reads as 0 (not as the last value seen).
    metrics.partitions.set(partitions ?? 0);
    metrics.desiredMiners.set(statefulSet?.replicas ?? 0);
    metrics.readyMiners.set(statefulSet?.readyReplicas ?? 0);
    metrics.unownedPartitions.set(unownedPartitions(partitions, statefulSet?.readyReplicas ?? 0));

    const observation: Observation = {
      replicas: statefulSet?.replicas,
      readyReplicas: statefulSet?.readyReplicas ?? 0,
      partitions,
      observedPartitions: statefulSet?.observedPartitions,
      configuredPartitions,
      leader: leadership.isLeader(),
      maxPartitions,
    };
    const decision = decide(observation);
    const { maxPartitions: _limit, ...shown } = observation;
    record.observation = shown;
    record.decision = decision;

    const reports = new Set(decision.actions.filter((action) => !MUTATING.has(action.kind)).map(reportKey));
    if (decision.actions.length === 0) {
      logger.debug({ situation: decision.situation, observation: shown }, 'nothing to do');
      this.#reported = reports;
      return;
    }
    // Only the leader gets here (decide() returns no action otherwise), and it checks before every write that it
    // still leads: leadership may have ended while the reads above were in flight.
    for (const action of decision.actions) {
      if (MUTATING.has(action.kind) && !leadership.isLeader()) {
        logger.warn({ action }, 'no longer the leader; leaving the rest of this reconcile to the new one');
        return;
      }
      if (!MUTATING.has(action.kind) && this.#reported.has(reportKey(action))) continue;
      await this.#execute(action, statefulSet as MinerStatefulSet);
    }
    this.#reported = reports;
  }

  async #execute(action: Action, statefulSet: MinerStatefulSet): Promise<void> {
    const { statefulSets, topic, metrics, logger } = this.#options;
    const target: EventTarget = { name: statefulSet.name, namespace: statefulSet.namespace, uid: statefulSet.uid };
    const report = (event: RecordedEvent): Promise<void> => this.#options.events.record(target, event);
    switch (action.kind) {
      case 'grow-partitions': {
        try {
          await topic.grow(action.to);
        } catch (error) {
          await report({ type: 'Warning', reason: 'GrowPartitionsFailed', message: `Could not grow topic ${topic.topic} to ${action.to} partitions: ${describeError(error)}` });
          throw error;
        }
        const message = `Grew topic ${topic.topic} from ${action.from} to ${action.to} partitions to match ${statefulSet.replicas} miner replicas`;
        logger.info({ topic: topic.topic, from: action.from, to: action.to, replicas: statefulSet.replicas }, message);
        await report({ type: 'Normal', reason: 'PartitionsGrown', message });
        break;
      }
      case 'scale-miners': {
        try {
          await statefulSets.scale(action.to, statefulSet.resourceVersion);
        } catch (error) {
          if (!(error instanceof ConflictError)) {
            await report({ type: 'Warning', reason: 'ScaleFailed', message: `Could not scale the miners to ${action.to} replicas: ${describeError(error)}` });
          }
          throw error;
        }
        const message = `Scaled miners from ${action.from} to ${action.to} replicas to match the partitions of topic ${topic.topic}, which grew`;
        logger.info({ statefulSet: statefulSets.name, from: action.from, to: action.to }, message);
        await report({ type: 'Normal', reason: 'MinersScaledUp', message });
        break;
      }
      case 'report-scale-down': {
        const message =
          `${action.replicas} miner replica(s) for ${action.partitions} partitions of topic ${topic.topic}: miners own several partitions each. ` +
          'Allowed and left as it is (partitions never shrink); scale the miners up to give every partition its own miner';
        logger.warn({ statefulSet: statefulSets.name, replicas: action.replicas, partitions: action.partitions }, 'miners below partitions: reported, not reverted');
        await report({ type: 'Normal', reason: 'MinersBelowPartitions', message });
        break;
      }
      case 'report-partition-limit': {
        const message = `Matching miners and partitions needs ${action.wanted}, above MAX_PARTITIONS (${action.limit}): the operator stops at ${action.limit}`;
        logger.warn({ wanted: action.wanted, limit: action.limit }, message);
        await report({ type: 'Warning', reason: 'PartitionLimitReached', message });
        break;
      }
      case 'record-partitions':
        await statefulSets.recordObservedPartitions(action.partitions);
        logger.debug({ partitions: action.partitions }, 'recorded the observed partition count');
        break;
    }
    metrics.actions.inc({ action: action.kind });
  }
}

function reportKey(action: Action): string {
  return JSON.stringify(action);
}
