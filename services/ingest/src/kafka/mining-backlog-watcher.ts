// Keeps ingest's view of the miners' progress fresh (domain/mining-backlog.ts): every refresh, two admin
// requests (the miners' committed group offsets, and the offsets at `now − limit` by record timestamp) tell
// which transactions partitions have records older than MINING_BACKLOG_LIMIT_MS that no block covers yet.
// Advisory: while the view is stale (Kafka unreachable, no ACL to describe the miners' group) nothing is
// refused for it.
import type { Logger } from '@chainlog/core/logging';
import type { Admin, Kafka } from 'kafkajs';
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
  #admin: Admin | undefined;
  #backlogged = new Set<number>();
  #checkedAt: number | undefined;
  #failing = false;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;

  constructor(options: MiningBacklogWatcherOptions) {
    this.#options = options;
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
    if (this.#running || this.#stopped) return;
    this.#schedule(0);
  }

  // A view older than a few refreshes is not used: better to accept than to refuse on stale news.
  #fresh(): boolean {
    const now = (this.#options.clock ?? Date.now)();
    return this.#checkedAt !== undefined && now - this.#checkedAt <= Math.max(3 * this.#options.refreshMs, 5000);
  }

  #schedule(delayMs: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#running = this.refresh().finally(() => {
        this.#running = undefined;
        this.#schedule(this.#options.refreshMs);
      });
    }, delayMs);
    this.#timer.unref();
  }

  /** Reads the miners' progress once. Never throws. */
  async refresh(): Promise<void> {
    const { topic, groupId, limitMs, logger } = this.#options;
    const now = (this.#options.clock ?? Date.now)();
    try {
      if (this.#admin === undefined) {
        const admin = this.#options.kafka.admin();
        this.#admin = admin;
        await admin.connect();
      }
      const [groupOffsets, recent] = await Promise.all([
        this.#admin.fetchOffsets({ groupId, topics: [topic] }),
        this.#admin.fetchTopicOffsetsByTimestamp(topic, now - limitMs),
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
    } catch (error) {
      // Logged once per outage: a missing ACL (DESCRIBE on the miners' group) would otherwise log every refresh.
      if (!this.#failing) logger.warn({ err: error, topic, groupId }, 'cannot read the miners’ progress: the mining-backlog check is off until it can');
      this.#failing = true;
      const admin = this.#admin;
      this.#admin = undefined;
      await admin?.disconnect().catch(() => undefined);
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    const admin = this.#admin;
    this.#admin = undefined;
    await admin?.disconnect().catch(() => undefined);
    await this.#running;
  }
}
