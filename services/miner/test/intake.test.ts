// Which transactions-topic messages a block may carry, and which are poison.
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { derivedTransactionId, signerFromSeed, signTransaction } from '@chainlog/core/protocol';
import { intakeMessage } from '../src/domain/intake.js';

const source = { topic: 'transactions', partition: 1, offset: 7, timestamp: 1_700_000_000_000 };
const bytes = (value: unknown): Buffer => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));
const client = signerFromSeed(createHash('sha256').update('intake test client').digest());
const signed = signTransaction({ id: 'pay-1', from: 'carol', to: 'dave', amount: 5, timestamp: 1_600_000_000_000 }, client);

describe('intakeMessage', () => {
  it('fills in the derived id and the record timestamp of the article’s minimal form', () => {
    expect(intakeMessage(bytes({ from: 'alice', to: 'bob', amount: 3 }), source, {})).toEqual({
      ok: true,
      value: { id: derivedTransactionId('transactions', 1, 7), from: 'alice', to: 'bob', amount: 3, timestamp: source.timestamp },
    });
  });

  it('keeps a signed transaction as it is, and accepts it when signatures are required', () => {
    expect(intakeMessage(bytes(signed), source, { requireTransactionSignatures: true })).toEqual({ ok: true, value: signed });
  });

  it('makes poison of what a block must not carry, with the reason', () => {
    const cases: [Buffer | null, boolean, RegExp][] = [
      [null, false, /no value/],
      [bytes('not json'), false, /not valid JSON/],
      [Buffer.from([0xff, 0xfe]), false, /UTF-8/],
      [bytes({ from: 'alice', to: 'bob' }), false, /amount is required/],
      [bytes({ from: '0', to: 'bob', amount: 1 }), false, /from must not be "0"/],
      [bytes({ id: 'coinbase:1', from: 'alice', to: 'bob', amount: 1 }), false, /^id /],
      [bytes({ ...signed, amount: 6 }), false, /signature does not verify/],
      [bytes({ from: 'alice', to: 'bob', amount: 3 }), true, /requires signed transactions/],
    ];
    for (const [value, requireSignatures, reason] of cases) {
      const result = intakeMessage(value, source, { requireTransactionSignatures: requireSignatures });
      expect(result.ok ? 'accepted' : result.error.detail).toMatch(reason);
    }
    expect(intakeMessage(bytes({ from: 'a', to: 'b', amount: 1 }), { ...source, timestamp: -1 }, {})).toMatchObject({ ok: false, error: { reason: 'no-timestamp', detail: expect.stringMatching(/timestamp/) } });
  });

  it('never throws, whatever the bytes', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 80 }), fc.json().map((json) => Buffer.from(json))), (value) => {
        const result = intakeMessage(value, source, {});
        if (result.ok) expect(result.value.id.length).toBeGreaterThan(0);
        else expect(result.error.detail.length).toBeGreaterThan(0);
      }),
    );
  });
});
