// A list-then-watch loop on one collection (the Ledgers, the Ledgers' StatefulSets and Deployments): every
// object listed or changed is reported with onChange. The watch reopens after the server closes it, after a
// backoff on an error, and from a fresh list when its resourceVersion expired. Anything missed in between is
// covered by the controller's periodic resync.
import type { Logger } from '@chainlog/core/logging';
import { Watch, type KubeConfig } from '@kubernetes/client-node';
import type { KubeJson } from '../kube/kube-json.js';

export interface WatchedObject {
  metadata: { name: string; namespace?: string; resourceVersion?: string; labels?: Record<string, string> };
}

export interface CollectionWatchOptions {
  kubeConfig: KubeConfig;
  kube: KubeJson;
  /** The collection's path, e.g. /apis/apps/v1/namespaces/ns/statefulsets. */
  path: string;
  labelSelector?: string;
  logger: Logger;
  onChange: (type: 'ADDED' | 'MODIFIED' | 'DELETED', object: WatchedObject) => void;
  watchTimeoutSeconds?: number;
}

const MIN_BACKOFF_MS = 200;
const MAX_BACKOFF_MS = 10_000;

export class CollectionWatch {
  readonly #watch: Watch;
  #abort: AbortController | undefined;
  #retry: NodeJS.Timeout | undefined;
  #backoffMs = MIN_BACKOFF_MS;
  #stopped = false;
  #listed = false;
  #lastError: string | undefined;

  readonly #options: CollectionWatchOptions;

  constructor(options: CollectionWatchOptions) {
    this.#options = options;
    this.#watch = new Watch(options.kubeConfig);
  }

  state(): { established: boolean; reason?: string } {
    return this.#listed ? { established: true } : { established: false, reason: this.#lastError ?? `${this.#options.path} not listed yet` };
  }

  start(): void {
    void this.#listAndWatch();
  }

  #query(): string {
    return this.#options.labelSelector !== undefined ? `?labelSelector=${encodeURIComponent(this.#options.labelSelector)}` : '';
  }

  async #listAndWatch(): Promise<void> {
    if (this.#stopped) return;
    try {
      const list = await this.#options.kube.request<{ metadata?: { resourceVersion?: string }; items: WatchedObject[] }>('GET', `${this.#options.path}${this.#query()}`);
      if (this.#stopped) return;
      this.#listed = true;
      this.#lastError = undefined;
      for (const item of list.items) this.#options.onChange('ADDED', item);
      await this.#openWatch(list.metadata?.resourceVersion);
    } catch (error) {
      this.#failed(error);
    }
  }

  async #openWatch(resourceVersion: string | undefined): Promise<void> {
    let latest = resourceVersion;
    let gone = false;
    this.#abort = await this.#watch.watch(
      this.#options.path,
      {
        allowWatchBookmarks: true,
        timeoutSeconds: this.#options.watchTimeoutSeconds ?? 300,
        ...(latest !== undefined ? { resourceVersion: latest } : {}),
        ...(this.#options.labelSelector !== undefined ? { labelSelector: this.#options.labelSelector } : {}),
      },
      (type: string, object: WatchedObject & { code?: number }) => {
        if (type === 'ERROR') {
          if (object.code === 410) gone = true;
          return;
        }
        latest = object.metadata?.resourceVersion ?? latest;
        if (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED') this.#options.onChange(type, object);
        this.#backoffMs = MIN_BACKOFF_MS;
      },
      (error: unknown) => {
        if (this.#stopped) return;
        if (error !== null && error !== undefined && !(error instanceof Error && error.name === 'AbortError')) {
          this.#failed(error);
          return;
        }
        // A normal close (server timeout): reopen from where it ended, or relist when that expired.
        if (gone) void this.#listAndWatch();
        else void this.#openWatch(latest).catch((failure: unknown) => this.#failed(failure));
      },
    );
  }

  #failed(error: unknown): void {
    if (this.#stopped) return;
    this.#lastError = `watch of ${this.#options.path} failed: ${(error as Error)?.message ?? String(error)}`;
    this.#options.logger.warn({ err: this.#lastError, retryInMs: this.#backoffMs }, 'watch failed; relisting');
    clearTimeout(this.#retry);
    this.#retry = setTimeout(() => void this.#listAndWatch(), this.#backoffMs);
    this.#retry.unref();
    this.#backoffMs = Math.min(MAX_BACKOFF_MS, this.#backoffMs * 2);
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#retry);
    this.#abort?.abort();
  }
}
