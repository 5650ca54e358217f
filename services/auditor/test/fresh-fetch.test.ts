// FreshFetch (domain/fresh-fetch.ts): every ask gets a value from a fetch that started after it, and
// concurrent asks share fetches (at most one running and one waiting).
import { describe, expect, it } from 'vitest';
import { FreshFetch } from '../src/domain/fresh-fetch.js';

/** A fetch the test settles by hand; `started` counts the fetches begun. */
function manualFetch(): { fetch: () => Promise<number>; started: () => number; settle: (value?: number, error?: Error) => void } {
  const pending: { resolve: (value: number) => void; reject: (error: Error) => void }[] = [];
  let count = 0;
  return {
    fetch: () =>
      new Promise<number>((resolve, reject) => {
        count++;
        pending.push({ resolve, reject });
      }),
    started: () => count,
    settle: (value, error) => {
      const next = pending.shift();
      if (next === undefined) throw new Error('no fetch in flight');
      if (error === undefined) next.resolve(value ?? count);
      else next.reject(error);
    },
  };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('FreshFetch', () => {
  it('starts a fetch for an ask when none runs, and shares it with the asks made before it starts', async () => {
    const manual = manualFetch();
    const fresh = new FreshFetch(manual.fetch);
    const first = fresh.get();
    const second = fresh.get();
    await turn();
    expect(manual.started()).toBe(1);
    manual.settle(1);
    // The second ask came while the first fetch was starting (before it reached the broker): it waits for the next one.
    expect(await first).toBe(1);
    await turn();
    expect(manual.started()).toBe(2);
    manual.settle(2);
    expect(await second).toBe(2);
  });

  it('never answers an ask with a fetch that started before it; asks during a fetch share the next one', async () => {
    const manual = manualFetch();
    const fresh = new FreshFetch(manual.fetch);
    const early = fresh.get();
    await turn();
    const late = [fresh.get(), fresh.get(), fresh.get()];
    await turn();
    expect(manual.started()).toBe(1);
    manual.settle(10);
    expect(await early).toBe(10);
    await turn();
    expect(manual.started()).toBe(2);
    manual.settle(20);
    expect(await Promise.all(late)).toEqual([20, 20, 20]);
    // Nothing runs now: the next ask starts a fetch of its own.
    const after = fresh.get();
    await turn();
    expect(manual.started()).toBe(3);
    manual.settle(30);
    expect(await after).toBe(30);
  });

  it('rejects the asks of a failed fetch, and the next fetch still starts', async () => {
    const manual = manualFetch();
    const fresh = new FreshFetch(manual.fetch);
    const failed = fresh.get();
    await turn();
    const waiting = fresh.get();
    manual.settle(undefined, new Error('broker down'));
    await expect(failed).rejects.toThrow('broker down');
    await turn();
    manual.settle(5);
    expect(await waiting).toBe(5);
  });
});
