// The ingest service's own metrics (the HTTP request histogram and process metrics come from core).
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { REJECTION_REASONS, type RejectionReason } from './domain/rejection.js';

export interface IngestMetrics {
  accepted: Counter;
  rejected: Counter<'reason'>;
  produceDuration: Histogram<'outcome'>;
  inflight: Gauge;
  batchSize: Histogram;
  partitions: Gauge;
  kafkaAvailable: Gauge;
  backloggedPartitions: Gauge;
}

/** Live values read at scrape time. */
export interface IngestGaugeSources {
  /** The last topic metadata read succeeded and the producer is connected (what /readyz checks of Kafka). */
  kafkaAvailable?: () => boolean;
  /** Transactions partitions mining is behind on (503 mining-backlog for new transactions there). */
  backloggedPartitions?: () => number;
}

export function createIngestMetrics(registry: Registry, sources: IngestGaugeSources = {}): IngestMetrics {
  const registers = [registry];
  const metrics: IngestMetrics = {
    accepted: new Counter({
      name: 'chainlog_ingest_transactions_accepted_total',
      help: 'Transactions acknowledged by Kafka and answered with 202',
      registers,
    }),
    rejected: new Counter({
      name: 'chainlog_ingest_transactions_rejected_total',
      help: 'Transactions refused, by reason (a batch counts its items; a body that is not an array counts 1)',
      labelNames: ['reason'],
      registers,
    }),
    produceDuration: new Histogram({
      name: 'chainlog_ingest_produce_duration_seconds',
      help: 'Duration of one produce request to Kafka (acks from all in-sync replicas), by outcome',
      labelNames: ['outcome'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    inflight: new Gauge({
      name: 'chainlog_ingest_inflight_requests',
      help: 'POST /v1/transactions requests being processed',
      registers,
    }),
    batchSize: new Histogram({
      name: 'chainlog_ingest_batch_size',
      help: 'Transactions per accepted request',
      buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000],
      registers,
    }),
    partitions: new Gauge({
      name: 'chainlog_ingest_topic_partitions',
      help: 'Partition count of the transactions topic, as last read from Kafka metadata',
      registers,
    }),
    kafkaAvailable: new Gauge({
      name: 'chainlog_ingest_kafka_available',
      help: '1 while the transactions topic metadata is readable and the producer is connected, else 0 (alerts on an unreachable Kafka without traffic)',
      registers,
      collect() {
        if (sources.kafkaAvailable) this.set(sources.kafkaAvailable() ? 1 : 0);
      },
    }),
    backloggedPartitions: new Gauge({
      name: 'chainlog_ingest_backlogged_partitions',
      help: 'Transactions partitions whose oldest unmined record is older than MINING_BACKLOG_LIMIT_MS: new transactions for them get 503 mining-backlog',
      registers,
      collect() {
        this.set(sources.backloggedPartitions?.() ?? 0);
      },
    }),
  };
  // Every reason is exported from the start, so rate() works before the first rejection.
  for (const reason of REJECTION_REASONS) metrics.rejected.inc({ reason } satisfies { reason: RejectionReason }, 0);
  metrics.produceDuration.zero({ outcome: 'ok' });
  metrics.produceDuration.zero({ outcome: 'error' });
  return metrics;
}
