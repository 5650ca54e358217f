// POST /v1/transactions: admission (in-flight bound, shutdown), content type, body, validation, then
// the append to Kafka. Every refusal is an HttpError rendered by core's error handler as
// `{ "error": { code, message, field?, problem?, index? } }` and counted by reason.
import { auditorPaths, INGEST_ROUTES } from '@chainlog/core/api';
import { HttpError } from '@chainlog/core/http';
import { loggedTransactionIds } from '@chainlog/core/logging';
import express, { type ErrorRequestHandler, type Request, type RequestHandler, type Response, type Router } from 'express';
import type { IngestConfig } from '../config.js';
import { partitionForKey } from '../domain/partitioning.js';
import type { Rejection, RejectionReason } from '../domain/rejection.js';
import type { IdempotencyRegistry, TrackedItem } from '../domain/idempotency.js';
import { clientOf, type ClientFairness } from './fairness.js';
import { decodeBody, messageValue, prepareSubmission, type Submission } from '../domain/submission.js';
import { KafkaRecordTooLargeError, KafkaUnavailableError, type OutgoingMessage, type Placement } from '../kafka/appender.js';
import type { IngestMetrics } from '../metrics.js';

/** Where transactions go: the adapter over Kafka, or a fake in tests. */
export interface TransactionLog {
  /** The transactions topic's partition count, undefined while unknown. */
  partitionCount(): number | undefined;
  append(messages: readonly OutgoingMessage[]): Promise<Placement[]>;
}

export type RoutesConfig = Pick<
  IngestConfig,
  'maxBatchSize' | 'maxBodyBytes' | 'requireTransactionSignatures' | 'replayWindowMs' | 'auditorPublicUrl' | 'retryAfterSeconds' | 'maxInflightRequests'
> &
  Partial<Pick<IngestConfig, 'clientIpHeader' | 'ledger' | 'timestampToleranceMs' | 'miningBacklogLimitMs'>>;

export interface RoutesOptions {
  config: RoutesConfig;
  /** Per-client rate and in-flight share (429). */
  fairness: ClientFairness;
  /** Why Kafka cannot take a write now (what /readyz says), or undefined when it can: writes then fail fast. */
  kafkaUnavailable: () => string | undefined;
  /** Remembers accepted client-chosen ids: retries are replayed, other content under them refused. */
  idempotency: IdempotencyRegistry;
  log: TransactionLog;
  /** Which partitions mining is behind on (kafka/mining-backlog-watcher.ts); absent: never. */
  miningBacklog?: { isBacklogged(partition: number): boolean };
  metrics: IngestMetrics;
  clock: () => number;
  newId: () => string;
  isShuttingDown: () => boolean;
}

export interface AcceptedTransaction {
  id: string;
  partition: number;
  offset: number;
  statusUrl: string;
}

/** An HttpError that also carries the bounded metrics reason. */
export class RejectedError extends HttpError {
  constructor(
    readonly reason: RejectionReason,
    status: number,
    code: string,
    message: string,
    details: Record<string, unknown> = {},
    headers: Record<string, string> = {},
  ) {
    super(status, code, message, details, headers);
  }

  static from(rejection: Rejection): RejectedError {
    const { status, code, reason, message, ...details } = rejection;
    return new RejectedError(reason, status, code, message, details);
  }
}

export function transactionRoutes(options: RoutesOptions): Router {
  const { config, log, metrics } = options;
  const router = express.Router();
  const retryAfter = { 'Retry-After': String(config.retryAfterSeconds) };
  const unavailable = (reason: RejectionReason, code: string, message: string): RejectedError =>
    new RejectedError(reason, 503, code, message, {}, retryAfter);

  let inflight = 0;
  const admit: RequestHandler = (req, res, next) => {
    if (options.isShuttingDown()) {
      res.setHeader('Connection', 'close');
      throw unavailable('shutting-down', 'shutting-down', 'ingest is shutting down; retry against another instance');
    }
    const query = Object.keys(req.query as Record<string, unknown>);
    if (query.length > 0) {
      throw new RejectedError('bad-request', 400, 'unknown-parameter', `unknown query parameter "${query[0]?.slice(0, 40)}": this route takes none`, {
        field: query[0]?.slice(0, 40),
      });
    }
    const client = clientOf(req.headers, req.socket.remoteAddress, config.clientIpHeader);
    const verdict = options.fairness.admit(client);
    if (!verdict.admitted) {
      throw new RejectedError('rate-limited', 429, 'rate-limited', verdict.message, {}, { 'Retry-After': String(verdict.retryAfterSeconds) });
    }
    res.once('close', verdict.release);
    // While Kafka cannot take writes (what /readyz reports), answer at once instead of after the produce timeout.
    const kafkaProblem = options.kafkaUnavailable();
    if (kafkaProblem !== undefined) {
      verdict.release();
      throw unavailable('kafka-unavailable', 'kafka-unavailable', `Kafka cannot take writes now (${kafkaProblem}); retry later`);
    }
    if (inflight >= config.maxInflightRequests) {
      verdict.release();
      throw unavailable('overloaded', 'overloaded', `ingest is processing ${inflight} requests, its limit; retry later`);
    }
    inflight += 1;
    metrics.inflight.inc();
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      inflight -= 1;
      metrics.inflight.dec();
      verdict.release();
    };
    res.once('finish', release);
    res.once('close', release);
    next();
  };

  const requireJson: RequestHandler = (req, _res, next) => {
    const problem = contentTypeProblem(req.headers['content-type']);
    if (problem !== undefined) {
      throw new RejectedError('unsupported-media-type', 415, 'unsupported-media-type', `Content-Type ${problem}`, {
        field: 'Content-Type',
        problem,
      });
    }
    next();
  };

  const readBody = express.raw({ type: () => true, limit: config.maxBodyBytes, inflate: true });

  const submit = async (req: Request, res: Response): Promise<void> => {
    const decoded = decodeBody(Buffer.isBuffer(req.body) ? req.body : undefined);
    if (!decoded.ok) throw RejectedError.from(decoded.error);
    if (Array.isArray(decoded.value)) res.locals.transactionCount = Math.max(1, decoded.value.length);

    const prepared = prepareSubmission(
      decoded.value,
      {
        maxBatchSize: config.maxBatchSize,
        requireTransactionSignatures: config.requireTransactionSignatures,
        replayWindowMs: config.replayWindowMs,
        timestampToleranceMs: config.timestampToleranceMs,
        ledger: config.ledger,
      },
      { idempotencyKey: req.header('idempotency-key'), now: options.clock(), newId: options.newId },
    );
    if (!prepared.ok) throw RejectedError.from(prepared.error);
    const { transactions, batch } = prepared.value;

    const partitions = log.partitionCount();
    if (partitions === undefined) {
      throw unavailable('kafka-unavailable', 'kafka-unavailable', 'the transactions topic is not available (Kafka unreachable or topic missing)');
    }
    const tracked = trackedItems(prepared.value);
    const admission = options.idempotency.admit(tracked);
    if (admission.kind === 'replay') {
      res.setHeader('Idempotent-Replayed', 'true');
      respond(req, res, prepared.value, admission.placements, true);
      return;
    }
    if (admission.kind !== 'proceed') throw idempotencyRefusal(admission, prepared.value, req.header('idempotency-key'), batch);
    try {
      refuseBehindMining(transactions, partitions);
      const placements = await appendToLog(transactions, partitions);
      options.idempotency.commit(tracked, placements);
      respond(req, res, prepared.value, placements, false);
    } finally {
      options.idempotency.abort(tracked);
    }
  };

  // Backpressure for the replay window (docs/protocol.md §2.5, "Choosing W"): a transaction appended behind a
  // backlog older than MINING_BACKLOG_LIMIT_MS might wait past the window and be dropped; refuse it instead of
  // acknowledging it. Checked after the idempotency replay, so a retry of an acknowledged request still gets its answer.
  const refuseBehindMining = (transactions: Submission['transactions'], partitions: number): void => {
    const backlog = options.miningBacklog;
    if (backlog === undefined || config.miningBacklogLimitMs === undefined) return;
    const behind = [...new Set(transactions.map((transaction) => partitionForKey(transaction.from, partitions)))].filter((p) => backlog.isBacklogged(p));
    if (behind.length === 0) return;
    throw new RejectedError(
      'mining-backlog',
      503,
      'mining-backlog',
      `mining is behind on transactions partition ${behind.join(', ')}: its oldest unmined transaction is older than ` +
        `${config.miningBacklogLimitMs} ms (MINING_BACKLOG_LIMIT_MS), and one accepted now could wait past the replay window ` +
        `(${config.replayWindowMs} ms) and be dropped; nothing was written, retry later`,
      { partitions: behind },
      retryAfter,
    );
  };

  const appendToLog = async (transactions: Submission['transactions'], partitions: number): Promise<Placement[]> => {
    const messages: OutgoingMessage[] = transactions.map((transaction) => ({
      id: transaction.id,
      key: transaction.from,
      value: messageValue(transaction),
      partition: partitionForKey(transaction.from, partitions),
    }));

    try {
      return await log.append(messages);
    } catch (error) {
      if (error instanceof KafkaUnavailableError) {
        throw unavailable(
          'kafka-unavailable',
          'kafka-unavailable',
          `${error.message}. The outcome is unknown: retry with the same ids or Idempotency-Key (the chain skips duplicates)`,
        );
      }
      if (error instanceof KafkaRecordTooLargeError) {
        throw new RejectedError('batch-too-large', 413, 'batch-too-large', `${error.message}; send fewer transactions per request`, { field: '$' });
      }
      throw error;
    }
  };

  const respond = (req: Request, res: Response, submission: Submission, placements: readonly Placement[], replayed: boolean): void => {
    const { transactions, batch } = submission;
    const accepted: AcceptedTransaction[] = transactions.map((transaction, index) => {
      const placement = placements[index] as Placement;
      req.log.debug({ id: transaction.id, partition: placement.partition, offset: placement.offset }, 'transaction accepted');
      return {
        id: transaction.id,
        partition: placement.partition,
        offset: placement.offset,
        statusUrl: `${config.auditorPublicUrl}${auditorPaths.transaction(transaction.id)}`,
      };
    });
    if (!replayed) {
      metrics.accepted.inc(accepted.length);
      metrics.batchSize.observe(accepted.length);
    }
    req.log.info(
      {
        count: accepted.length,
        ...(replayed ? { replayed } : {}),
        batch,
        partitions: [...new Set(placements.map((placement) => placement.partition))].sort((a, b) => a - b),
        // Log correlation (docs/observability.md): the ids at info level, capped to keep the line bounded.
        ...loggedTransactionIds(accepted.map((transaction) => transaction.id)),
      },
      replayed ? 'transactions already accepted: answer replayed' : 'transactions accepted',
    );
    if (batch) {
      res.status(202).json({ transactions: accepted });
    } else {
      const [only] = accepted as [AcceptedTransaction];
      res.status(202).location(only.statusUrl).json(only);
    }
  };

  // Counts every refusal of this route, including the body parser's (413, 415), then lets core's
  // error handler render it.
  const countRejection: ErrorRequestHandler = (error: unknown, _req, res, next) => {
    const count = typeof res.locals.transactionCount === 'number' ? res.locals.transactionCount : 1;
    metrics.rejected.inc({ reason: rejectionReason(error) }, count);
    next(error);
  };

  router.post(INGEST_ROUTES.transactions, admit, requireJson, readBody, submit, countRejection);
  return router;
}

/** The transactions whose ids a client chose (its own id or its Idempotency-Key): the ones to remember. */
function trackedItems(submission: Submission): (TrackedItem | undefined)[] {
  return submission.transactions.map((transaction, index) =>
    submission.origins[index] === 'random' ? undefined : { id: transaction.id, digest: submission.digests[index] as string },
  );
}

/** 409: the id is taken by other content (the first stays), or the same content is being accepted right now. */
function idempotencyRefusal(
  admission: { kind: 'conflict' | 'in-progress'; index: number; id: string },
  submission: Submission,
  idempotencyKey: string | undefined,
  batch: boolean,
): RejectedError {
  const fromKey = submission.origins[admission.index] === 'key';
  const where = batch ? `transaction [${admission.index}]: ` : '';
  const named = fromKey ? `Idempotency-Key "${idempotencyKey ?? ''}" (id "${admission.id}")` : `id "${admission.id}"`;
  const details = { field: fromKey ? 'Idempotency-Key' : 'id', id: admission.id, ...(batch ? { index: admission.index } : {}) };
  if (admission.kind === 'in-progress') {
    const problem = 'is being accepted by a concurrent request with the same content; retry shortly';
    return new RejectedError('request-in-progress', 409, 'request-in-progress', `${where}${named} ${problem}`, { ...details, problem }, { 'Retry-After': '1' });
  }
  const problem = 'was already used for a different transaction; the first one stands. Use a new key or id for a new transaction';
  return new RejectedError('idempotency-conflict', 409, 'idempotency-conflict', `${where}${named} ${problem}`, { ...details, problem });
}

/** Why a Content-Type is refused: only application/json, in UTF-8, is accepted. */
export function contentTypeProblem(header: string | undefined): string | undefined {
  if (header === undefined || header.trim() === '') return 'is missing; send application/json';
  const [type = '', ...parameters] = header.split(';').map((part) => part.trim().toLowerCase());
  if (type !== 'application/json') return `must be application/json, got "${type}"`;
  for (const parameter of parameters) {
    const [name, value = ''] = parameter.split('=').map((part) => part.trim());
    if (name === 'charset' && value.replace(/^"|"$/g, '') !== 'utf-8') return `charset must be utf-8, got "${value}"`;
  }
  return undefined;
}

function rejectionReason(error: unknown): RejectionReason {
  if (error instanceof RejectedError) return error.reason;
  switch ((error as { type?: string }).type) {
    case 'entity.too.large':
      return 'body-too-large';
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return 'unsupported-encoding';
    default: {
      const status = (error as { status?: unknown }).status;
      return typeof status === 'number' && status >= 400 && status < 500 ? 'bad-request' : 'internal';
    }
  }
}
