// The worker's flow control: it fetches again at once while within its budget, waits when over it, and goes on
// once the reader's thread has taken enough (down to half the budget), or when stopping.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InFlightWindow } from '../../src/kafka/in-flight-window.js';

/** Whether the promise has settled after the pending microtasks ran. */
async function settled(promise: Promise<void> | undefined): Promise<boolean> {
  if (promise === undefined) return true;
  let done = false;
  void promise.then(() => (done = true));
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

describe('InFlightWindow', () => {
  it('lets the sender go on within the budget and holds it above until half is acknowledged', async () => {
    const window = new InFlightWindow(100);
    window.sent(60);
    expect(window.room()).toBeUndefined();
    window.sent(60);
    const waiting = window.room();
    expect(waiting).toBeDefined();
    window.acknowledged(60); // 60 on the way: within the budget but above half of it
    expect(await settled(waiting)).toBe(false);
    window.acknowledged(10); // 50: half
    expect(await settled(waiting)).toBe(true);
    expect(window.bytes).toBe(50);
  });

  it('releases a waiting sender when closed, and never holds one after', async () => {
    const window = new InFlightWindow(10);
    window.sent(50);
    const waiting = window.room();
    window.close();
    expect(await settled(waiting)).toBe(true);
    window.sent(50);
    expect(window.room()).toBeUndefined();
  });

  it('never lets more than the budget plus one chunk be on the way, and never stalls for good', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 1000 }), fc.array(fc.integer({ min: 0, max: 400 }), { minLength: 1, maxLength: 60 }), async (budget, chunks) => {
        const window = new InFlightWindow(budget);
        const onTheWay: number[] = [];
        for (const bytes of chunks) {
          window.sent(bytes);
          onTheWay.push(bytes);
          expect(window.bytes).toBeLessThanOrEqual(budget + bytes);
          const waiting = window.room();
          // The receiver takes chunks oldest first until the sender may go on.
          while (!(await settled(waiting))) {
            const taken = onTheWay.shift();
            expect(taken).toBeDefined();
            window.acknowledged(taken as number);
          }
        }
      }),
    );
  });

  it('refuses a budget that is not positive', () => {
    expect(() => new InFlightWindow(0)).toThrow(/positive/);
  });
});
