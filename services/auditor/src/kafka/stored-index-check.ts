/**
 * The start-up check of an index left on DATA_DIR (domain/index-validity.ts decides), asking the broker again,
 * with backoff, for as long as it does not answer: a slow or unreachable broker is no evidence against the
 * index, and rebuilding a good index costs a full back-fill. Only an answer decides (use it, or rebuild).
 */
import { kafkaBackoffMs, type MessageProbe } from '@chainlog/core/kafka';
import { judgeStoredIndex, storedTop, type IndexValidity } from '../domain/index-validity.js';
import type { IndexStore } from '../store/index-store.js';

export type DecidedValidity = Exclude<IndexValidity, { verdict: 'unknown' }>;

export interface StoredIndexCheckOptions {
  readonly store: IndexStore;
  /** What the index must belong to (indexIdentity). */
  readonly identity: string;
  /** Asks the broker about the blockchain topic's message at this offset. */
  readonly probe: (offset: number) => Promise<MessageProbe>;
  /** The broker did not answer attempt `attempt` (1-based); the next one is in `retryInMs`. */
  readonly onUnknown: (attempt: number, detail: string, retryInMs: number) => void;
  /** Aborted on shutdown: the check then ends with undefined. */
  readonly signal: AbortSignal;
  /** The pause after failed attempt `attempt` (1-based); default: exponential from 1 s, capped at 30 s, jittered. */
  readonly backoffMs?: (attempt: number) => number;
}

/** The verdict on the stored index once the broker has answered; undefined when stopped before. */
export async function checkStoredIndex(options: StoredIndexCheckOptions): Promise<DecidedValidity | undefined> {
  const { store, identity, probe, signal } = options;
  const backoffMs = options.backoffMs ?? ((attempt: number) => kafkaBackoffMs(attempt - 1, 1000, 30_000));
  const meta = store.meta();
  const topIndex = storedTop(meta);
  const top = topIndex === undefined ? undefined : store.summary(topIndex);
  for (let attempt = 1; !signal.aborted; attempt++) {
    const atTop = top === undefined ? undefined : await probe(top.offset);
    const verdict = judgeStoredIndex(meta, identity, top, atTop);
    if (verdict.verdict !== 'unknown') return verdict;
    const retryInMs = backoffMs(attempt);
    options.onUnknown(attempt, verdict.detail, retryInMs);
    await pause(retryInMs, signal);
  }
  return undefined;
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}
