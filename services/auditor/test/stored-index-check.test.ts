// The start-up check of an index found on disk against a broker that answers late or not at all (an injected
// probe; the real broker is in index-restart.integration.test.ts): no answer is asked again with backoff and
// never turns into a rebuild; only the broker's answer decides.
import type { MessageProbe } from '@chainlog/core/kafka';
import { describe, expect, it } from 'vitest';
import { INDEX_FORMAT, indexIdentity } from '../src/domain/index-validity.js';
import { checkStoredIndex } from '../src/kafka/stored-index-check.js';
import { MemoryIndexStore } from '../src/store/memory-store.js';
import { PARAMS } from './support/chain-builder.js';

const identity = indexIdentity(PARAMS, 'blockchain');
const HASH = 'ab'.repeat(32);

function storeWithTop(): MemoryIndexStore {
  const store = new MemoryIndexStore();
  store.putBlock({ index: 7, hash: HASH, offset: 12, timestamp: 1, transactionCount: 1, firstSeq: 7 }, Buffer.from('{}'));
  store.setMeta({ format: INDEX_FORMAT, identity, ranges: [[0, 7]], ledgerHeight: 7, overdraftTotal: 0 });
  return store;
}

const timedOut: MessageProbe = { outcome: 'unknown', detail: 'the broker did not answer within 15000 ms' };
const onChain: MessageProbe = { outcome: 'found', value: Buffer.from(JSON.stringify({ index: 7, hash: HASH })) };

/** A probe answering `answers` in turn (the last one for ever), recording the offsets asked. */
function scripted(answers: MessageProbe[]): { probe: (offset: number) => Promise<MessageProbe>; asked: number[] } {
  const asked: number[] = [];
  return {
    asked,
    probe: (offset) => {
      asked.push(offset);
      return Promise.resolve(answers[Math.min(asked.length - 1, answers.length - 1)] as MessageProbe);
    },
  };
}

describe('checkStoredIndex', () => {
  it('keeps asking while the broker does not answer, then uses the index it vouches for (no rebuild)', async () => {
    const { probe, asked } = scripted([timedOut, timedOut, timedOut, onChain]);
    const unknown: [number, string, number][] = [];
    const verdict = await checkStoredIndex({
      store: storeWithTop(),
      identity,
      probe,
      signal: new AbortController().signal,
      backoffMs: (attempt) => attempt,
      onUnknown: (...args) => unknown.push(args),
    });
    expect(verdict).toEqual({ verdict: 'valid', top: 7 });
    expect(asked).toEqual([12, 12, 12, 12]);
    expect(unknown).toEqual([1, 2, 3].map((attempt) => [attempt, timedOut.detail, attempt]));
  });

  it('rebuilds only on the broker\'s answer that the block is gone', async () => {
    const gone: MessageProbe = { outcome: 'absent', detail: 'offset 12 is at or past the end of blockchain (3)' };
    const { probe } = scripted([timedOut, gone]);
    const verdict = await checkStoredIndex({ store: storeWithTop(), identity, probe, signal: new AbortController().signal, backoffMs: () => 0, onUnknown: () => undefined });
    expect(verdict).toMatchObject({ verdict: 'rebuild', reason: 'not-on-chain' });
  });

  it('ends undecided (undefined) when stopped while the broker does not answer', async () => {
    const stop = new AbortController();
    const { probe, asked } = scripted([timedOut]);
    const verdict = await checkStoredIndex({
      store: storeWithTop(),
      identity,
      probe,
      signal: stop.signal,
      backoffMs: () => 60_000,
      onUnknown: () => stop.abort(),
    });
    expect(verdict).toBeUndefined();
    expect(asked).toHaveLength(1);
  });

  it('asks nothing about an empty store', async () => {
    const { probe, asked } = scripted([timedOut]);
    const verdict = await checkStoredIndex({ store: new MemoryIndexStore(), identity, probe, signal: new AbortController().signal, onUnknown: () => undefined });
    expect(verdict).toEqual({ verdict: 'empty' });
    expect(asked).toEqual([]);
  });
});
