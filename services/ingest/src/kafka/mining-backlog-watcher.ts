// Keeps ingest's view of the miners' progress fresh (domain/mining-backlog.ts): every refresh, two admin
// requests (the miners' committed group offsets, and the offsets at `now − limit` by record timestamp) tell
// which transactions partitions have records older than MINING_BACKLOG_LIMIT_MS that no block covers yet.
// Advisory: while the view is stale (Kafka unreachable, no ACL to describe the miners' group) nothing is
// refused for it.
import type { Logger } from '@chainlog/core/logging';
import type { Admin, Kafka } from 'kafkajs';
import { AdminPoller } from './admin-poller.js';
import { backloggedPartitions } from '../domain/mining-backlog.js';

export interface MiningBacklogWatcherOptions {
  kafka: Kafka;
  topic: string;
  /** The miners' consumer group (MINER_GROUP_ID). */
  groupId: string;
  /** A partition is backlogged when an unmined record is older than this (ms). */
  limitMs: number;
  refreshMs: number;
  logger: Logger;
  clock?: () => number;
}

export class MiningBacklogWatcher {
  readonly #options: MiningBacklogWatcherOptions;
  readonly #poller: AdminPoller;
  #backlogged = new Set<number>();
  #checkedAt: number | undefined;
  #failing = false;

  constructor(options: MiningBacklogWatcherOptions) {
    this.#options = options;
    this.#poller = new AdminPoller({
      kafka: options.kafka,
      poll: (admin) => this.#read(admin),
      onFailure: (error) => this.#failed(error),
      nextDelayMs: () => options.refreshMs,
    });
  }

  /** True when the partition's oldest unmined record is older than the limit, as of a fresh enough check. */
  isBacklogged(partition: number): boolean {
    return this.#fresh() && this.#backlogged.has(partition);
  }

  /** Backlogged partitions as of a fresh check (empty when stale). */
  backlogged(): number[] {
    return this.#fresh() ? [...this.#backlogged].sort((a, b) => a - b) : [];
  }

  start(): void {
    this.#poller.start();
  }

  stop(): Promise<void> {
    return this.#poller.stop();
  }

  // A view older than a few refreshes is not used: better to accept than to refuse on stale news.
  #fresh(): boolean {
    const now = (this.#options.clock ?? Date.now)();
    return this.#checkedAt !== undefined && now - this.#checkedAt <= Math.max(3 * this.#options.refreshMs, 5000);
  }

  async #read(admin: Admin): Promise<void> {
    const { topic, groupId, limitMs, logger } = this.#options;
    const now = (this.#options.clock ?? Date.now)();
    const [groupOffsets, recent] = await Promise.all([
      admin.fetchOffsets({ groupId, topics: [topic] }),
      admin.fetchTopicOffsetsByTimestamp(topic, now - limitMs),
    ]);
    const committed = new Map((groupOffsets.find((entry) => entry.topic === topic)?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
    const firstRecent = new Map(recent.map((p) => [p.partition, Number(p.offset)]));
    const next = new Set(backloggedPartitions(committed, firstRecent));
    const changed = next.size !== this.#backlogged.size || [...next].some((partition) => !this.#backlogged.has(partition));
    if (changed) {
      const log = { topic, groupId, limitMs, backlogged: [...next].sort((a, b) => a - b) };
      if (next.size > 0) logger.warn(log, 'mining is behind: new transactions for these partitions get 503 mining-backlog');
      else logger.info(log, 'mining caught up: no partition backlogged');
    }
    this.#backlogged = next;
    this.#checkedAt = now;
    this.#failing = false;
  }

  #failed(error: unknown): void {
    const { topic, groupId, logger } = this.#options;
    // Logged once per outage: a missing ACL (DESCRIBE on the miners' group) would otherwise log every refresh.
    if (!this.#failing) logger.warn({ err: error, topic, groupId }, 'cannot read the miners’ progress: the mining-backlog check is off until it can');
    this.#failing = true;
  }
}
