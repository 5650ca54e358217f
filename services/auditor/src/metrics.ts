/** The auditor's Prometheus metrics (every series also carries service="auditor"). */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { REJECTION_REASONS } from '@chainlog/core/protocol';
import type { AcceptedOutcome, AuditorState } from './domain/auditor-state.js';
import type { RebuildReason } from './domain/index-validity.js';
import type { NotFoundOutcome } from './domain/not-found-answer.js';

const REBUILD_REASONS: readonly RebuildReason[] = ['unsupported-format', 'other-chain', 'corrupt', 'not-on-chain', 'os-crash'];
const NOT_FOUND_OUTCOMES: readonly NotFoundOutcome[] = ['found', 'unknown', 'index-building', 'pending-catching-up', 'pending-untracked'];

export interface AuditorMetrics {
  /**
   * `observedAt`: when the block was seen live (caught up); undefined while replaying history, which is counted
   * apart (chainlog_auditor_blocks_replayed_total) so that a restart's replay is no burst of commits.
   */
  blockAccepted(outcome: AcceptedOutcome, observedAt?: number): void;
  auditEventsPublished(count: number): void;
  auditEventsDropped(count: number): void;
  /** The index found on disk was not used (docs/architecture.md): rebuilt from the chain. */
  indexRebuilt(reason: RebuildReason): void;
  /** The back-fill's replay handed a block to the index (this process). */
  blockBackfilled(): void;
  /** The broker did not answer the start-up check of the index found on disk: asked again later. */
  indexCheckRetried(): void;
  /** A transaction lookup that first found nothing ended so (read-your-writes, domain/not-found-answer.ts). */
  notFoundLookup(outcome: NotFoundOutcome): void;
}

export function createAuditorMetrics(
  registry: Registry,
  state: AuditorState,
  status: () => { caughtUp: boolean },
): AuditorMetrics {
  const registers = [registry];
  // What the auditor found (rejections, anomalies, overdrafts) is counted from the totals its audit log and
  // ledger keep, which DATA_DIR keeps across restarts: each finding counts once, whether the chain follower or
  // the ledger catching up after a back-fill found it, and a restart that replays the topic counts nothing again.
  const found = new FoundTotals();
  new Counter({
    name: 'chainlog_auditor_blocks_rejected_total',
    help: 'Blockchain-topic messages that did not join the canonical chain, by rejection reason',
    labelNames: ['reason'],
    registers,
    collect() {
      // Every reason exists at 0, so alerts and dashboards see the series before the first rejection.
      const totals = state.audit.totalsByReason();
      for (const reason of REJECTION_REASONS) found.catchUp(this, `rejected/${reason}`, { reason }, totals[reason]);
    },
  });
  // The commit counters count live blocks only. A restart replays the topic (from genesis without checkpoints):
  // counted as commits, the replay would show as a burst of the whole chain's throughput at the restart, and a
  // scrape in the middle of it as a counter reset that rate() turns into a spike. Replayed blocks have a counter of
  // their own; the chain's size is chainlog_chain_height.
  const accepted = new Counter({
    name: 'chainlog_auditor_blocks_accepted_total',
    help: 'Blocks that joined the canonical chain while the auditor followed it live (genesis included); blocks replayed at start-up are in chainlog_auditor_blocks_replayed_total',
    registers,
  });
  const replayed = new Counter({
    name: 'chainlog_auditor_blocks_replayed_total',
    help: 'Canonical blocks the auditor read from the blockchain topic at start-up (its replay up to the end offset it found): history, not commits',
    registers,
  });
  const committed = new Counter({
    name: 'chainlog_auditor_transactions_committed_total',
    help: 'Transactions committed to the canonical chain in blocks seen live, coinbases excluded',
    registers,
  });
  const consumed = new Counter({
    name: 'chainlog_auditor_source_messages_committed_total',
    help: 'Transactions-topic messages consumed by canonical blocks seen live (their source ranges), per partition: committed transactions plus the duplicates and poison messages a block covers without carrying',
    labelNames: ['partition'],
    registers,
  });
  new Counter({
    name: 'chainlog_auditor_overdrafts_total',
    help: 'Committed transactions that spent more than their sender held (allowed, flagged), each counted once (also across restarts with DATA_DIR)',
    registers,
    collect() {
      found.catchUp(this, 'overdrafts', {}, state.ledger.overdraftCount);
    },
  });
  const latency = new Histogram({
    name: 'chainlog_transaction_commit_latency_seconds',
    help: "From the transaction's timestamp (ingest's acknowledgement) until the auditor saw it in a canonical block; live blocks only",
    buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600],
    registers,
  });
  new Counter({
    name: 'chainlog_auditor_coverage_anomalies_total',
    help: 'Blocks whose source ranges do not match the transactions topic: claimed offsets past a partition end (kind="past-end", the block waits) or records missing, altered or wrongly skipped (kind="mismatch", rejected as bad-source-coverage)',
    labelNames: ['kind'],
    registers,
    collect() {
      found.catchUp(this, 'past-end', { kind: 'past-end' }, state.audit.anomalyCount);
      found.catchUp(this, 'mismatch', { kind: 'mismatch' }, state.audit.totalsByReason()['bad-source-coverage']);
    },
  });
  const published = new Counter({
    name: 'chainlog_auditor_audit_events_published_total',
    help: 'Audit events written to the audit topic',
    registers,
  });
  const dropped = new Counter({
    name: 'chainlog_auditor_audit_events_dropped_total',
    help: 'Audit events dropped because the queue for an unreachable audit topic was full',
    registers,
  });
  new Gauge({
    name: 'chainlog_chain_height',
    help: 'Index of the canonical chain head (-1 before genesis)',
    registers,
    collect() {
      this.set(state.index.height);
    },
  });
  new Gauge({
    name: 'chainlog_auditor_caught_up',
    help: '1 when every blockchain message up to the last known end offset has been applied',
    registers,
    collect() {
      this.set(status().caughtUp ? 1 : 0);
    },
  });
  new Gauge({
    name: 'chainlog_auditor_pending_transactions',
    help: 'Transactions read from the transactions topic and not yet in the canonical chain, per partition',
    labelNames: ['partition'],
    registers,
    collect() {
      for (const lag of state.pending.lag(Date.now())) this.set({ partition: String(lag.partition) }, lag.pending);
    },
  });
  new Gauge({
    name: 'chainlog_auditor_oldest_pending_transaction_age_seconds',
    help: 'Age of the oldest pending transaction per partition (0 when none): grows while a miner is dead or stuck',
    labelNames: ['partition'],
    registers,
    collect() {
      for (const lag of state.pending.lag(Date.now())) this.set({ partition: String(lag.partition) }, lag.oldestAgeSeconds);
    },
  });
  new Gauge({
    name: 'chainlog_auditor_overdrawn_accounts',
    help: 'Accounts whose balance is below zero',
    registers,
    collect() {
      this.set(state.ledger.overdrawnCount);
    },
  });
  new Gauge({
    name: 'chainlog_auditor_block_bytes',
    help: 'Bytes of canonical block messages this process put into its index (outside the V8 heap: in memory without DATA_DIR, on disk with it)',
    registers,
    collect() {
      this.set(state.index.storedBytes);
    },
  });
  new Gauge({
    name: 'chainlog_auditor_index_missing_blocks',
    help: 'Canonical blocks below the indexed top not in the index yet (back-fill after a start from a checkpoint); 0 when complete',
    registers,
    collect() {
      this.set(state.indexProgress().missingBlocks);
    },
  });
  new Gauge({
    name: 'chainlog_auditor_index_ledger_lag_blocks',
    help: 'Indexed blocks whose transactions balances and histories do not include yet (accounts answer 503 meanwhile)',
    registers,
    collect() {
      const { height, ledgerHeight } = state.indexProgress();
      this.set(height - ledgerHeight);
    },
  });
  new Gauge({
    name: 'chainlog_auditor_index_disk_bytes',
    help: 'Bytes the index occupies on disk (DATA_DIR); 0 when it is kept in memory',
    registers,
    collect() {
      this.set(state.store.sizeOnDisk());
    },
  });
  const rebuilds = new Counter({
    name: 'chainlog_auditor_index_rebuilds_total',
    help: 'Indexes found on disk at start-up and not used, by reason (another chain, not on the blockchain topic, corrupt, open when the operating system stopped, another format): rebuilt',
    labelNames: ['reason'],
    registers,
  });
  for (const reason of REBUILD_REASONS) rebuilds.inc({ reason }, 0);
  const backfilled = new Counter({
    name: 'chainlog_auditor_backfill_blocks_total',
    help: 'Blocks the back-fill (the replay from genesis after a start from a checkpoint) handed to the index in this process; a restart continues where the last one stopped, so it does not count the chain again',
    registers,
  });
  const checkRetries = new Counter({
    name: 'chainlog_auditor_index_check_retries_total',
    help: 'Start-up checks of the index found on disk that the broker did not answer in time (slow or unreachable): the index is kept and the check retried, the auditor not ready meanwhile',
    registers,
  });
  const notFound = new Counter({
    name: 'chainlog_auditor_transaction_lookups_not_found_total',
    help: 'Transaction lookups that found nothing at first, by outcome: found after the transactions follower read up to the end offsets fetched after the request (outcome="found"), 404 unknown, or a retryable 503 (index-building, pending-catching-up, pending-untracked)',
    labelNames: ['outcome'],
    registers,
  });
  for (const outcome of NOT_FOUND_OUTCOMES) notFound.inc({ outcome }, 0);

  return {
    notFoundLookup(outcome) {
      notFound.inc({ outcome });
    },
    indexCheckRetried() {
      checkRetries.inc();
    },
    indexRebuilt(reason) {
      rebuilds.inc({ reason });
    },
    blockBackfilled() {
      backfilled.inc();
    },
    blockAccepted(outcome, observedAt) {
      if (observedAt === undefined) {
        replayed.inc();
        return;
      }
      accepted.inc();
      if (outcome.userTransactions > 0) committed.inc(outcome.userTransactions);
      for (const source of outcome.block.sources) {
        consumed.inc({ partition: String(source.partition) }, source.lastOffset - source.firstOffset + 1);
      }
      // Only live blocks: replayed history would report the age of old blocks, not a latency.
      for (const timestamp of outcome.transactionTimestamps) latency.observe(Math.max(0, (observedAt - timestamp) / 1000));
    },
    auditEventsPublished(count) {
      published.inc(count);
    },
    auditEventsDropped(count) {
      dropped.inc(count);
    },
  };
}

/**
 * Counters that show totals kept elsewhere (the audit log's, the ledger's): each scrape adds what the total grew
 * by since the last one. A counter never goes down: a total that starts over (an index rebuilt from the chain)
 * adds nothing until it passes what was counted, so a finding is never counted twice.
 */
class FoundTotals {
  readonly #counted = new Map<string, number>();

  catchUp(counter: Counter<string>, key: string, labels: Partial<Record<string, string>>, total: number): void {
    const counted = this.#counted.get(key);
    if (counted !== undefined && total <= counted) return;
    counter.inc(labels, total - (counted ?? 0));
    this.#counted.set(key, total);
  }
}
