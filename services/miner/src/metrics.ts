// The miner's own metrics (process metrics and the HTTP histogram come from core). No ids or hashes as
// labels: the only label is the transactions partition, whose number is bounded by the topic.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface MinerMetrics {
  blocksMined: Counter;
  blocksOrphaned: Counter;
  turnsYielded: Counter;
  hashes: Counter;
  hashRate: Gauge;
  pendingTransactions: Gauge<'partition'>;
  chainHeight: Gauge;
  ownedPartitions: Gauge;
  oldestPendingAge: Gauge;
  replayWindow: Gauge;
  partitionLag: Gauge<'partition'>;
  duplicateTransactions: Counter;
  refusedTransactions: Counter<'reason'>;
  poisonMessages: Counter;
  blockTransactions: Histogram;
  miningDuration: Histogram;
}

/** Live values read at scrape time, so the gauges never go stale. */
export interface MinerGaugeSources {
  chainHeight: () => number;
  pendingTransactions: () => ReadonlyMap<number, number>;
  ownedPartitions: () => number;
  /** Timestamp (ms) of the oldest pending transaction, undefined when none is pending. */
  oldestPendingTimestamp: () => number | undefined;
  /** The consensus replay window (ms), undefined when the chain has none. */
  replayWindowMs: number | undefined;
  now?: () => number;
}

export function createMinerMetrics(registry: Registry, sources: MinerGaugeSources): MinerMetrics {
  const registers = [registry];
  return {
    blocksMined: new Counter({
      name: 'chainlog_miner_blocks_mined_total',
      help: 'Blocks this miner published that became canonical',
      registers,
    }),
    blocksOrphaned: new Counter({
      name: 'chainlog_miner_blocks_orphaned_total',
      help: 'Blocks this miner published that lost the race (another block extended the tip first)',
      registers,
    }),
    turnsYielded: new Counter({
      name: 'chainlog_miner_turns_yielded_total',
      help: 'Times this miner, having mined one of the latest blocks, waited for another miner to extend the tip first',
      registers,
    }),
    hashes: new Counter({
      name: 'chainlog_miner_hashes_total',
      help: 'Proof-of-work hashes computed',
      registers,
    }),
    hashRate: new Gauge({
      name: 'chainlog_miner_hash_rate',
      help: 'Proof-of-work hashes per second over the last sampling interval',
      registers,
    }),
    pendingTransactions: new Gauge({
      name: 'chainlog_miner_pending_transactions',
      help: 'Valid transactions read from an owned partition and not yet in a canonical block',
      labelNames: ['partition'],
      registers,
      collect() {
        this.reset();
        for (const [partition, count] of sources.pendingTransactions()) this.set({ partition: String(partition) }, count);
      },
    }),
    chainHeight: new Gauge({
      name: 'chainlog_chain_height',
      help: 'Index of the canonical chain tip (-1 before genesis)',
      registers,
      collect() {
        this.set(sources.chainHeight());
      },
    }),
    ownedPartitions: new Gauge({
      name: 'chainlog_miner_owned_partitions',
      help: 'Transactions partitions this miner is assigned',
      registers,
      collect() {
        this.set(sources.ownedPartitions());
      },
    }),
    oldestPendingAge: new Gauge({
      name: 'chainlog_miner_oldest_pending_transaction_age_seconds',
      help: 'Age (now minus its timestamp) of the oldest transaction read from an owned partition and not yet in a canonical block; 0 when none is pending',
      registers,
      collect() {
        const oldest = sources.oldestPendingTimestamp();
        this.set(oldest === undefined ? 0 : Math.max(0, ((sources.now ?? Date.now)() - oldest) / 1000));
      },
    }),
    // Exported so that an alert can compare the backlog's age with W (ChainlogMiningBacklogNearReplayWindow).
    replayWindow: new Gauge({
      name: 'chainlog_miner_replay_window_seconds',
      help: 'The consensus replay window W (docs/protocol.md §2.5); absent when the chain has none',
      registers,
      collect() {
        if (sources.replayWindowMs !== undefined) this.set(sources.replayWindowMs / 1000);
      },
    }),
    partitionLag: new Gauge({
      name: 'chainlog_miner_partition_lag',
      help: 'Messages between what this miner has read and the end of an owned partition',
      labelNames: ['partition'],
      registers,
    }),
    duplicateTransactions: new Counter({
      name: 'chainlog_miner_duplicate_transactions_total',
      help: 'Transactions left out of a canonical block of this miner because their id was already in the chain (or block)',
      registers,
    }),
    refusedTransactions: new Counter({
      name: 'chainlog_miner_refused_transactions_total',
      help: 'Transactions a canonical block of this miner refused under the ledger rules, by reason (unauthorized, insufficient-funds)',
      labelNames: ['reason'],
      registers,
    }),
    poisonMessages: new Counter({
      name: 'chainlog_miner_poison_messages_total',
      help: 'Transactions-topic messages that are not valid transactions, sent to the dead-letter topic',
      registers,
    }),
    blockTransactions: new Histogram({
      name: 'chainlog_miner_block_transactions',
      help: 'User transactions (coinbase excluded) per canonical block mined here',
      buckets: [0, 1, 2, 3, 5, 10, 20, 50, 100, 250, 500, 1000],
      registers,
    }),
    miningDuration: new Histogram({
      name: 'chainlog_miner_mining_duration_seconds',
      help: 'Duration of each completed proof-of-work search',
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
      registers,
    }),
  };
}
