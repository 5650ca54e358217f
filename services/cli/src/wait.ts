// Waiting for transactions to be committed, by following the chain through the auditor: each new block
// is fetched once and searched for the ids, so waiting for a thousand transactions costs one request per
// block, not one per transaction per second. Ids committed before `fromHeight` are found by status.
import type { Block } from '@chainlog/core/protocol';
import { fetchBlock, fetchHead, fetchStatusWhileWaiting } from './auditor-api.js';
import type { CommandContext } from './context.js';
import type { TransactionStatusView } from '@chainlog/core/api';

export interface WaitOptions {
  timeoutMs: number;
  /** First block index to search; when unknown, the statuses are asked first. */
  fromHeight?: number;
  intervalMs?: number;
  onBlock?: (block: Block, found: number) => void;
  onProgress?: (committed: number, total: number) => void;
}

export interface WaitOutcome {
  /** id → index of the block that committed it. */
  committed: Map<string, number>;
  /** Last known status of each id still not committed (when the auditor knew it). */
  notCommitted: Map<string, TransactionStatusView | undefined>;
  /** Index of the last block searched. */
  height: number;
}

const STATUS_CONCURRENCY = 8;

export async function waitUntilCommitted(context: CommandContext, ids: readonly string[], options: WaitOptions): Promise<WaitOutcome> {
  const { auditor, signal } = context;
  const wanted = new Set(ids);
  const committed = new Map<string, number>();
  const deadline = context.now() + options.timeoutMs;
  let next = options.fromHeight;

  if (next === undefined) {
    // Blocks up to this head are covered by the status round below, later ones by following the chain.
    next = (await fetchHead(auditor, signal)).height + 1;
    const statuses = await statusesOf(context, [...wanted]);
    for (const [id, status] of statuses) if (status?.status === 'committed') committed.set(id, status.blockIndex);
    options.onProgress?.(committed.size, wanted.size);
  }

  while (committed.size < wanted.size && !signal.aborted && context.now() < deadline) {
    const head = await fetchHead(auditor, signal);
    for (; next <= head.height && !signal.aborted; next += 1) {
      const block = await fetchBlock(auditor, next, signal);
      if (block === undefined) break;
      let found = 0;
      for (const transaction of block.transactions) {
        if (wanted.has(transaction.id) && !committed.has(transaction.id)) {
          committed.set(transaction.id, block.index);
          found += 1;
        }
      }
      options.onBlock?.(block, found);
      options.onProgress?.(committed.size, wanted.size);
    }
    if (committed.size < wanted.size) await context.sleep(options.intervalMs ?? 250);
  }

  const notCommitted = new Map<string, TransactionStatusView | undefined>();
  const missing = [...wanted].filter((id) => !committed.has(id));
  if (missing.length > 0 && !signal.aborted) {
    // A last look by id: transactions committed earlier (a reused id) count, the rest report their state.
    const statuses = await statusesOf(context, missing.slice(0, 100));
    for (const [id, status] of statuses) {
      if (status?.status === 'committed') committed.set(id, status.blockIndex);
      else notCommitted.set(id, status);
    }
    for (const id of missing.slice(100)) notCommitted.set(id, undefined);
  }
  return { committed, notCommitted, height: next - 1 };
}

async function statusesOf(context: CommandContext, ids: readonly string[]): Promise<Map<string, TransactionStatusView | undefined>> {
  const statuses = new Map<string, TransactionStatusView | undefined>();
  let cursor = 0;
  const worker = async (): Promise<void> => {
    while (cursor < ids.length && !context.signal.aborted) {
      const id = ids[cursor++] as string;
      statuses.set(id, await fetchStatusWhileWaiting(context.auditor, id, context.signal));
    }
  };
  await Promise.all(Array.from({ length: Math.min(STATUS_CONCURRENCY, ids.length) }, worker));
  return statuses;
}
