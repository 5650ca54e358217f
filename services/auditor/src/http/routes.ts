/** The query API: thin handlers over the AuditorState read model. */
import {
  AUDITOR_ROUTES,
  type AuditResponse,
  type BlockHeaderResponse,
  type BlockPage,
  type BlockResponse,
  type HeadResponse,
  type UnknownTransactionView,
} from '@chainlog/core/api';
import { HttpError } from '@chainlog/core/http';
import { ACCOUNT_ID_MAX_LENGTH, ACCOUNT_ID_PATTERN, blockHeader, type Block } from '@chainlog/core/protocol';
import type { Express, Request, Response } from 'express';
import type { AuditorState } from '../domain/auditor-state.js';
import type { BlockSummary } from '../domain/chain-index.js';
import { type NotFoundAnswer, notFoundAnswer, type NotFoundOutcome, type TransactionsRead } from '../domain/not-found-answer.js';
import { checkQuery, integerParameter, orderParameter, PAGE_LIMIT_MAX, pageParameters } from './params.js';

export const AUDIT_LIMIT_MAX = 1000;
export const AUDIT_LIMIT_DEFAULT = 100;
const ACCOUNT_ID = new RegExp(ACCOUNT_ID_PATTERN);

export interface ApiDependencies {
  readonly state: AuditorState;
  readonly openapi: object;
  /** Whether the chain is caught up with the blockchain topic, and the last offset applied. */
  readonly progress: () => { caughtUp: boolean; appliedOffset: number };
  /**
   * Read-your-writes for a transaction lookup that finds nothing: whether the pending tracker knows every
   * record on the transactions topic as of after the call (kafka/transactions-read-check.ts).
   */
  readonly transactionsRead: () => Promise<TransactionsRead>;
  /** How a lookup that first found nothing ended (metrics). */
  readonly onNotFound?: (outcome: NotFoundOutcome) => void;
}

export function registerApiRoutes(app: Express, { state, openapi, progress, transactionsRead, onNotFound }: ApiDependencies): void {
  app.get(AUDITOR_ROUTES.openapi, (req, res) => {
    checkQuery(req.query, []);
    res.json(openapi);
  });

  app.get(AUDITOR_ROUTES.head, (req, res) => {
    checkQuery(req.query, []);
    const head: HeadResponse = { ...state.head(), ...progress() };
    res.json(head);
  });

  app.get(AUDITOR_ROUTES.blocks, (req, res) => {
    checkQuery(req.query, ['from', 'limit', 'order']);
    const order = orderParameter(req.query.order);
    const height = state.index.height;
    // Newest first starts at the head unless told otherwise (a page link made earlier keeps its place).
    const page = pageParameters(req.query, PAGE_LIMIT_MAX, order === 'desc' ? Math.max(height, 0) : 0);
    const from = order === 'desc' ? Math.min(page.from, Math.max(height, 0)) : page.from;
    const blocks = state.blockSummaries(from, page.limit, order);
    if (blocks === undefined) throw indexBuilding(state, `blocks from ${from} are not indexed yet`);
    const next = order === 'asc' ? from + blocks.length : from - blocks.length;
    const more = blocks.length > 0 && (order === 'asc' ? next <= height : next >= 0);
    const body: BlockPage = { from, limit: page.limit, order, height, next: more ? next : null, blocks };
    res.json(body);
  });

  app.get(AUDITOR_ROUTES.block, (req, res) => {
    checkQuery(req.query, []);
    const { index, block, summary } = canonicalBlock(state, req.params.index);
    const body: BlockResponse = { offset: summary.offset, confirmations: state.confirmations(index), block };
    res.json(body);
  });

  // What a reader needs to check a block's hash, proof of work and signature, without its transactions.
  app.get(AUDITOR_ROUTES.blockHeader, (req, res) => {
    checkQuery(req.query, []);
    const { index, block, summary } = canonicalBlock(state, req.params.index);
    const { nonce, hash, signature } = block;
    const body: BlockHeaderResponse = {
      offset: summary.offset,
      confirmations: state.confirmations(index),
      transactionCount: summary.transactionCount,
      header: { ...blockHeader(block), nonce, hash, ...(signature === undefined ? {} : { signature }) },
    };
    res.json(body);
  });

  app.get(AUDITOR_ROUTES.transaction, async (req: Request, res: Response) => {
    checkQuery(req.query, []);
    const id = req.params.id as string;
    let status = state.transactionStatus(id);
    let read: TransactionsRead | undefined;
    // Found nowhere: "unknown" only once nothing could still hold it (domain/not-found-answer.ts).
    while (status === undefined) {
      const answer = notFoundAnswer({ indexComplete: state.indexProgress().complete, read, untrackedPending: state.pending.untrackedPending });
      if (answer.answer === 'check-topic') {
        read = await transactionsRead();
        status = state.transactionStatus(id);
        if (status !== undefined) onNotFound?.('found');
        continue;
      }
      onNotFound?.(answer.answer);
      notFound(res, state, id, answer);
      return;
    }
    res.json(status);
  });

  app.get(AUDITOR_ROUTES.account, (req, res) => {
    checkQuery(req.query, ['from', 'limit', 'order']);
    const id = req.params.id;
    if (id.length > ACCOUNT_ID_MAX_LENGTH || !ACCOUNT_ID.test(id)) {
      throw new HttpError(400, 'bad-parameter', `id must be an account id: 1..${ACCOUNT_ID_MAX_LENGTH} characters from A-Z a-z 0-9 . _ : @ -`, {
        parameter: 'id',
      });
    }
    const order = orderParameter(req.query.order);
    const { from, limit } = pageParameters(req.query, PAGE_LIMIT_MAX, order === 'desc' ? Number.MAX_SAFE_INTEGER : 0);
    // Balances and histories need every block from genesis, in order.
    if (!state.indexProgress().ledgerComplete) throw indexBuilding(state, `balances and histories do not include every block yet`);
    const account = state.account(id, from, limit, order);
    if (account === undefined) throw new HttpError(404, 'not-found', `no transaction of the canonical chain involves account ${id}`, { account: id });
    res.json(account);
  });

  app.get(AUDITOR_ROUTES.audit, (req, res) => {
    checkQuery(req.query, ['limit']);
    const limit = integerParameter(req.query.limit, 'limit', { fallback: AUDIT_LIMIT_DEFAULT, min: 1, max: AUDIT_LIMIT_MAX });
    const report: AuditResponse = { ...state.auditReport(limit), caughtUp: progress().caughtUp };
    res.json(report);
  });
}

/** Answers a transaction lookup that found nothing: 404 unknown, or a retryable 503 when it cannot be sure. */
function notFound(res: Response, state: AuditorState, id: string, answer: Exclude<NotFoundAnswer, { answer: 'check-topic' }>): void {
  const shown = id.slice(0, 200);
  switch (answer.answer) {
    case 'unknown': {
      const unknown: UnknownTransactionView = {
        status: 'unknown',
        transactionId: id,
        error: { code: 'not-found', message: 'no committed or pending transaction has this id' },
      };
      res.status(404).json(unknown);
      return;
    }
    // Not found in an index that misses blocks: it may be committed in one of them, so "unknown" would be a lie.
    case 'index-building':
      throw indexBuilding(state, `transaction ${shown} is not in the blocks indexed so far`);
    case 'pending-catching-up':
      throw new HttpError(
        503,
        'pending-catching-up',
        `transaction ${shown} is not among the records read so far (${answer.reason}); retry later`,
        { partitionsBehind: answer.partitionsBehind, recordsBehind: answer.recordsBehind },
        { 'Retry-After': String(PENDING_RETRY_SECONDS) },
      );
    case 'pending-untracked':
      throw new HttpError(
        503,
        'pending-untracked',
        `transaction ${shown} is not committed and not among the pending transactions indexed; ${answer.untrackedPending} pending transaction(s) beyond PENDING_TRACK_LIMIT may include it; retry once they are mined`,
        { untrackedPending: answer.untrackedPending },
        { 'Retry-After': String(PENDING_RETRY_SECONDS) },
      );
  }
}

/** Seconds a client should wait before asking again while the auditor reads the transactions topic. */
export const PENDING_RETRY_SECONDS = 1;

/** Seconds a client should wait before asking again while the index is back-filled. */
export const INDEX_BUILDING_RETRY_SECONDS = 5;

/**
 * 503 index-building: the auditor started from a checkpoint and is still back-filling the blocks below it
 * (docs/architecture.md). Retryable; the body says how far the back-fill is.
 */
function indexBuilding(state: AuditorState, what: string): HttpError {
  const { height, contiguousHeight, missingBlocks, ledgerHeight } = state.indexProgress();
  return new HttpError(
    503,
    'index-building',
    `${what}: the auditor is back-filling its index from genesis; retry later`,
    { height, contiguousHeight, missingBlocks, ledgerHeight },
    { 'Retry-After': String(INDEX_BUILDING_RETRY_SECONDS) },
  );
}

function canonicalBlock(state: AuditorState, indexParameter: string | undefined): { index: number; block: Block; summary: BlockSummary } {
  const index = integerParameter(indexParameter, 'index', { min: 0, max: Number.MAX_SAFE_INTEGER });
  const block = state.index.block(index);
  const summary = state.index.summary(index);
  if ((block === undefined || summary === undefined) && index <= state.index.height) throw indexBuilding(state, `block ${index} is not indexed yet`);
  if (block === undefined || summary === undefined) {
    throw new HttpError(404, 'not-found', `no block ${index} in the canonical chain (height ${state.index.height})`, { index });
  }
  return { index, block, summary };
}
