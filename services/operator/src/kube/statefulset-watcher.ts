// Watches the one miner StatefulSet: list (field selector on its name), then watch from the list's
// resourceVersion; every ADDED/MODIFIED/DELETED calls onChange. The watch is restarted whenever it ends: at
// once after the server's timeout (from the last resourceVersion seen), after an exponential backoff on an
// error, and from a fresh list when the resourceVersion expired (410 Gone). A client-side watchdog aborts a
// watch that outlives its server timeout (a silently dead connection). The periodic resync of the reconciler
// covers anything missed in between.
import type { Logger } from '@chainlog/core/logging';
import { Watch, type KubeConfig, type V1StatefulSet } from '@kubernetes/client-node';
import { describeError, toMinerStatefulSet, type MinerStatefulSet, type StatefulSetClient } from './kube.js';

export interface StatefulSetWatcherOptions {
  kubeConfig: KubeConfig;
  client: StatefulSetClient;
  logger: Logger;
  /** Called with the StatefulSet after every change seen (undefined: it was deleted or does not exist). */
  onChange: (statefulSet: MinerStatefulSet | undefined) => void;
  /** Server-side timeout of one watch request. */
  watchTimeoutSeconds?: number;
}

const MIN_BACKOFF_MS = 200;
const MAX_BACKOFF_MS = 10_000;

interface WatchStatus {
  code?: number;
  reason?: string;
  message?: string;
}

export class StatefulSetWatcher {
  readonly #watch: Watch;
  #established = false;
  #reason = 'not listed yet';
  #resourceVersion: string | undefined;
  #abort: AbortController | undefined;
  #watchdog: NodeJS.Timeout | undefined;
  #retry: NodeJS.Timeout | undefined;
  #backoffMs = MIN_BACKOFF_MS;
  #stopped = false;
  #generation = 0;
  #latest: MinerStatefulSet | undefined;

  readonly #options: StatefulSetWatcherOptions;

  constructor(options: StatefulSetWatcherOptions) {
    this.#options = options;
    this.#watch = new Watch(options.kubeConfig);
  }

  /** Listed successfully and a watch is open (or being reopened after a normal server-side close). */
  state(): { established: boolean; reason?: string } {
    return this.#established ? { established: true } : { established: false, reason: this.#reason };
  }

  /** The StatefulSet as last listed or watched. */
  current(): MinerStatefulSet | undefined {
    return this.#latest;
  }

  start(): void {
    if (this.#stopped) return;
    void this.#listAndWatch();
  }

  async #listAndWatch(): Promise<void> {
    const generation = ++this.#generation;
    try {
      const { statefulSet, resourceVersion } = await this.#options.client.list();
      if (this.#stopped || generation !== this.#generation) return;
      this.#resourceVersion = resourceVersion;
      this.#latest = statefulSet;
      this.#options.onChange(statefulSet);
      await this.#openWatch(generation);
    } catch (error) {
      this.#failed(generation, error);
    }
  }

  async #openWatch(generation: number): Promise<void> {
    const { client, logger } = this.#options;
    const timeoutSeconds = this.#options.watchTimeoutSeconds ?? 300;
    const path = `/apis/apps/v1/namespaces/${client.namespace}/statefulsets`;
    const openedAt = Date.now();
    let expired = false;
    let ended = false;
    let watchdogFired = false;
    const current = (): boolean => !this.#stopped && generation === this.#generation;
    const controller = await this.#watch.watch(
      path,
      {
        fieldSelector: `metadata.name=${client.name}`,
        resourceVersion: this.#resourceVersion,
        allowWatchBookmarks: true,
        timeoutSeconds,
      },
      (phase: string, object: unknown) => {
        if (!current()) return;
        const resourceVersion = (object as V1StatefulSet | undefined)?.metadata?.resourceVersion;
        switch (phase) {
          case 'ADDED':
          case 'MODIFIED':
            this.#resourceVersion = resourceVersion ?? this.#resourceVersion;
            this.#latest = toMinerStatefulSet(object as V1StatefulSet);
            this.#options.onChange(this.#latest);
            break;
          case 'DELETED':
            this.#resourceVersion = resourceVersion ?? this.#resourceVersion;
            this.#latest = undefined;
            this.#options.onChange(undefined);
            break;
          case 'BOOKMARK':
            this.#resourceVersion = resourceVersion ?? this.#resourceVersion;
            break;
          case 'ERROR': {
            const status = object as WatchStatus;
            if (status.code === 410) expired = true;
            logger.debug({ code: status.code, reason: status.reason, message: status.message }, 'watch error event');
            break;
          }
          default:
            break;
        }
      },
      (error: unknown) => {
        ended = true;
        clearTimeout(this.#watchdog);
        if (!current()) return;
        const lasted = Date.now() - openedAt >= 1000;
        if (lasted) this.#backoffMs = MIN_BACKOFF_MS;
        if (error !== null && error !== undefined && !watchdogFired) {
          this.#failed(generation, error);
          return;
        }
        if (expired) {
          // The resourceVersion is too old to watch from: list again.
          void this.#listAndWatch();
          return;
        }
        // A normal end (the server's timeout, or the watchdog): watch on from the last resourceVersion. A watch
        // that ended at once is reopened after the backoff, so a misbehaving server cannot make this spin.
        const reopen = (): void => void this.#openWatch(generation).catch((reopenError: unknown) => this.#failed(generation, reopenError));
        if (lasted) {
          reopen();
        } else {
          this.#retry = setTimeout(reopen, this.#backoffMs);
          this.#retry.unref();
          this.#backoffMs = Math.min(MAX_BACKOFF_MS, this.#backoffMs * 2);
        }
      },
    );
    if (!current()) {
      controller.abort();
      return;
    }
    if (ended) return; // the request failed before it returned: done() handled it
    this.#abort = controller;
    this.#established = true;
    clearTimeout(this.#watchdog);
    this.#watchdog = setTimeout(() => {
      watchdogFired = true;
      controller.abort();
    }, (timeoutSeconds + 15) * 1000);
    this.#watchdog.unref();
  }

  #failed(generation: number, error: unknown): void {
    if (this.#stopped || generation !== this.#generation) return;
    this.#established = false;
    this.#reason = `StatefulSet watch failed: ${describeError(error)}`;
    this.#options.logger.warn({ err: this.#reason, retryInMs: this.#backoffMs }, 'StatefulSet watch failed; restarting');
    this.#abort?.abort();
    clearTimeout(this.#retry);
    this.#retry = setTimeout(() => void this.#listAndWatch(), this.#backoffMs);
    this.#retry.unref();
    this.#backoffMs = Math.min(MAX_BACKOFF_MS, this.#backoffMs * 2);
  }

  stop(): void {
    this.#stopped = true;
    this.#established = false;
    this.#reason = 'stopped';
    clearTimeout(this.#retry);
    clearTimeout(this.#watchdog);
    this.#abort?.abort();
  }
}
