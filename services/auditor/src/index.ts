/**
 * What other workspaces import from the auditor: the pure read model and the audit event. The views its API
 * serves belong to `@chainlog/core/api`. Importing it starts nothing.
 */
export { AuditorState, type AuditorStateOptions } from './domain/auditor-state.js';
export { auditEvent, AUDIT_EVENT_SCHEMA, type AuditEvent } from './kafka/audit-event.js';
