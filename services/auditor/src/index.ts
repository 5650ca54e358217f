/**
 * What other workspaces (the chainlog CLI) import from the auditor: the verify core and its sources, and
 * the pure read model. Importing this module starts nothing.
 */
export {
  ChainVerifier,
  formatVerifyReport,
  verifyMessages,
  type VerifyRejection,
  type VerifyReport,
  type VerifySource,
} from './verify/verifier.js';
export { readDumpLines, verifyTopic, VerifySourceError, type VerifyTopicOptions } from './verify/sources.js';
export { runVerifyCommand, VERIFY_USAGE, type VerifyCommandIo } from './verify-command.js';
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
