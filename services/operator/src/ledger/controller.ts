// The Ledger controller: for every Ledger in the watched namespace, make the cluster and Kafka match it.
//
// One reconcile of one Ledger (only on the leader):
//   1. deleted? keep or delete its topics (spec.topics.deletionPolicy), delete what it owns, drop the finalizer;
//   2. the finalizer only with deletionPolicy Delete (the topics must be deleted before it goes); a Retain Ledger
//      needs nobody to go: the garbage collector deletes its workloads through their owner references, so it
//      can be deleted with the operator gone too (`helm uninstall` deletes the operator and the Ledger at once);
//   3. a `kubectl scale statefulset/<ledger>-miner` up is adopted into spec.partitions, one down is reverted
//      (miners never go below one per partition) with a Warning Event that says to scale the Ledger;
//   4. topics created and the transactions topic grown to spec.partitions through the Kafka admin API
//      (never shrunk; partitions someone added in Kafka are adopted into spec.partitions);
//   5. every object it implies server-side applied under one field manager, forced (drift is corrected),
//      owned by the Ledger; owned objects it no longer implies deleted;
//   6. status (observedGeneration, conditions, partitions, miners, chain) written when it changed.
// Reconciles of different Ledgers are independent: a failing one is retried with its own backoff.
import type { Logger } from '@chainlog/core/logging';
import type { KubeConfig } from '@kubernetes/client-node';
import { FIELD_MANAGER } from '../config.js';
import type { RecordedEvent } from '../kube/events.js';
import { applyQuery, APPLY_PATCH, isStatus, KubeApiError, MERGE_PATCH, resourcePath, type KubeJson } from '../kube/kube-json.js';
import type { EventTarget } from '../kube/kube.js';
import { forgetLedger, initLedgerSeries, type LedgerMetrics } from '../metrics.js';
import { API_VERSION, KIND, PLURAL } from './crd.js';
import type { LedgerKafkaPort, TopicsObservation } from './kafka.js';
import { bootstrapServers, componentName, LEDGER_LABEL, OWNED_KINDS, renderLedger, selectorLabels, type KubeObject, type RenderOptions } from './render.js';
import { computeStatus, isReady, type ChainState, type WorkloadState } from './status.js';
import type { Ledger, LedgerStatus } from './types.js';
import { CollectionWatch, type WatchedObject } from './watch.js';

/** prometheus-operator kinds whose CRD may be missing: the Ledger field that asks for each. */
const MONITORING_FIELDS: Readonly<Record<string, string>> = { ServiceMonitor: 'serviceMonitor', PrometheusRule: 'prometheusRule' };

/** Keeps a deleted Ledger with deletionPolicy Delete until its topics and objects were deleted. */
export const FINALIZER = 'chainlog.dev/topics';

export interface LedgerEventPort {
  record(target: EventTarget, event: RecordedEvent): Promise<void>;
}

export interface LedgerControllerOptions {
  kube: KubeJson;
  kubeConfig: KubeConfig;
  namespace: string;
  kafka: LedgerKafkaPort;
  events: LedgerEventPort;
  leadership: { isLeader(): boolean };
  metrics: LedgerMetrics;
  logger: Logger;
  render: RenderOptions;
  resyncIntervalMs: number;
  /** Asks the Ledger's auditor for the chain (height, tip, oldest pending); undefined when it cannot answer. */
  chainStatus?: (ledger: Ledger) => Promise<ChainState | undefined>;
  watchTimeoutSeconds?: number;
}

interface OwnedObject extends KubeObject {
  metadata: KubeObject['metadata'] & { uid?: string; resourceVersion?: string; generation?: number; managedFields?: ManagedField[] };
  spec?: Record<string, unknown> & { replicas?: number };
  status?: { readyReplicas?: number; observedGeneration?: number; replicas?: number; updatedReplicas?: number };
}

interface ManagedField {
  manager?: string;
  fieldsV1?: { 'f:spec'?: Record<string, unknown> };
}

const MIN_RETRY_MS = 500;
const MAX_RETRY_MS = 30_000;

const keyOf = (namespace: string, name: string): string => `${namespace}/${name}`;
const objectKey = (object: Pick<KubeObject, 'kind' | 'metadata'>): string => `${object.kind}/${object.metadata.name}`;

export class LedgerController {
  readonly #pending = new Map<string, string>();
  #running: Promise<void> | undefined;
  readonly #retries = new Map<string, { timer: NodeJS.Timeout; delayMs: number }>();
  readonly #known = new Set<string>();
  readonly #watches: CollectionWatch[] = [];
  #resyncTimer: NodeJS.Timeout | undefined;
  #stopped = false;
  readonly #last = new Map<string, { at: string; trigger: string; error?: string; actions: string[] }>();

  readonly #options: LedgerControllerOptions;

  constructor(options: LedgerControllerOptions) {
    this.#options = options;
  }

  get #ledgersPath(): string {
    return resourcePath(API_VERSION, PLURAL, this.#options.namespace);
  }

  start(): void {
    const { kubeConfig, kube, logger, namespace } = this.#options;
    const common = { kubeConfig, kube, logger, ...(this.#options.watchTimeoutSeconds !== undefined ? { watchTimeoutSeconds: this.#options.watchTimeoutSeconds } : {}) };
    this.#watches.push(
      new CollectionWatch({ ...common, path: this.#ledgersPath, onChange: (type, object) => this.#onLedger(type, object) }),
      // The workloads it owns: a readiness change updates status, a change by someone else is corrected.
      ...(['statefulsets', 'deployments'] as const).map(
        (plural) =>
          new CollectionWatch({
            ...common,
            path: resourcePath('apps/v1', plural, namespace),
            labelSelector: LEDGER_LABEL,
            onChange: (_type, object) => {
              const ledger = object.metadata.labels?.[LEDGER_LABEL];
              if (ledger !== undefined) this.trigger(keyOf(namespace, ledger), `${plural}-changed`);
            },
          }),
      ),
    );
    for (const watch of this.#watches) watch.start();
    this.#resyncTimer = setInterval(() => this.resync(), this.#options.resyncIntervalMs);
    this.#resyncTimer.unref();
  }

  /** The Ledger watch is established (listed and watching). */
  readiness(): { ready: boolean; reason?: string } {
    const state = this.#watches[0]?.state() ?? { established: false, reason: 'not started' };
    return state.established ? { ready: true } : { ready: false, reason: state.reason ?? 'the Ledger watch is not established' };
  }

  status(): Record<string, unknown> {
    return { ledgers: Object.fromEntries(this.#last) };
  }

  #onLedger(type: string, object: WatchedObject): void {
    const key = keyOf(object.metadata.namespace ?? this.#options.namespace, object.metadata.name);
    if (type !== 'DELETED') this.#known.add(key);
    this.trigger(key, `ledger-${type.toLowerCase()}`);
  }

  /** Reconciles every known Ledger (after becoming the leader, and periodically). */
  resync(reason = 'resync'): void {
    for (const key of this.#known) this.trigger(key, reason);
  }

  trigger(key: string, reason: string): void {
    if (this.#stopped) return;
    if (!this.#pending.has(key)) this.#pending.set(key, reason);
    this.#running ??= this.#drain().finally(() => {
      this.#running = undefined;
    });
  }

  /** Resolves once nothing is running or pending (tests). */
  async idle(): Promise<void> {
    while (this.#running !== undefined) await this.#running;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#resyncTimer);
    for (const watch of this.#watches) watch.stop();
    for (const retry of this.#retries.values()) clearTimeout(retry.timer);
    await this.#running;
  }

  async #drain(): Promise<void> {
    while (!this.#stopped && this.#pending.size > 0) {
      const [key, reason] = this.#pending.entries().next().value as [string, string];
      this.#pending.delete(key);
      await this.#reconcileKey(key, reason);
    }
  }

  #scheduleRetry(key: string): number {
    const previous = this.#retries.get(key);
    clearTimeout(previous?.timer);
    const delayMs = previous === undefined ? MIN_RETRY_MS : Math.min(MAX_RETRY_MS, previous.delayMs * 2);
    const timer = setTimeout(() => this.trigger(key, 'retry'), delayMs);
    timer.unref();
    this.#retries.set(key, { timer, delayMs });
    return delayMs;
  }

  async #reconcileKey(key: string, trigger: string): Promise<void> {
    if (!this.#options.leadership.isLeader()) return;
    const [namespace, name] = key.split('/') as [string, string];
    const labels = { namespace, ledger: name };
    const stopTimer = this.#options.metrics.reconcileDuration.startTimer(labels);
    const record = { at: new Date().toISOString(), trigger, actions: [] as string[] };
    this.#last.set(key, record);
    initLedgerSeries(this.#options.metrics, labels);
    try {
      await this.#reconcile(namespace, name, record.actions);
      const retry = this.#retries.get(key);
      if (retry !== undefined) {
        clearTimeout(retry.timer);
        this.#retries.delete(key);
      }
      this.#options.metrics.reconciles.inc({ ...labels, result: 'ok' });
    } catch (error) {
      const message = describe(error);
      this.#last.set(key, { ...record, error: message });
      if (isStatus(error, 409)) {
        // Someone changed the object between our read and write: look again at once.
        this.trigger(key, 'conflict');
        return;
      }
      this.#options.metrics.reconciles.inc({ ...labels, result: 'error' });
      const retryInMs = this.#scheduleRetry(key);
      this.#options.logger.warn({ ledger: key, err: message, retryInMs }, 'Ledger reconcile failed');
    } finally {
      if (this.#known.has(key)) stopTimer();
    }
  }

  #target(ledger: Ledger): EventTarget {
    return { name: ledger.metadata.name, namespace: ledger.metadata.namespace, uid: ledger.metadata.uid, kind: KIND, apiVersion: API_VERSION };
  }

  async #event(ledger: Ledger, actions: string[], event: RecordedEvent): Promise<void> {
    actions.push(`${event.reason}: ${event.message}`);
    if (event.type === 'Warning') this.#options.logger.warn({ ledger: ledger.metadata.name, reason: event.reason }, event.message);
    else this.#options.logger.info({ ledger: ledger.metadata.name, reason: event.reason }, event.message);
    await this.#options.events.record(this.#target(ledger), event);
  }

  async #read(namespace: string, name: string): Promise<Ledger | undefined> {
    try {
      return await this.#options.kube.request<Ledger>('GET', resourcePath(API_VERSION, PLURAL, namespace, name));
    } catch (error) {
      if (isStatus(error, 404)) return undefined;
      throw error;
    }
  }

  async #reconcile(namespace: string, name: string, actions: string[]): Promise<void> {
    const key = keyOf(namespace, name);
    let ledger = await this.#read(namespace, name);
    if (ledger === undefined) {
      // Gone without a finalizer (deletionPolicy Retain): the garbage collector deletes what it owned; so does
      // this, at once (and where no garbage collector runs). Its topics stay: the ledger is data.
      await this.#deleteOrphans(namespace, name);
      this.#known.delete(key);
      forgetLedger(this.#options.metrics, { namespace, ledger: name });
      await this.#options.kafka.forget(key);
      return;
    }
    if (ledger.metadata.deletionTimestamp !== undefined) {
      await this.#finalize(ledger, actions);
      return;
    }
    ledger = await this.#ensureFinalizer(ledger);
    const owned = await this.#listOwned(ledger);
    ledger = await this.#handleMinerScale(ledger, owned, actions);

    const { topics, kafka } = await this.#reconcileTopics(ledger, actions);
    if (topics?.partitions !== undefined && topics.partitions > ledger.spec.partitions) ledger = await this.#adoptPartitions(ledger, topics.partitions, actions);

    const topicsReady = topics !== undefined && (topics.partitions ?? 0) >= ledger.spec.partitions;
    const { applied, error } = await this.#applyAll(ledger, owned, topicsReady, actions);
    await this.#prune(ledger, owned, applied, actions);

    const chain = await this.#options.chainStatus?.(ledger).catch(() => undefined);
    await this.#writeStatus(ledger, {
      kafka,
      topics: {
        ready: topicsReady,
        partitions: topics?.partitions,
        message: topics === undefined ? 'Kafka cannot be asked' : topicsReady ? `5 topics, ${topics.partitions} transactions partition(s)` : `transactions topic has ${topics.partitions ?? 0} of ${ledger.spec.partitions} partitions`,
      },
      applied,
      ...(error !== undefined ? { error } : {}),
      ...(chain !== undefined ? { chain } : {}),
    });
    if (error !== undefined) throw new Error(error);
  }

  /** The finalizer when deletionPolicy is Delete, none otherwise (also taken off when the policy changed). */
  async #ensureFinalizer(ledger: Ledger): Promise<Ledger> {
    const finalizers = ledger.metadata.finalizers ?? [];
    const wanted = ledger.spec.topics.deletionPolicy === 'Delete';
    if (finalizers.includes(FINALIZER) === wanted) return ledger;
    return this.#options.kube.request<Ledger>(
      'PATCH',
      resourcePath(API_VERSION, PLURAL, ledger.metadata.namespace, ledger.metadata.name),
      { metadata: { finalizers: wanted ? [...finalizers, FINALIZER] : finalizers.filter((finalizer) => finalizer !== FINALIZER), resourceVersion: ledger.metadata.resourceVersion } },
      MERGE_PATCH,
    );
  }

  /** What a Ledger that is gone still owned (its label, an owner reference to a Ledger of its name): deleted. */
  async #deleteOrphans(namespace: string, name: string): Promise<void> {
    const orphans = await this.#listLabelled(namespace, name, (object) => object.metadata.ownerReferences?.some((reference) => reference.kind === KIND && reference.name === name) === true);
    for (const object of orphans.values()) await this.#deleteObject(namespace, object);
    if (orphans.size > 0) this.#options.logger.info({ ledger: name, namespace, deleted: [...orphans.keys()] }, 'deleted what a deleted Ledger owned; its topics are kept');
  }

  /** Every object of a kind the operator renders that carries this Ledger's label and is owned by it. */
  #listOwned(ledger: Ledger): Promise<Map<string, OwnedObject>> {
    return this.#listLabelled(ledger.metadata.namespace, ledger.metadata.name, (object) => object.metadata.ownerReferences?.some((reference) => reference.uid === ledger.metadata.uid) === true);
  }

  async #listLabelled(namespace: string, name: string, keep: (object: OwnedObject) => boolean): Promise<Map<string, OwnedObject>> {
    const owned = new Map<string, OwnedObject>();
    const selector = `?labelSelector=${encodeURIComponent(`${LEDGER_LABEL}=${name}`)}`;
    for (const kind of OWNED_KINDS) {
      let list: { items: OwnedObject[] };
      try {
        list = await this.#options.kube.request<{ items: OwnedObject[] }>('GET', resourcePath(kind.apiVersion, kind.plural, namespace) + selector);
      } catch (error) {
        // A kind whose CRD is not installed (ServiceMonitor without the prometheus-operator) owns nothing.
        if (isStatus(error, 404)) continue;
        throw error;
      }
      for (const item of list.items) {
        const object: OwnedObject = { ...item, kind: kind.kind, apiVersion: kind.apiVersion };
        if (keep(object)) owned.set(objectKey(object), object);
      }
    }
    return owned;
  }

  async #patchPartitions(ledger: Ledger, partitions: number): Promise<Ledger> {
    await this.#options.kube.request(
      'PATCH',
      resourcePath(API_VERSION, PLURAL, ledger.metadata.namespace, ledger.metadata.name, 'scale'),
      { spec: { replicas: partitions } },
      MERGE_PATCH,
    );
    return (await this.#read(ledger.metadata.namespace, ledger.metadata.name)) ?? ledger;
  }

  /** `kubectl scale statefulset/<ledger>-miner`: up is adopted into the Ledger, down is reverted. */
  async #handleMinerScale(ledger: Ledger, owned: Map<string, OwnedObject>, actions: string[]): Promise<Ledger> {
    const statefulSet = owned.get(`StatefulSet/${componentName(ledger, 'miner')}`);
    const replicas = statefulSet?.spec?.replicas;
    if (statefulSet === undefined || replicas === undefined || replicas === ledger.spec.partitions) return ledger;
    const others = replicaManagers(statefulSet).filter((manager) => manager !== FIELD_MANAGER);
    if (others.length === 0) return ledger; // our own value from before a Ledger change: the apply updates it
    const name = `${ledger.metadata.name}`;
    if (replicas > ledger.spec.partitions && replicas <= ledger.spec.maxPartitions) {
      await this.#event(ledger, actions, {
        type: 'Normal',
        reason: 'MinerScaleAdopted',
        message: `StatefulSet ${statefulSet.metadata.name} was scaled to ${replicas} (by ${others.join(', ')}): the Ledger grows to ${replicas} partitions and miners`,
      });
      return this.#patchPartitions(ledger, replicas);
    }
    await this.#event(ledger, actions, {
      type: 'Warning',
      reason: 'MinerScaleReverted',
      message:
        `StatefulSet ${statefulSet.metadata.name} was scaled to ${replicas} (by ${others.join(', ')}); the Ledger has ${ledger.spec.partitions} partitions ` +
        `and at most ${ledger.spec.maxPartitions}: reverted. Scale the Ledger instead: kubectl scale ledger/${name} --replicas=N (partitions never decrease)`,
    });
    return ledger;
  }

  async #adoptPartitions(ledger: Ledger, partitions: number, actions: string[]): Promise<Ledger> {
    if (partitions > ledger.spec.maxPartitions) {
      await this.#event(ledger, actions, {
        type: 'Warning',
        reason: 'PartitionLimitReached',
        message: `Topic ${ledger.spec.topics.transactions} has ${partitions} partitions, above spec.maxPartitions (${ledger.spec.maxPartitions}): raise maxPartitions to let the miners follow`,
      });
      return ledger;
    }
    await this.#event(ledger, actions, {
      type: 'Normal',
      reason: 'PartitionsAdopted',
      message: `Topic ${ledger.spec.topics.transactions} was grown to ${partitions} partitions outside the operator: the Ledger follows (spec.partitions ${ledger.spec.partitions} → ${partitions})`,
    });
    return this.#patchPartitions(ledger, partitions);
  }

  async #reconcileTopics(ledger: Ledger, actions: string[]): Promise<{ topics: TopicsObservation | undefined; kafka: { reachable: boolean; message: string } }> {
    const servers = bootstrapServers(ledger);
    try {
      const topics = await this.#options.kafka.ensure(ledger, ledger.spec.partitions);
      this.#options.metrics.kafkaReachable.set({ namespace: ledger.metadata.namespace, ledger: ledger.metadata.name }, 1);
      for (const change of topics.changes) {
        await this.#event(ledger, actions, { type: 'Normal', reason: change.startsWith('grew') ? 'PartitionsGrown' : 'TopicCreated', message: `Topic ${change}` });
      }
      return { topics, kafka: { reachable: true, message: `Kafka at ${servers} answered` } };
    } catch (error) {
      this.#options.metrics.kafkaReachable.set({ namespace: ledger.metadata.namespace, ledger: ledger.metadata.name }, 0);
      const message = `Kafka at ${servers}: ${describe(error)}`;
      const previous = ledger.status?.conditions?.find((condition) => condition.type === 'KafkaReachable');
      if (previous?.status !== 'False') await this.#event(ledger, actions, { type: 'Warning', reason: 'KafkaUnreachable', message });
      return { topics: undefined, kafka: { reachable: false, message } };
    }
  }

  async #applyAll(ledger: Ledger, owned: Map<string, OwnedObject>, topicsReady: boolean, actions: string[]): Promise<{ applied: Map<string, OwnedObject>; error?: string }> {
    const applied = new Map<string, OwnedObject>();
    const errors: string[] = [];
    const labels = { namespace: ledger.metadata.namespace, ledger: ledger.metadata.name };
    for (const object of renderLedger(ledger, this.#options.render)) {
      const key = objectKey(object);
      const before = owned.get(key);
      // Miners start only once their topic has its partitions (they would otherwise create it with their default).
      if (object.kind === 'StatefulSet' && key === `StatefulSet/${componentName(ledger, 'miner')}` && before === undefined && !topicsReady) continue;
      const kind = OWNED_KINDS.find((candidate) => candidate.kind === object.kind);
      if (kind === undefined) continue;
      // The miners' replicas were judged (adopt or revert) on the StatefulSet as listed: apply only onto that
      // version, so a `kubectl scale` in between is a 409 and judged again, never silently overwritten.
      const body = key === `StatefulSet/${componentName(ledger, 'miner')}` && before?.metadata.resourceVersion !== undefined
        ? { ...object, metadata: { ...object.metadata, resourceVersion: before.metadata.resourceVersion } }
        : object;
      try {
        const result = await this.#options.kube.request<OwnedObject>(
          'PATCH',
          resourcePath(kind.apiVersion, kind.plural, ledger.metadata.namespace, object.metadata.name) + applyQuery(),
          body,
          APPLY_PATCH,
        );
        applied.set(key, { ...result, kind: object.kind });
        if (before === undefined) {
          this.#options.metrics.objectChanges.inc({ ...labels, change: 'created' });
          await this.#event(ledger, actions, { type: 'Normal', reason: 'Created', message: `Created ${key}` });
        } else if (before.metadata.resourceVersion !== result.metadata.resourceVersion && !statusOnlyChange(before, result)) {
          this.#options.metrics.objectChanges.inc({ ...labels, change: 'changed' });
          await this.#event(ledger, actions, { type: 'Normal', reason: 'Updated', message: `Updated ${key} to match the Ledger` });
        }
      } catch (error) {
        const field = MONITORING_FIELDS[kind.kind];
        if (isStatus(error, 404) && field !== undefined) {
          errors.push(`spec.monitoring.${field}.enabled needs the prometheus-operator (monitoring.coreos.com/v1 ${kind.kind} is not served)`);
          continue;
        }
        if (isStatus(error, 409)) throw error;
        errors.push(`${key}: ${describe(error)}`);
      }
    }
    if (errors.length > 0) {
      const message = errors.join('; ');
      const previous = ledger.status?.conditions?.find((condition) => condition.type === 'Degraded');
      if (previous?.message !== message) await this.#event(ledger, actions, { type: 'Warning', reason: 'ApplyFailed', message });
      return { applied, error: message };
    }
    return { applied };
  }

  async #deleteObject(namespace: string, object: OwnedObject): Promise<void> {
    const kind = OWNED_KINDS.find((candidate) => candidate.kind === object.kind);
    if (kind === undefined) return;
    try {
      await this.#options.kube.request('DELETE', resourcePath(kind.apiVersion, kind.plural, namespace, object.metadata.name), {
        apiVersion: 'v1',
        kind: 'DeleteOptions',
        propagationPolicy: 'Background',
        preconditions: { uid: object.metadata.uid },
      });
    } catch (error) {
      if (!isStatus(error, 404) && !isStatus(error, 409)) throw error;
    }
  }

  /** Owned objects the Ledger no longer implies (a disabled ServiceMonitor, a bundled Kafka's Services, ...). */
  async #prune(ledger: Ledger, owned: Map<string, OwnedObject>, applied: Map<string, OwnedObject>, actions: string[]): Promise<void> {
    const wanted = new Set(renderLedger(ledger, this.#options.render).map(objectKey));
    for (const [key, object] of owned) {
      if (wanted.has(key) || applied.has(key)) continue;
      await this.#deleteObject(ledger.metadata.namespace, object);
      this.#options.metrics.objectChanges.inc({ namespace: ledger.metadata.namespace, ledger: ledger.metadata.name, change: 'deleted' });
      await this.#event(ledger, actions, { type: 'Normal', reason: 'Deleted', message: `Deleted ${key}: the Ledger no longer implies it` });
    }
  }

  async #finalize(ledger: Ledger, actions: string[]): Promise<void> {
    if (!(ledger.metadata.finalizers ?? []).includes(FINALIZER)) return;
    const { topics } = ledger.spec;
    if (topics.deletionPolicy === 'Delete') {
      const deleted = await this.#options.kafka.deleteTopics(ledger).catch(async (error: unknown) => {
        await this.#event(ledger, actions, { type: 'Warning', reason: 'TopicDeletionFailed', message: `Could not delete the topics (retrying; the Ledger stays until then): ${describe(error)}` });
        throw error;
      });
      await this.#event(ledger, actions, { type: 'Normal', reason: 'TopicsDeleted', message: `Deleted topics ${deleted.join(', ') || '(none existed)'} (deletionPolicy Delete)` });
    } else {
      await this.#event(ledger, actions, {
        type: 'Normal',
        reason: 'TopicsRetained',
        message: `Kept topics ${[topics.transactions, topics.blockchain, topics.audit, topics.deadLetter, topics.checkpoints].join(', ')}: the ledger is data (deletionPolicy Retain)`,
      });
    }
    // Deleted here rather than left to the garbage collector, so the Ledger is gone only once its workloads are.
    for (const object of (await this.#listOwned(ledger)).values()) await this.#deleteObject(ledger.metadata.namespace, object);
    const finalizers = (ledger.metadata.finalizers ?? []).filter((finalizer) => finalizer !== FINALIZER);
    await this.#options.kube.request(
      'PATCH',
      resourcePath(API_VERSION, PLURAL, ledger.metadata.namespace, ledger.metadata.name),
      { metadata: { finalizers, resourceVersion: ledger.metadata.resourceVersion } },
      MERGE_PATCH,
    );
    await this.#options.kafka.forget(keyOf(ledger.metadata.namespace, ledger.metadata.name));
  }

  async #writeStatus(
    ledger: Ledger,
    seen: {
      kafka: { reachable: boolean; message: string };
      topics: { ready: boolean; partitions: number | undefined; message: string };
      applied: Map<string, OwnedObject>;
      error?: string;
      chain?: ChainState;
    },
  ): Promise<void> {
    const workloads: WorkloadState[] = [...seen.applied.values()]
      .filter((object) => object.kind === 'Deployment' || object.kind === 'StatefulSet')
      .map((object) => ({
        name: objectKey(object),
        desired: object.spec?.replicas ?? 1,
        ready: object.status?.readyReplicas ?? 0,
        upToDate: (object.status?.observedGeneration ?? 0) >= (object.metadata.generation ?? 0),
      }));
    const miner = seen.applied.get(`StatefulSet/${componentName(ledger, 'miner')}`);
    const minerState = { desired: miner?.spec?.replicas ?? 0, ready: miner?.status?.readyReplicas ?? 0 };
    if (miner === undefined) workloads.push({ name: `StatefulSet/${componentName(ledger, 'miner')}`, desired: ledger.spec.partitions, ready: 0, upToDate: false });
    const auditor = seen.applied.get(`StatefulSet/${componentName(ledger, 'auditor')}`);
    const status = computeStatus(
      ledger.status,
      {
        generation: ledger.metadata.generation,
        kafka: seen.kafka,
        topics: seen.topics,
        workloads,
        miners: minerState,
        ...(auditor === undefined ? {} : { auditors: { desired: auditor.spec?.replicas ?? 0, ready: auditor.status?.readyReplicas ?? 0 } }),
        ...(seen.error !== undefined ? { error: seen.error } : {}),
        selector: Object.entries(selectorLabels(ledger, 'miner'))
          .map(([key, value]) => `${key}=${value}`)
          .join(','),
        bootstrapServers: bootstrapServers(ledger),
        ...(seen.chain !== undefined ? { chain: seen.chain } : {}),
      },
      new Date().toISOString(),
    );
    const labels = { namespace: ledger.metadata.namespace, ledger: ledger.metadata.name };
    const { metrics } = this.#options;
    metrics.partitions.set(labels, status.partitions ?? 0);
    metrics.miners.set(labels, status.miners ?? 0);
    metrics.readyMiners.set(labels, status.readyMiners ?? 0);
    metrics.ready.set(labels, isReady(status) ? 1 : 0);
    if (status.chain?.height !== undefined) metrics.chainHeight.set(labels, status.chain.height);
    if (status.chain?.oldestPendingSeconds !== undefined) metrics.oldestPendingSeconds.set(labels, status.chain.oldestPendingSeconds);
    if (sameStatus(ledger.status, status)) return;
    await this.#options.kube.request('PATCH', resourcePath(API_VERSION, PLURAL, ledger.metadata.namespace, ledger.metadata.name, 'status'), { status }, MERGE_PATCH);
  }
}

/** Managers of the StatefulSet's spec.replicas according to its managedFields. */
export function replicaManagers(object: { metadata: { managedFields?: ManagedField[] } }): string[] {
  return (object.metadata.managedFields ?? [])
    .filter((entry) => entry.fieldsV1?.['f:spec']?.['f:replicas'] !== undefined)
    .map((entry) => entry.manager ?? '(unknown)');
}

function statusOnlyChange(before: OwnedObject, after: OwnedObject): boolean {
  return before.metadata.generation !== undefined && before.metadata.generation === after.metadata.generation && JSON.stringify(before.metadata.labels) === JSON.stringify(after.metadata.labels);
}

function sameStatus(a: LedgerStatus | undefined, b: LedgerStatus): boolean {
  return JSON.stringify(normalize(a)) === JSON.stringify(normalize(b));
}

function normalize(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normalize);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .filter(([, entry]) => entry !== undefined)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([key, entry]) => [key, normalize(entry)]),
    );
  }
  return value;
}

function describe(error: unknown): string {
  if (error instanceof KubeApiError) return error.message;
  return (error as Error | undefined)?.message ?? String(error);
}
