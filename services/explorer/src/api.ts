/**
 * The auditor's query API, as the explorer calls it. Paths are relative to the page, so the explorer works
 * wherever the auditor serves it (at `/`, or behind an Ingress path prefix). Response types are the
 * auditor's own (imported, type-only).
 */
import type { Block, Transaction } from '@chainlog/core/protocol';
import type { AccountView, AuditReportView, BlockSummaryView, LiveView, TransactionStatusView } from '@chainlog/auditor';
import type { SealedHeader } from './verify/checks.js';

export type { AccountView, AuditReportView, BlockSummaryView, LiveView, Transaction, TransactionStatusView };

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

export function apiUrl(path: string): string {
  return new URL(path, document.baseURI).toString();
}

async function get<T>(path: string, signal?: AbortSignal): Promise<T> {
  let response: Response;
  try {
    response = await fetch(apiUrl(path), { headers: { accept: 'application/json' }, ...(signal === undefined ? {} : { signal }) });
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

const encode = encodeURIComponent;

export interface BlocksPage {
  readonly from: number;
  readonly limit: number;
  readonly order: 'asc' | 'desc';
  readonly height: number;
  readonly next: number | null;
  readonly blocks: BlockSummaryView[];
}

export interface BlockResponse {
  readonly offset: number;
  readonly confirmations: number;
  readonly block: Block;
}

export interface HeaderResponse {
  readonly offset: number;
  readonly confirmations: number;
  readonly transactionCount: number;
  readonly header: SealedHeader;
}

export type UnknownTransaction = { readonly status: 'unknown'; readonly transactionId: string };

export const api = {
  live: (signal?: AbortSignal) => get<LiveView>('v1/chain/live', signal),
  /** Newest first from `from` (the head when undefined). */
  blocks: (from: number | undefined, limit: number, signal?: AbortSignal) =>
    get<BlocksPage>(`v1/blocks?order=desc&limit=${limit}${from === undefined ? '' : `&from=${from}`}`, signal),
  block: (index: number, signal?: AbortSignal) => get<BlockResponse>(`v1/blocks/${index}`, signal),
  header: (index: number, signal?: AbortSignal) => get<HeaderResponse>(`v1/blocks/${index}/header`, signal),
  /** The status, or `unknown` on the auditor's 404 for an id it has never seen. */
  transaction: async (id: string, signal?: AbortSignal): Promise<TransactionStatusView | UnknownTransaction> => {
    try {
      return await get<TransactionStatusView>(`v1/transactions/${encode(id)}`, signal);
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
      return await get<AccountView>(`v1/accounts/${encode(id)}?order=desc&limit=${limit}${from === undefined ? '' : `&from=${from}`}`, signal);
    } catch (error) {
      if (error instanceof ApiError && error.status === 404 && error.code === 'not-found') return undefined;
      throw error;
    }
  },
  audit: (limit: number, signal?: AbortSignal) => get<AuditReportView & { caughtUp: boolean }>(`v1/audit?limit=${limit}`, signal),
};
