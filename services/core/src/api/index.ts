/**
 * `@chainlog/core/api`: Chainlog's HTTP APIs, by route and by response, shared by the services, their OpenAPI
 * documents and their clients (the CLI, the explorer). Browser-safe: nothing behind it but protocol types.
 */
export { AUDITOR_ROUTES, auditorPaths, INGEST_ROUTES, openApiPath } from './routes.js';
export type {
  AccountView,
  AmountJson,
  AuditReportView,
  AuditResponse,
  BlockHeaderResponse,
  BlockPage,
  BlockResponse,
  BlockSummaryView,
  CommitLagView,
  CommitRateView,
  CommittedTransactionView,
  CoverageAnomalyView,
  DroppedTransactionView,
  ErrorDetail,
  HeadResponse,
  HeadView,
  HistoryEntryView,
  ListOrder,
  LiveView,
  OverdraftView,
  OverdrawnAccountView,
  PendingTransactionView,
  RejectedBlockView,
  SealedHeader,
  TransactionStatusView,
  UnknownTransactionView,
} from './auditor-views.js';
