/** `@chainlog/core/logging`: the JSON logger and the log fields every service shares. */
export { createLogger, type Logger } from './logger.js';
export { LOGGED_IDS_LIMIT, loggedTransactionIds } from './transaction-ids.js';
