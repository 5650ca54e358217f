// Typed reads of the auditor's API (services/auditor: GET /v1/chain/head, /v1/blocks, /v1/transactions/:id).
// The shapes are checked at run time, so a mismatched server fails with a clear message, not a crash.
import { auditorPaths, type HeadView, type TransactionStatusView } from '@chainlog/core/api';
import { type Block, parseBlock } from '@chainlog/core/protocol';
import { CliError } from './args.js';
import type { BlockLineView } from './format.js';
import { HttpError, type JsonClient } from './http.js';

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function unexpected(what: string): CliError {
  return new CliError(`the auditor's answer for ${what} is not in the expected form (is it a Chainlog auditor of the same version?)`);
}

export async function fetchHead(auditor: JsonClient, signal?: AbortSignal): Promise<HeadView> {
  const { body } = await auditor.get(auditorPaths.head(), signal ? { signal } : {});
  if (!isObject(body) || typeof body.height !== 'number') throw unexpected('the chain head');
  return body as unknown as HeadView;
}

/** The status of a transaction, or undefined when the auditor has never seen it (404). */
export async function fetchStatus(auditor: JsonClient, id: string, signal?: AbortSignal): Promise<TransactionStatusView | undefined> {
  const response = await auditor.get(auditorPaths.transaction(id), { allow404: true, ...(signal ? { signal } : {}) });
  if (response.status === 404) return undefined;
  const body = response.body;
  if (!isObject(body) || typeof body.status !== 'string') throw unexpected(`transaction ${id}`);
  if (body.status === 'committed') {
    const { proof, transaction } = body;
    if (!isObject(proof) || !Array.isArray(proof.path) || !isObject(transaction) || typeof body.merkleRoot !== 'string') {
      throw unexpected(`transaction ${id}`);
    }
  }
  return body as unknown as TransactionStatusView;
}

/**
 * The auditor's retryable 503s for a lookup it cannot decide yet (its index back-filling, its transactions
 * follower behind the topic, more pending than it indexes): not "unknown", and no reason for a waiting client
 * to give up.
 */
const UNDECIDED = new Set(['index-building', 'pending-catching-up', 'pending-untracked']);

export function isUndecided(error: unknown): boolean {
  return error instanceof HttpError && error.status === 503 && error.code !== undefined && UNDECIDED.has(error.code);
}

/** fetchStatus for a client that waits anyway: an undecided answer counts as not seen yet (undefined). */
export async function fetchStatusWhileWaiting(auditor: JsonClient, id: string, signal?: AbortSignal): Promise<TransactionStatusView | undefined> {
  try {
    return await fetchStatus(auditor, id, signal);
  } catch (error) {
    if (isUndecided(error)) return undefined;
    throw error;
  }
}

/** A full block (with its transactions), or undefined when there is no block at that index. */
export async function fetchBlock(auditor: JsonClient, index: number, signal?: AbortSignal): Promise<Block | undefined> {
  const response = await auditor.get(auditorPaths.block(index), { allow404: true, ...(signal ? { signal } : {}) });
  if (response.status === 404) return undefined;
  const raw = isObject(response.body) && isObject(response.body.block) ? response.body.block : response.body;
  const parsed = parseBlock(raw);
  if (!parsed.ok) throw new CliError(`block #${index} from the auditor is malformed: ${parsed.error.field} ${parsed.error.problem}`);
  return parsed.value;
}

export interface BlockPage {
  blocks: BlockLineView[];
  /** `from` of the next page, or undefined at the head. */
  next: number | undefined;
}

/** Up to `limit` blocks from index `from`, oldest first. */
export async function fetchBlocks(auditor: JsonClient, from: number, limit: number, signal?: AbortSignal): Promise<BlockPage> {
  const { body } = await auditor.get(auditorPaths.blocks({ from, limit }), signal ? { signal } : {});
  const list = Array.isArray(body) ? body : isObject(body) && Array.isArray(body.blocks) ? body.blocks : undefined;
  if (list === undefined) throw unexpected('the block list');
  const blocks: BlockLineView[] = [];
  for (const item of list) {
    if (!isObject(item) || typeof item.index !== 'number' || typeof item.hash !== 'string') throw unexpected('the block list');
    blocks.push(item as unknown as BlockLineView);
  }
  const next = isObject(body) && typeof body.next === 'number' ? body.next : undefined;
  return { blocks, next };
}
