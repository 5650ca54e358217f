// Broker failover under load (test/chaos/broker-failover.chaos.ts): a three-node KRaft cluster, the Chainlog
// stack on it and a steady load through ingest, while the node leading the blockchain partition (and a
// transactions partition) is SIGKILLed and later restarted, then the active controller likewise. Every answer
// and every committed block is timed, so each fault gets its figures: the share of 503s in the minute after
// it, when writes and commits resumed.
import { ConfigResourceTypes } from 'kafkajs';
import type { RunningCluster } from '../../scripts/lib/kafka-cluster.js';
import { kafkaClient, Outcomes, sleep, type ChainTracker, type Stack } from './chaos.js';

/** Outcomes that also keep when each answer arrived, and when each id was first acknowledged. */
export class TimedOutcomes extends Outcomes {
  readonly answers: { at: number; status: number | 'error' }[] = [];
  readonly ackedAt = new Map<string, number>();

  override note(status: number | 'error'): void {
    super.note(status);
    this.answers.push({ at: Date.now(), status });
  }

  override record(id: string, status: number | 'error'): void {
    super.record(id, status);
    if (status === 202 && !this.ackedAt.has(id)) this.ackedAt.set(id, Date.now());
  }
}

/** When the tracker first saw each canonical block, polled every 100 ms while the scenario runs. */
export class BlockClock {
  readonly seenAt: number[] = [];
  #timer: NodeJS.Timeout;

  readonly #tracker: ChainTracker;

  constructor(tracker: ChainTracker) {
    this.#tracker = tracker;
    this.#timer = setInterval(() => {
      while (this.seenAt.length < tracker.blocks.length) this.seenAt.push(Date.now());
    }, 100);
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** When each transaction id was first seen committed (the first canonical block holding it). */
  committedAt(): Map<string, number> {
    const at = new Map<string, number>();
    this.seenAt.forEach((seen, i) => {
      for (const tx of this.#tracker.blocks[i]?.transactions ?? []) if (!at.has(tx.id)) at.set(tx.id, seen);
    });
    return at;
  }

  /** First block seen after `after` holding one of the ids (undefined: none). */
  firstWith(ids: ReadonlySet<string>, after: number): number | undefined {
    for (let i = 0; i < this.seenAt.length; i++) {
      const at = this.seenAt[i] as number;
      if (at <= after) continue;
      if (this.#tracker.blocks[i]?.transactions.some((tx) => ids.has(tx.id))) return at;
    }
    return undefined;
  }
}

export interface FaultFigures {
  fault: string;
  node: number;
  /** Answers in the window [kill, kill + windowMs) and how many were 503 (or no answer at all). */
  answers: number;
  unavailable: number;
  unavailableShare: number;
  /** From the kill to the last 503/error in the window: every write after that got 202. */
  writesResumedMs: number;
  /** From the kill to the first block holding a transaction sent after the kill. */
  commitsResumedMs: number | undefined;
  /** Longest pause between two committed blocks in the window. */
  longestBlockGapMs: number;
  /** 202 -> seen committed by the independent reader, for the transactions acknowledged in the window. */
  commitLatency: Latency;
}

export interface Latency {
  count: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** Commit latency (202 -> first seen in a canonical block) of the transactions acknowledged in [from, to). */
export function commitLatency(outcomes: TimedOutcomes, committedAt: ReadonlyMap<string, number>, from: number, to: number): Latency {
  const latencies: number[] = [];
  for (const [id, acked] of outcomes.ackedAt) {
    const committed = committedAt.get(id);
    if (acked >= from && acked < to && committed !== undefined) latencies.push(Math.max(0, committed - acked));
  }
  latencies.sort((a, b) => a - b);
  const at = (q: number): number => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return { count: latencies.length, p50Ms: at(0.5), p99Ms: at(0.99), maxMs: latencies.at(-1) ?? 0 };
}

export function faultFigures(
  fault: { name: string; node: number; at: number; idsFrom: number },
  outcomes: TimedOutcomes,
  clock: BlockClock,
  idPrefix: string,
  windowMs: number,
): FaultFigures {
  const inWindow = outcomes.answers.filter((a) => a.at >= fault.at && a.at < fault.at + windowMs);
  const failed = inWindow.filter((a) => a.status === 503 || a.status === 'error');
  const lastFailure = failed.at(-1)?.at;
  const laterIds = new Set([...outcomes.byId.keys()].filter((id) => Number(id.slice(idPrefix.length + 1)) >= fault.idsFrom));
  const firstCommit = clock.firstWith(laterIds, fault.at);
  const blockTimes = [fault.at, ...clock.seenAt.filter((at) => at > fault.at && at < fault.at + windowMs)];
  let gap = 0;
  for (let i = 1; i < blockTimes.length; i++) gap = Math.max(gap, (blockTimes[i] as number) - (blockTimes[i - 1] as number));
  return {
    fault: fault.name,
    node: fault.node,
    answers: inWindow.length,
    unavailable: failed.length,
    unavailableShare: inWindow.length === 0 ? 0 : failed.length / inWindow.length,
    writesResumedMs: lastFailure === undefined ? 0 : lastFailure - fault.at,
    commitsResumedMs: firstCommit === undefined ? undefined : firstCommit - fault.at,
    longestBlockGapMs: gap,
    commitLatency: commitLatency(outcomes, clock.committedAt(), fault.at, fault.at + windowMs),
  };
}

/** Replication of the stack's topics as the cluster reports it: factor and min.insync.replicas per topic. */
export async function topicReplication(cluster: RunningCluster, topics: string[]): Promise<Record<string, { replicas: number[]; minInsync: string | undefined }>> {
  const admin = kafkaClient(cluster.brokers).admin();
  await admin.connect();
  try {
    const metadata = await admin.fetchTopicMetadata({ topics });
    const configs = await admin.describeConfigs({
      resources: topics.map((name) => ({ type: ConfigResourceTypes.TOPIC, name, configNames: ['min.insync.replicas'] })),
      includeSynonyms: false,
    });
    return Object.fromEntries(
      topics.map((name) => [
        name,
        {
          replicas: metadata.topics.find((t) => t.name === name)?.partitions.map((p) => p.replicas.length) ?? [],
          minInsync: configs.resources.find((r) => r.resourceName === name)?.configEntries[0]?.configValue,
        },
      ]),
    );
  } finally {
    await admin.disconnect();
  }
}

/** The node leading the blockchain partition, and a transactions partition it leads too (when it leads one). */
export async function leaderTarget(cluster: RunningCluster, stack: Stack): Promise<{ node: number; transactionsPartition: number | undefined }> {
  const node = await cluster.leaderOf(stack.topics.TOPIC_BLOCKCHAIN, 0);
  for (let partition = 0; partition < stack.options.partitions; partition++) {
    if ((await cluster.leaderOf(stack.topics.TOPIC_TRANSACTIONS, partition)) === node) return { node, transactionsPartition: partition };
  }
  return { node, transactionsPartition: undefined };
}

/** The active controller, waiting out an election in progress. */
export async function activeController(cluster: RunningCluster, timeoutMs = 60_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const id = cluster.activeController();
    if (id !== undefined) return id;
    if (Date.now() > deadline) throw new Error('no active controller found in the quorum logs');
    await sleep(500);
  }
}
