// The Kubernetes API calls the operator makes, and nothing else (the chart's Role grants exactly these):
//   statefulsets          get, list, watch (the miner StatefulSet), patch (the observed-partitions annotation)
//   statefulsets/scale    patch (scale the miners up)
//   events                create, patch (reports on the StatefulSet, repeats aggregated)
//   leases                get, create, update (leader election)
//   deployments           get, of the operator's own Deployment only (the Lease's owner, OPERATOR_DEPLOYMENT)
// Every write names the field manager `chainlog-operator`. Every request but the watch is bounded by a timeout.
import { readFileSync } from 'node:fs';
import {
  ApiException,
  AppsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  KubeConfig,
  Observable,
  PatchStrategy,
  V1MicroTime,
  type ConfigurationOptions,
  type CoreV1Event,
  type ObservableMiddleware,
  type RequestContext,
  type ResponseContext,
  type V1Lease,
  type V1OwnerReference,
  type V1StatefulSet,
} from '@kubernetes/client-node';
import { FIELD_MANAGER, OBSERVED_PARTITIONS_ANNOTATION, type KubeAccess } from '../config.js';
import type { LeaseRecord, StoredLease } from '../domain/lease.js';

/** The parts of the miner StatefulSet the operator reads. */
export interface MinerStatefulSet {
  name: string;
  namespace: string;
  uid: string | undefined;
  resourceVersion: string;
  /** spec.replicas (Kubernetes defaults it to 1). */
  replicas: number;
  readyReplicas: number;
  /** The OBSERVED_PARTITIONS_ANNOTATION, when present and a positive integer. */
  observedPartitions: number | undefined;
}

/** A write lost against a concurrent one (HTTP 409): re-read and decide again. */
export class ConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConflictError';
  }
}

export function loadKubeConfig(access: KubeAccess): KubeConfig {
  const kubeConfig = new KubeConfig();
  if (access.kind === 'in-cluster') kubeConfig.loadFromCluster();
  else kubeConfig.loadFromString(readFileSync(access.path, 'utf8'));
  if (kubeConfig.getCurrentCluster() === null) throw new Error('the kubeconfig names no current cluster');
  return kubeConfig;
}

export function statusOf(error: unknown): number | undefined {
  if (error instanceof ApiException) return error.code;
  const code = (error as { code?: unknown; statusCode?: unknown } | null)?.statusCode;
  return typeof code === 'number' ? code : undefined;
}

/** A short description of a failed API call for logs and Events (ApiException bodies are whole Status objects). */
export function describeError(error: unknown): string {
  if (error instanceof ApiException) {
    const body = error.body as unknown;
    let message: string | undefined;
    if (typeof body === 'string') {
      try {
        message = (JSON.parse(body) as { message?: string }).message;
      } catch {
        message = body.slice(0, 200);
      }
    } else if (body !== null && typeof body === 'object') {
      message = (body as { message?: string }).message;
    }
    return `HTTP ${error.code}${message ? `: ${message}` : ''}`;
  }
  const status = statusOf(error);
  const message = (error as Error | undefined)?.message ?? String(error);
  return status === undefined ? message : `HTTP ${status}: ${message}`;
}

/** Middleware that aborts a request after timeoutMs, and optionally sets the patch Content-Type. */
export function requestOptions(timeoutMs: number, contentType?: string): ConfigurationOptions<ObservableMiddleware> {
  const middleware: ObservableMiddleware = {
    pre: (context: RequestContext) => {
      context.setSignal(AbortSignal.timeout(timeoutMs));
      if (contentType !== undefined) context.setHeaderParam('Content-Type', contentType);
      return new Observable(Promise.resolve(context));
    },
    post: (context: ResponseContext) => new Observable(Promise.resolve(context)),
  };
  return { middleware: [middleware], middlewareMergeStrategy: 'append' };
}

function positiveInteger(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d{1,9}$/.test(value)) return undefined;
  const parsed = Number(value);
  return parsed >= 1 ? parsed : undefined;
}

export function toMinerStatefulSet(object: V1StatefulSet): MinerStatefulSet {
  return {
    name: object.metadata?.name ?? '',
    namespace: object.metadata?.namespace ?? '',
    uid: object.metadata?.uid,
    resourceVersion: object.metadata?.resourceVersion ?? '',
    replicas: object.spec?.replicas ?? 1,
    readyReplicas: object.status?.readyReplicas ?? 0,
    observedPartitions: positiveInteger(object.metadata?.annotations?.[OBSERVED_PARTITIONS_ANNOTATION]),
  };
}

/** The miner StatefulSet: read, scale (guarded by resourceVersion), annotate. */
export class StatefulSetClient {
  readonly #apps: AppsV1Api;

  readonly #timeoutMs: number;

  constructor(
    kubeConfig: KubeConfig,
    readonly namespace: string,
    readonly name: string,
    timeoutMs: number,
  ) {
    this.#timeoutMs = timeoutMs;
    this.#apps = kubeConfig.makeApiClient(AppsV1Api);
  }

  /** A fresh read; undefined when the StatefulSet does not exist. */
  async get(): Promise<MinerStatefulSet | undefined> {
    try {
      return toMinerStatefulSet(await this.#apps.readNamespacedStatefulSet({ name: this.name, namespace: this.namespace }, requestOptions(this.#timeoutMs)));
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw error;
    }
  }

  /** Lists the one StatefulSet (field selector): its state and the resourceVersion to watch from. */
  async list(): Promise<{ statefulSet: MinerStatefulSet | undefined; resourceVersion: string }> {
    const list = await this.#apps.listNamespacedStatefulSet(
      { namespace: this.namespace, fieldSelector: `metadata.name=${this.name}` },
      requestOptions(this.#timeoutMs),
    );
    const [first] = list.items;
    return { statefulSet: first === undefined ? undefined : toMinerStatefulSet(first), resourceVersion: list.metadata?.resourceVersion ?? '' };
  }

  /**
   * Sets spec.replicas through the /scale subresource, only if the StatefulSet is still at resourceVersion
   * (a concurrent change, e.g. someone scaling it at the same moment, makes it a ConflictError).
   */
  async scale(replicas: number, resourceVersion: string): Promise<void> {
    try {
      await this.#apps.patchNamespacedStatefulSetScale(
        {
          name: this.name,
          namespace: this.namespace,
          body: { metadata: { resourceVersion }, spec: { replicas } },
          fieldManager: FIELD_MANAGER,
        },
        requestOptions(this.#timeoutMs, PatchStrategy.MergePatch),
      );
    } catch (error) {
      if (statusOf(error) === 409) throw new ConflictError(`the StatefulSet changed since resourceVersion ${resourceVersion}`);
      throw error;
    }
  }

  /** Records the partition count in the StatefulSet's annotation (a merge patch of that one key). */
  async recordObservedPartitions(partitions: number): Promise<void> {
    await this.#apps.patchNamespacedStatefulSet(
      {
        name: this.name,
        namespace: this.namespace,
        body: { metadata: { annotations: { [OBSERVED_PARTITIONS_ANNOTATION]: String(partitions) } } },
        fieldManager: FIELD_MANAGER,
      },
      requestOptions(this.#timeoutMs, PatchStrategy.MergePatch),
    );
  }
}

// --- Leases ------------------------------------------------------------------------------------------

function toMs(value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  const ms = value instanceof Date ? value.getTime() : Date.parse(String(value));
  return Number.isFinite(ms) ? ms : undefined;
}

function toRecord(lease: V1Lease): LeaseRecord {
  const spec = lease.spec ?? {};
  return {
    holderIdentity: spec.holderIdentity ?? undefined,
    leaseDurationSeconds: spec.leaseDurationSeconds ?? undefined,
    acquireTimeMs: toMs(spec.acquireTime),
    renewTimeMs: toMs(spec.renewTime),
    leaseTransitions: spec.leaseTransitions ?? undefined,
  };
}

function toSpec(record: LeaseRecord): NonNullable<V1Lease['spec']> {
  return {
    ...(record.holderIdentity ? { holderIdentity: record.holderIdentity } : {}),
    ...(record.leaseDurationSeconds !== undefined ? { leaseDurationSeconds: record.leaseDurationSeconds } : {}),
    ...(record.acquireTimeMs !== undefined ? { acquireTime: new V1MicroTime(record.acquireTimeMs) } : {}),
    ...(record.renewTimeMs !== undefined ? { renewTime: new V1MicroTime(record.renewTimeMs) } : {}),
    leaseTransitions: record.leaseTransitions ?? 0,
  };
}

/** Where the elector keeps its Lease; an interface so the election rules can be tested without a server. */
export interface LeaseStore {
  get(): Promise<StoredLease | undefined>;
  /** Creates the lease; ConflictError when it exists already. */
  create(record: LeaseRecord): Promise<StoredLease>;
  /** Replaces the lease if it is still at resourceVersion; ConflictError otherwise. */
  replace(record: LeaseRecord, resourceVersion: string): Promise<StoredLease>;
}

/**
 * The Lease is created at run time, so Helm never owns it: without an owner it outlived `helm uninstall`. Its
 * owners are the operator Deployments that elect with it (one per release sharing the Lease), and the garbage
 * collector deletes it once the last is gone. Not a delete on shutdown: a crashed or evicted leader never runs
 * that, and a stand-by would recreate the Lease a moment later anyway.
 */
export class KubeLeaseStore implements LeaseStore {
  readonly #coordination: CoordinationV1Api;
  readonly #apps: AppsV1Api;
  readonly #timeoutMs: number;
  /** The operator's own Deployment (OPERATOR_DEPLOYMENT); undefined: the Lease gets no owner. */
  readonly #ownerDeployment: string | undefined;
  /** The owner references the Lease had when last read (other releases' operators), kept on every write. */
  #liveOwners: V1OwnerReference[] = [];
  #owner: V1OwnerReference | undefined;

  constructor(
    kubeConfig: KubeConfig,
    readonly namespace: string,
    readonly name: string,
    timeoutMs: number,
    ownerDeployment?: string,
  ) {
    this.#timeoutMs = timeoutMs;
    this.#ownerDeployment = ownerDeployment;
    this.#coordination = kubeConfig.makeApiClient(CoordinationV1Api);
    this.#apps = kubeConfig.makeApiClient(AppsV1Api);
  }

  #stored(lease: V1Lease): StoredLease {
    this.#liveOwners = lease.metadata?.ownerReferences ?? [];
    return { record: toRecord(lease), resourceVersion: lease.metadata?.resourceVersion ?? '' };
  }

  /** The owner reference to the operator's Deployment, read once (until it can be read, the Lease keeps what it has). */
  async #ownerReference(): Promise<V1OwnerReference | undefined> {
    if (this.#owner !== undefined || this.#ownerDeployment === undefined) return this.#owner;
    try {
      const deployment = await this.#apps.readNamespacedDeployment({ name: this.#ownerDeployment, namespace: this.namespace }, requestOptions(this.#timeoutMs));
      const uid = deployment.metadata?.uid;
      if (uid !== undefined) this.#owner = { apiVersion: 'apps/v1', kind: 'Deployment', name: this.#ownerDeployment, uid };
    } catch {
      // Not fatal: electing matters more than the clean-up; the next write tries again.
    }
    return this.#owner;
  }

  /** The owners to write: the live ones (other releases' operators) and this operator's Deployment. */
  async #owners(): Promise<V1OwnerReference[] | undefined> {
    const mine = await this.#ownerReference();
    const owners = mine === undefined || this.#liveOwners.some((owner) => owner.uid === mine.uid) ? this.#liveOwners : [...this.#liveOwners, mine];
    return owners.length > 0 ? owners : undefined;
  }

  async get(): Promise<StoredLease | undefined> {
    try {
      return this.#stored(await this.#coordination.readNamespacedLease({ name: this.name, namespace: this.namespace }, requestOptions(this.#timeoutMs)));
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw error;
    }
  }

  async create(record: LeaseRecord): Promise<StoredLease> {
    this.#liveOwners = [];
    const ownerReferences = await this.#owners();
    try {
      const lease = await this.#coordination.createNamespacedLease(
        {
          namespace: this.namespace,
          body: {
            apiVersion: 'coordination.k8s.io/v1',
            kind: 'Lease',
            metadata: { name: this.name, namespace: this.namespace, ...(ownerReferences ? { ownerReferences } : {}) },
            spec: toSpec(record),
          },
          fieldManager: FIELD_MANAGER,
        },
        requestOptions(this.#timeoutMs),
      );
      return this.#stored(lease);
    } catch (error) {
      if (statusOf(error) === 409) throw new ConflictError(`lease ${this.name} was created concurrently`);
      throw error;
    }
  }

  async replace(record: LeaseRecord, resourceVersion: string): Promise<StoredLease> {
    // A replace writes the whole object: the owners read with this resourceVersion go back with it.
    const ownerReferences = await this.#owners();
    try {
      const lease = await this.#coordination.replaceNamespacedLease(
        {
          name: this.name,
          namespace: this.namespace,
          body: {
            apiVersion: 'coordination.k8s.io/v1',
            kind: 'Lease',
            metadata: { name: this.name, namespace: this.namespace, resourceVersion, ...(ownerReferences ? { ownerReferences } : {}) },
            spec: toSpec(record),
          },
          fieldManager: FIELD_MANAGER,
        },
        requestOptions(this.#timeoutMs),
      );
      return this.#stored(lease);
    } catch (error) {
      if (statusOf(error) === 409) throw new ConflictError(`lease ${this.name} changed since resourceVersion ${resourceVersion}`);
      throw error;
    }
  }
}

// --- Events ------------------------------------------------------------------------------------------

export type EventType = 'Normal' | 'Warning';

export interface EventTarget {
  name: string;
  namespace: string;
  uid: string | undefined;
  /** The involved object's kind and apiVersion (default: the miner StatefulSet's, apps/v1 StatefulSet). */
  kind?: string;
  apiVersion?: string;
}

/** Writes core/v1 Events about the StatefulSet. */
export class KubeEventApi {
  readonly #core: CoreV1Api;

  readonly #timeoutMs: number;

  constructor(
    kubeConfig: KubeConfig,
    timeoutMs: number,
  ) {
    this.#timeoutMs = timeoutMs;
    this.#core = kubeConfig.makeApiClient(CoreV1Api);
  }

  async create(event: { name: string; target: EventTarget; type: EventType; reason: string; message: string; at: Date; instance: string }): Promise<void> {
    const body: CoreV1Event = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: event.name, namespace: event.target.namespace },
      involvedObject: {
        apiVersion: event.target.apiVersion ?? 'apps/v1',
        kind: event.target.kind ?? 'StatefulSet',
        name: event.target.name,
        namespace: event.target.namespace,
        ...(event.target.uid !== undefined ? { uid: event.target.uid } : {}),
      },
      type: event.type,
      reason: event.reason,
      message: event.message,
      count: 1,
      firstTimestamp: event.at,
      lastTimestamp: event.at,
      source: { component: FIELD_MANAGER, host: event.instance },
      reportingComponent: FIELD_MANAGER,
      reportingInstance: event.instance,
    };
    await this.#core.createNamespacedEvent({ namespace: event.target.namespace, body, fieldManager: FIELD_MANAGER }, requestOptions(this.#timeoutMs));
  }

  /** Bumps the count and lastTimestamp of an Event this process created (a repeat of the same report). */
  async bump(event: { name: string; namespace: string; count: number; at: Date }): Promise<void> {
    await this.#core.patchNamespacedEvent(
      { name: event.name, namespace: event.namespace, body: { count: event.count, lastTimestamp: event.at.toISOString() }, fieldManager: FIELD_MANAGER },
      requestOptions(this.#timeoutMs, PatchStrategy.MergePatch),
    );
  }
}
