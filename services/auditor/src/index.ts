/**
 * What other workspaces import from the auditor: the pure read model, the views the API serves (the
 * explorer's types) and the audit event. Importing it starts nothing.
 */
export {
  AuditorState,
  type AccountView,
  type AuditorStateOptions,
  type AuditReportView,
  type BlockSummaryView,
  type HeadView,
  type HistoryEntryView,
  type ListOrder,
  type RejectedBlockView,
  type TransactionStatusView,
} from './domain/auditor-state.js';
export type { CommitRateView, LiveView } from './domain/live-stats.js';
export { auditEvent, AUDIT_EVENT_SCHEMA, type AuditEvent } from './kafka/audit-event.js';
