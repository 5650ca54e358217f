// Where partitions resume after a group join: from the chain, never from committed offsets.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { planJoin, resumeOffset } from '../src/domain/resume.js';

describe('resumeOffset', () => {
  it('is the chain’s last offset of the partition + 1, or 0 before any block consumed it', () => {
    expect(resumeOffset(undefined)).toBe(0);
    expect(resumeOffset(0)).toBe(1);
    expect(resumeOffset(41)).toBe(42);
  });
});

describe('planJoin', () => {
  it('resumes gained partitions from the chain, keeps the position of retained ones, and drops revoked ones', () => {
    const chain = new Map([
      [0, 9],
      [1, 4],
    ]);
    const pending = new Map([
      [0, 15],
      [2, 3],
    ]);
    const plan = planJoin([0, 2], [1, 0], (p) => chain.get(p), (p) => pending.get(p));
    expect(plan).toEqual({
      revoked: [2],
      seeks: [
        { partition: 0, offset: 15, gained: false },
        { partition: 1, offset: 5, gained: true },
      ],
    });
    // A partition that no block has consumed yet starts at 0.
    expect(planJoin([], [3], () => undefined, () => undefined).seeks).toEqual([{ partition: 3, offset: 0, gained: true }]);
  });

  it('seeks every assigned partition once, never before the chain’s resume offset', () => {
    const partitions = fc.uniqueArray(fc.integer({ min: 0, max: 9 }), { maxLength: 10 });
    fc.assert(
      fc.property(
        partitions,
        partitions,
        fc.dictionary(fc.integer({ min: 0, max: 9 }).map(String), fc.integer({ min: 0, max: 100 })),
        fc.dictionary(fc.integer({ min: 0, max: 9 }).map(String), fc.integer({ min: 0, max: 120 })),
        (owned, assigned, chainLast, pendingNext) => {
          const chain = (p: number): number | undefined => chainLast[String(p)];
          const pending = (p: number): number | undefined => (owned.includes(p) ? pendingNext[String(p)] : undefined);
          const plan = planJoin(owned, assigned, chain, pending);
          expect(plan.revoked).toEqual(owned.filter((p) => !assigned.includes(p)).sort((a, b) => a - b));
          expect(plan.seeks.map((s) => s.partition)).toEqual([...assigned].sort((a, b) => a - b));
          for (const seek of plan.seeks) {
            expect(seek.offset).toBeGreaterThanOrEqual(resumeOffset(chain(seek.partition)));
            const retainedPosition = owned.includes(seek.partition) ? pending(seek.partition) : undefined;
            expect(seek.gained).toBe(retainedPosition === undefined);
            if (retainedPosition === undefined) expect(seek.offset).toBe(resumeOffset(chain(seek.partition)));
            else expect(seek.offset).toBe(Math.max(retainedPosition, resumeOffset(chain(seek.partition))));
          }
        },
      ),
    );
  });
});
