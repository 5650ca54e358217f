/**
 * Audit events: one JSON message on the audit topic per blockchain message the chain rejected. The schema
 * is documented in services/auditor/README.md; consumers should ignore fields they do not know.
 */
import type { RejectionReason } from '@chainlog/core/protocol';
import type { RejectedBlock } from '../domain/audit-log.js';

export const AUDIT_EVENT_SCHEMA = 'chainlog.audit.v1';

/** Audit events on the audit topic: a rejected block, or a source-coverage anomaly. */
export type AuditEvent = BlockRejectedEvent | CoverageAnomalyEvent;

/**
 * `critical`: an attempt to hide or steal transactions (a block whose source ranges do not match the
 * transactions topic); `warning`: any other rejection (forgeries, corrupt messages, lost races).
 */
export type AuditSeverity = 'critical' | 'warning';

export interface BlockRejectedEvent {
  readonly schema: typeof AUDIT_EVENT_SCHEMA;
  readonly type: 'block-rejected';
  readonly severity: AuditSeverity;
  /** `<blockchain topic>:<offset>`: the same for every auditor and every replay, so consumers can deduplicate. */
  readonly id: string;
  readonly blockchainTopic: string;
  readonly offset: number;
  readonly reason: RejectionReason;
  readonly detail: string;
  readonly claimedIndex: number | null;
  readonly claimedMiner: string | null;
  /** stale or fork: a real block that lost (or built on a loser), not a forgery. */
  readonly fork: boolean;
  readonly chainHeight: number;
  readonly canonicalHashAtIndex: string | null;
  readonly observedAt: string;
  /** The Kafka client id of the auditor that wrote the event. */
  readonly auditor: string;
}

/**
 * A block that claims offsets past the end of a transactions partition: every reader waits for those
 * offsets instead of accepting it (an honest miner never claims offsets it has not read). Critical.
 */
export interface CoverageAnomalyEvent {
  readonly schema: typeof AUDIT_EVENT_SCHEMA;
  readonly type: 'coverage-anomaly';
  readonly severity: 'critical';
  /** `<blockchain topic>:<offset>:coverage`. */
  readonly id: string;
  readonly blockchainTopic: string;
  readonly offset: number;
  readonly partition: number;
  /** The claimed offset the partition has not reached. */
  readonly claimedThrough: number;
  readonly detail: string;
  readonly claimedIndex: number;
  readonly claimedMiner: string;
  readonly observedAt: string;
  readonly auditor: string;
}

export function coverageAnomalyEvent(
  blockchainTopic: string,
  wait: { offset: number; partition: number; through: number; detail: string; claimedIndex: number; claimedMiner: string },
  auditor: string,
): CoverageAnomalyEvent {
  return {
    schema: AUDIT_EVENT_SCHEMA,
    type: 'coverage-anomaly',
    severity: 'critical',
    id: `${blockchainTopic}:${wait.offset}:coverage`,
    blockchainTopic,
    offset: wait.offset,
    partition: wait.partition,
    claimedThrough: wait.through,
    detail: wait.detail,
    claimedIndex: wait.claimedIndex,
    claimedMiner: wait.claimedMiner,
    observedAt: new Date().toISOString(),
    auditor,
  };
}

export function auditEvent(blockchainTopic: string, record: RejectedBlock, fork: boolean, auditor: string): BlockRejectedEvent {
  return {
    schema: AUDIT_EVENT_SCHEMA,
    type: 'block-rejected',
    severity: record.reason === 'bad-source-coverage' ? 'critical' : 'warning',
    id: `${blockchainTopic}:${record.offset}`,
    blockchainTopic,
    offset: record.offset,
    reason: record.reason,
    detail: record.detail,
    claimedIndex: record.claimedIndex ?? null,
    claimedMiner: record.claimedMiner ?? null,
    fork,
    chainHeight: record.chainHeight,
    canonicalHashAtIndex: record.canonicalHashAtIndex ?? null,
    observedAt: new Date(record.observedAt).toISOString(),
    auditor,
  };
}
