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
import { checkQuery, integerParameter, orderParameter, PAGE_LIMIT_MAX, pageParameters } from './params.js';

export const AUDIT_LIMIT_MAX = 1000;
export const AUDIT_LIMIT_DEFAULT = 100;
const ACCOUNT_ID = new RegExp(ACCOUNT_ID_PATTERN);

export interface ApiDependencies {
  readonly state: AuditorState;
  readonly openapi: object;
  /** Whether the chain is caught up with the blockchain topic, and the last offset applied. */
  readonly progress: () => { caughtUp: boolean; appliedOffset: number };
}

export function registerApiRoutes(app: Express, { state, openapi, progress }: ApiDependencies): void {
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

  app.get(AUDITOR_ROUTES.transaction, (req: Request, res: Response) => {
    checkQuery(req.query, []);
    const id = req.params.id as string;
    const status = state.transactionStatus(id);
    if (status === undefined) {
      // Not found in an index that misses blocks: it may be committed in one of them, so "unknown" would be a lie.
      if (!state.indexProgress().complete) throw indexBuilding(state, `transaction ${id.slice(0, 200)} is not in the blocks indexed so far`);
      const unknown: UnknownTransactionView = {
        status: 'unknown',
        transactionId: id,
        error: { code: 'not-found', message: 'no committed or pending transaction has this id' },
      };
      res.status(404).json(unknown);
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
