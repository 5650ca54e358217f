import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LOGGED_IDS_LIMIT, loggedTransactionIds } from '../../src/logging/transaction-ids.js';

describe('loggedTransactionIds', () => {
  it('names every id up to the limit, then the first ones and counts the rest', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 * LOGGED_IDS_LIMIT + 5 }), (count) => {
        const ids = Array.from({ length: count }, (_, i) => `tx-${i}`);
        const fields = loggedTransactionIds(ids);
        expect(fields.transactionIds).toEqual(ids.slice(0, LOGGED_IDS_LIMIT));
        expect(fields.transactionIds.length + (fields.transactionIdsOmitted ?? 0)).toBe(count);
        expect('transactionIdsOmitted' in fields).toBe(count > LOGGED_IDS_LIMIT);
      }),
      { numRuns: 50 },
    );
  });
});
