/**
 * Audit events: one JSON message on the audit topic per blockchain message the chain rejected. The schema
 * is documented in services/auditor/README.md; consumers should ignore fields they do not know.
 */
import type { RejectionReason } from '@chainlog/core/protocol';
import type { RejectedBlock } from '../domain/audit-log.js';

export const AUDIT_EVENT_SCHEMA = 'chainlog.audit.v1';

export interface AuditEvent {
  readonly schema: typeof AUDIT_EVENT_SCHEMA;
  readonly type: 'block-rejected';
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

export function auditEvent(blockchainTopic: string, record: RejectedBlock, fork: boolean, auditor: string): AuditEvent {
  return {
    schema: AUDIT_EVENT_SCHEMA,
    type: 'block-rejected',
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
