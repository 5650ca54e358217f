/**
 * The auditor's query API, as the explorer calls it: paths from the protocol's route builders
 * (`@chainlog/core/api`), made relative to the page so the explorer works wherever the auditor serves it (at
 * `/`, or behind an Ingress path prefix); response types are the protocol's too.
 */
import {
  auditorPaths,
  type AccountView,
  type AuditResponse,
  type BlockHeaderResponse,
  type BlockPage,
  type BlockResponse,
  type LiveView,
  type TransactionStatusView,
  type UnknownTransactionView,
} from '@chainlog/core/api';
import { apiHeaders } from './access-token.js';

export type { AccountView, AuditResponse, BlockHeaderResponse, BlockPage, BlockResponse, LiveView, TransactionStatusView };
export type { BlockSummaryView, CommittedTransactionView, SealedHeader } from '@chainlog/core/api';
export type { Transaction } from '@chainlog/core/protocol';

/** A non-2xx answer, with the auditor's JSON error when it sent one. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly body: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** An auditor path (`/v1/...`) as a URL under the page's base, so a path prefix in front of the auditor is kept. */
export function apiUrl(path: string): string {
  return new URL(path.replace(/^\//, ''), document.baseURI).toString();
}

async function get<T>(path: string, signal?: AbortSignal): Promise<T> {
  let response: Response;
  try {
    response = await fetch(apiUrl(path), { headers: apiHeaders(), ...(signal === undefined ? {} : { signal }) });
  } catch (error) {
    if ((error as Error).name === 'AbortError') throw error;
    throw new ApiError(0, 'unreachable', 'the auditor cannot be reached', undefined);
  }
  const body = (await response.json().catch(() => undefined)) as { error?: { code?: string; message?: string } } | undefined;
  if (!response.ok) {
    throw new ApiError(response.status, body?.error?.code ?? 'http-error', body?.error?.message ?? `HTTP ${response.status}`, body);
  }
  return body as T;
}

/** What the explorer shows for an id the auditor has never seen (its 404, without the error object). */
export type UnknownTransaction = Pick<UnknownTransactionView, 'status' | 'transactionId'>;

export const api = {
  live: (signal?: AbortSignal) => get<LiveView>(auditorPaths.live(), signal),
  /** Newest first from `from` (the head when undefined). */
  blocks: (from: number | undefined, limit: number, signal?: AbortSignal) => get<BlockPage>(auditorPaths.blocks({ from, limit, order: 'desc' }), signal),
  block: (index: number, signal?: AbortSignal) => get<BlockResponse>(auditorPaths.block(index), signal),
  header: (index: number, signal?: AbortSignal) => get<BlockHeaderResponse>(auditorPaths.blockHeader(index), signal),
  /** The status, or `unknown` on the auditor's 404 for an id it has never seen. */
  transaction: async (id: string, signal?: AbortSignal): Promise<TransactionStatusView | UnknownTransaction> => {
    try {
      return await get<TransactionStatusView>(auditorPaths.transaction(id), signal);
    } catch (error) {
      if (error instanceof ApiError && error.status === 404 && (error.body as { status?: string } | undefined)?.status === 'unknown') {
        return { status: 'unknown', transactionId: id };
      }
      throw error;
    }
  },
  /** Newest first from position `from` (the newest when undefined); undefined for an account with no transaction. */
  account: async (id: string, from: number | undefined, limit: number, signal?: AbortSignal): Promise<AccountView | undefined> => {
    try {
      return await get<AccountView>(auditorPaths.account(id, { from, limit, order: 'desc' }), signal);
    } catch (error) {
      if (error instanceof ApiError && error.status === 404 && error.code === 'not-found') return undefined;
      throw error;
    }
  },
  audit: (limit: number, signal?: AbortSignal) => get<AuditResponse>(auditorPaths.audit(limit), signal),
};
