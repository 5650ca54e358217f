// FreshFetch (domain/fresh-fetch.ts): every ask gets a value from a fetch that started after it, and
// concurrent asks share fetches (at most one running and one waiting).
import fc from 'fast-check';
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
  it('starts a fetch for an ask when none runs; an ask made once it started waits for the next one', async () => {
    const manual = manualFetch();
    const fresh = new FreshFetch(manual.fetch);
    const first = fresh.get();
    const second = fresh.get();
    await turn();
    expect(manual.started()).toBe(1);
    manual.settle(1);
    // The second ask came after the first fetch started: it waits for the next one.
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

  it('under any interleaving: each ask gets the value of a fetch started after it, and one fetch runs at a time (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.constantFrom('ask', 'ok', 'fail'), { minLength: 1, maxLength: 40 }), async (steps) => {
        let tick = 0;
        let running = 0;
        let most = 0;
        const pending: { start: number; resolve: (start: number) => void; reject: (error: Error) => void }[] = [];
        const fresh = new FreshFetch<number>(
          () =>
            new Promise<number>((resolve, reject) => {
              running++;
              most = Math.max(most, running);
              pending.push({ start: tick, resolve, reject });
            }),
        );
        const asks: { at: number; outcome: Promise<number | 'failed'> }[] = [];
        const settle = (ok: boolean): void => {
          const next = pending.shift();
          if (next === undefined) return;
          running--;
          if (ok) next.resolve(next.start);
          else next.reject(new Error('down'));
        };
        for (const step of [...steps, ...Array.from({ length: 2 * steps.length + 2 }, () => 'ok' as const)]) {
          tick++;
          if (step === 'ask') asks.push({ at: tick, outcome: fresh.get().catch(() => 'failed' as const) });
          else settle(step === 'ok');
          await turn();
        }
        expect(most).toBeLessThanOrEqual(1);
        for (const { at, outcome } of asks) {
          const value = await outcome;
          if (value !== 'failed') expect(value).toBeGreaterThanOrEqual(at);
        }
      }),
      { numRuns: 200 },
    );
  });
});
