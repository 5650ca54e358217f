/**
 * Whether an index found on disk at start-up may be used: it must belong to this chain (same consensus
 * parameters and blockchain topic) and the block it is valid up to must still be on the blockchain topic, at
 * the offset it was read from, with the same index and hash. A block's hash covers its predecessor's, so that
 * one block vouches for every block the index holds below it; anything else (the topic was recreated or
 * truncated, another ledger's volume, another format) means rebuilding: a wrong answer is worse than a slow start.
 * Rebuilding needs positive evidence, though: a broker that does not answer in time (slow or unreachable at
 * start-up) says nothing about the index, so the verdict is then `unknown` (ask again), never a rebuild.
 */
import type { MessageProbe } from '@chainlog/core/kafka';
import { consensusFingerprint, type ConsensusParams } from '@chainlog/core/protocol';
import type { IndexMeta, StoredBlockSummary } from '../store/index-store.js';

/** 2: a StoredEntry per transaction (history pages without reading blocks) and the back-fill's resume point. */
export const INDEX_FORMAT = 2;

export type RebuildReason = 'unsupported-format' | 'other-chain' | 'corrupt' | 'not-on-chain' | 'os-crash';

export type IndexValidity =
  | { readonly verdict: 'empty' }
  | { readonly verdict: 'valid'; readonly top: number }
  /** The broker did not say whether the top block is still there: keep the index and ask again. */
  | { readonly verdict: 'unknown'; readonly detail: string }
  | { readonly verdict: 'rebuild'; readonly reason: RebuildReason; readonly detail: string };

/** What the stored index's meta record says it belongs to. */
export function indexIdentity(params: ConsensusParams, blockchainTopic: string): string {
  return `${consensusFingerprint(params)}/${blockchainTopic}`;
}

/** The top block the meta record names, or undefined when the index holds none. */
export function storedTop(meta: IndexMeta | undefined): number | undefined {
  const top = meta?.ranges.at(-1)?.[1];
  return top === undefined ? undefined : top;
}

/**
 * The verdict on a stored index: `meta` (undefined: none), the summary stored for its top block, and what the
 * broker said about the blockchain topic's message at that summary's offset (undefined: not asked).
 */
export function judgeStoredIndex(
  meta: IndexMeta | undefined,
  identity: string,
  top: StoredBlockSummary | undefined,
  atTop: MessageProbe | undefined,
): IndexValidity {
  if (meta === undefined) return { verdict: 'empty' };
  if (meta.format !== INDEX_FORMAT) return rebuild('unsupported-format', `format ${String(meta.format)}, this auditor reads ${INDEX_FORMAT}`);
  if (meta.identity !== identity) return rebuild('other-chain', 'written for other consensus parameters or another blockchain topic');
  const topIndex = storedTop(meta);
  if (topIndex === undefined) return { verdict: 'empty' };
  if (top === undefined || top.index !== topIndex) return rebuild('corrupt', `the summary of its top block ${topIndex} is missing`);
  if (atTop === undefined || atTop.outcome === 'unknown') {
    return { verdict: 'unknown', detail: atTop?.detail ?? `the blockchain topic's message at offset ${top.offset} was not read` };
  }
  if (atTop.outcome === 'absent') return rebuild('not-on-chain', `${atTop.detail} (truncated or recreated)`);
  const onTopic = blockIdentity(atTop.value);
  if (onTopic === undefined || onTopic.index !== top.index || onTopic.hash !== top.hash) {
    return rebuild('not-on-chain', `the blockchain topic's message at offset ${top.offset} is not block ${top.index} with hash ${top.hash}`);
  }
  return { verdict: 'valid', top: topIndex };
}

function rebuild(reason: RebuildReason, detail: string): IndexValidity {
  return { verdict: 'rebuild', reason, detail };
}

function blockIdentity(message: Buffer): { index: unknown; hash: unknown } | undefined {
  try {
    const parsed = JSON.parse(message.toString('utf8')) as { index?: unknown; hash?: unknown } | null;
    return parsed === null || typeof parsed !== 'object' ? undefined : { index: parsed.index, hash: parsed.hash };
  } catch {
    return undefined;
  }
}
