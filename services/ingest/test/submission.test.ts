// The pure request rules: body decoding, validation (one bad item rejects a batch), signatures,
// id assignment from client ids, Idempotency-Key or random ids, and timestamps.
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { signerFromSeed, signTransaction } from '@chainlog/core/protocol';
import { describe, expect, it } from 'vitest';
import { idempotencyKeyProblem, idFromKey } from '../src/domain/ids.js';
import { IdempotencyRegistry } from '../src/domain/idempotency.js';
import { decodeBody, messageValue, prepareSubmission, type SubmissionContext, type SubmissionRules, windowTimestampProblem } from '../src/domain/submission.js';

const rules: SubmissionRules = { maxBatchSize: 5, requireTransactionSignatures: false };
const NOW = 1_767_225_600_000;

function context(overrides: Partial<SubmissionContext> = {}): SubmissionContext {
  let next = 0;
  return { now: NOW, newId: () => `random-${next++}`, ...overrides };
}

const signer = signerFromSeed(createHash('sha256').update('ingest test client').digest());
const signed = signTransaction({ id: 'signed-1', from: 'alice', to: 'bob', amount: 7, timestamp: 1_700_000_000_000 }, signer);

describe('decodeBody', () => {
  it('parses UTF-8 JSON', () => {
    expect(decodeBody(Buffer.from('{"a":[1,"ü"]}'))).toEqual({ ok: true, value: { a: [1, 'ü'] } });
  });

  it.each([
    ['empty', Buffer.alloc(0), 'is empty'],
    ['absent', undefined, 'is empty'],
    ['invalid UTF-8', Buffer.from([0x7b, 0xff, 0x7d]), 'is not valid UTF-8'],
    ['truncated JSON', Buffer.from('{"from":'), 'is not valid JSON'],
    ['trailing garbage', Buffer.from('{} x'), 'is not valid JSON'],
    ['a duplicate key', Buffer.from('{"from":"alice","to":"bob","amount":3,"amount":300}'), 'duplicate key "amount"'],
    ['prefixed with a byte-order mark', Buffer.from('\uFEFF{"from":"alice","to":"bob","amount":3}'), 'byte-order mark'],
  ])('rejects a body that is %s as malformed-json', (_name, bytes, problem) => {
    const decoded = decodeBody(bytes);
    expect(decoded.ok).toBe(false);
    if (decoded.ok) return;
    expect(decoded.error).toMatchObject({ status: 400, code: 'malformed-json', reason: 'malformed-json', field: '$' });
    expect(decoded.error.problem).toContain(problem);
  });
});

describe('decodeBody then prepareSubmission: exact integers', () => {
  it.each([
    ['{"from":"alice","to":"bob","amount":2.9999999999999999}', 'amount'],
    ['{"from":"alice","to":"bob","amount":3,"timestamp":1700000000000.0000001}', 'timestamp'],
  ])('refuses %s at %s instead of rounding it', (text, field) => {
    const decoded = decodeBody(Buffer.from(text));
    const result = decoded.ok ? prepareSubmission(decoded.value, rules, context()) : decoded;
    expect(result.ok ? 'accepted' : result.error).toMatchObject({ status: 400, field, problem: expect.stringContaining('integer') });
  });
});

describe('prepareSubmission', () => {
  it('completes a minimal transaction with a random id and ingest’s clock', () => {
    const result = prepareSubmission({ from: 'alice', to: 'bob', amount: 3 }, rules, context());
    expect(result).toEqual({
      ok: true,
      value: {
        batch: false,
        transactions: [{ id: 'random-0', from: 'alice', to: 'bob', amount: 3, timestamp: NOW }],
        origins: ['random'],
        digests: [expect.stringMatching(/^[\w-]{43}$/)],
      },
    });
  });

  it('keeps the client’s id and timestamp', () => {
    const result = prepareSubmission({ id: 'mine', from: 'alice', to: 'bob', amount: 3, timestamp: 5 }, rules, context({ idempotencyKey: 'key' }));
    expect(result.ok && result.value.transactions).toEqual([{ id: 'mine', from: 'alice', to: 'bob', amount: 3, timestamp: 5 }]);
  });

  it('derives ids from the Idempotency-Key scoped to the sender: <key>.<tag> for one transaction, <key>-<index>.<tag> in a batch', () => {
    const single = prepareSubmission({ from: 'alice', to: 'bob', amount: 3 }, rules, context({ idempotencyKey: 'order.17_A-b' }));
    expect(single.ok && single.value.transactions.map((tx) => tx.id)).toEqual([idFromKey('order.17_A-b', undefined, 'alice')]);
    expect(idFromKey('order.17_A-b', undefined, 'alice')).toMatch(/^order\.17_A-b\.[0-9a-f]{16}$/);
    // Another sender's ids under the same key differ, and so does the same sender's under another key.
    expect(idFromKey('k', undefined, 'mallory')).not.toBe(idFromKey('k', undefined, 'alice'));
    expect(idFromKey('k2', undefined, 'alice').split('.')[1]).not.toBe(idFromKey('k', undefined, 'alice').split('.')[1]);
    const batch = prepareSubmission(
      [
        { from: 'alice', to: 'bob', amount: 1 },
        { id: 'own', from: 'alice', to: 'bob', amount: 2 },
        { from: 'carol', to: 'bob', amount: 3 },
      ],
      rules,
      context({ idempotencyKey: 'k' }),
    );
    expect(batch.ok && batch.value).toMatchObject({ batch: true });
    expect(batch.ok && batch.value.transactions.map((tx) => tx.id)).toEqual([idFromKey('k', 0, 'alice'), 'own', idFromKey('k', 2, 'carol')]);
    expect(batch.ok && batch.value.origins).toEqual(['key', 'client', 'key']);
  });

  it('gives every transaction of a batch without key its own random id', () => {
    const batch = prepareSubmission([{ from: 'a', to: 'b', amount: 1 }, { from: 'a', to: 'b', amount: 1 }], rules, context());
    expect(batch.ok && batch.value.transactions.map((tx) => tx.id)).toEqual(['random-0', 'random-1']);
  });

  it('passes a validly signed transaction through unchanged', () => {
    const result = prepareSubmission(signed, { ...rules, requireTransactionSignatures: true }, context({ idempotencyKey: 'ignored' }));
    expect(result.ok && result.value.transactions).toEqual([signed]);
    expect(result.ok && JSON.parse(messageValue(result.value.transactions[0]!))).toEqual(signed);
  });

  it.each([
    ['amount is a string', { amount: '3' }, 'amount', 'must be a number'],
    ['amount is negative', { amount: -1 }, 'amount', 'must be at least 1'],
    ['amount is zero', { amount: 0 }, 'amount', 'must be at least 1'],
    ['amount is fractional', { amount: 3.5 }, 'amount', 'must be an integer number of minor units'],
    ['amount is not finite (JSON 1e400)', { amount: JSON.parse('1e400') as number }, 'amount', 'must be an integer number of minor units'],
    ['amount is beyond 2^53', { amount: 2 ** 60 }, 'amount', 'must be at most 9007199254740991'],
    ['from is too long', { from: 'a'.repeat(65) }, 'from', 'must be 1..64 characters'],
    ['to is empty', { to: '' }, 'to', 'must be 1..64 characters'],
    ['from is the coinbase sender', { from: '0' }, 'from', 'reserved for block rewards'],
    ['id has a colon', { id: 'tx:transactions:0:1' }, 'id', 'must be 1..128 characters'],
    ['id is too long', { id: 'x'.repeat(129) }, 'id', 'must be 1..128 characters'],
    ['timestamp is negative', { timestamp: -1 }, 'timestamp', 'must be an integer number of milliseconds'],
    ['a field is unknown', { memo: 'hi' }, 'memo', 'is not a known field'],
    ['a field is missing', { amount: undefined }, 'amount', 'is required'],
    ['publicKey comes without signature', { publicKey: 'ab'.repeat(32) }, 'signature', 'is required when publicKey is present'],
  ])('rejects a transaction where %s, naming the field', (_name, change, field, problem) => {
    const transaction = { from: 'alice', to: 'bob', amount: 3, ...change };
    const result = prepareSubmission(transaction, rules, context());
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toMatchObject({ status: 400, code: 'invalid-transaction', reason: 'invalid-field', field });
    expect(result.error.problem).toContain(problem);
    expect(result.error.message).toContain(field);
    expect(result.error).not.toHaveProperty('index');
  });

  it('rejects a whole batch for one bad item, naming its index', () => {
    const items = [0, 1, 2, 3, 4].map((i) => ({ from: 'alice', to: 'bob', amount: i === 3 ? 3.5 : 1 }));
    const result = prepareSubmission(items, rules, context());
    expect(result).toEqual({
      ok: false,
      error: {
        status: 400,
        code: 'invalid-transaction',
        reason: 'invalid-field',
        message: 'transaction [3]: amount must be an integer number of minor units',
        field: 'amount',
        problem: 'must be an integer number of minor units',
        index: 3,
      },
    });
  });

  it('rejects a batch item that is not an object', () => {
    const result = prepareSubmission([{ from: 'a', to: 'b', amount: 1 }, 'x'], rules, context());
    expect(!result.ok && result.error).toMatchObject({ field: '$', index: 1, problem: 'must be a JSON object' });
  });

  it.each([[42], ['text'], [null], [true]])('rejects the body %j', (body) => {
    const result = prepareSubmission(body, rules, context());
    expect(!result.ok && result.error).toMatchObject({ status: 400, code: 'invalid-transaction', field: '$' });
  });

  it('rejects an empty batch with 400 and an oversize batch with 413', () => {
    expect(prepareSubmission([], rules, context())).toMatchObject({ ok: false, error: { status: 400, code: 'empty-batch', reason: 'empty-batch' } });
    const six = Array.from({ length: 6 }, () => ({ from: 'a', to: 'b', amount: 1 }));
    expect(prepareSubmission(six, rules, context())).toMatchObject({
      ok: false,
      error: { status: 413, code: 'batch-too-large', reason: 'batch-too-large', field: '$' },
    });
  });

  it('rejects a small-order key whose one "signature" verifies for every message under plain Ed25519 (strict, #19)', () => {
    // The identity point as the key, R = the identity and S = 0: OpenSSL accepts it for any message.
    const identity = `01${'00'.repeat(31)}`;
    const forged = (id: string, amount: number) => ({ id, from: 'alice', to: 'bob', amount, timestamp: NOW, publicKey: identity, signature: `01${'00'.repeat(63)}` });
    for (const transaction of [forged('forged-1', 1), forged('forged-2', 999)]) {
      const result = prepareSubmission(transaction, rules, context());
      expect(!result.ok && result.error).toMatchObject({ status: 400, code: 'invalid-signature', reason: 'bad-signature', field: 'signature' });
    }
  });

  it('rejects a signature that does not verify, naming signature', () => {
    const tampered = { ...signed, amount: 8 };
    const result = prepareSubmission([signed, tampered], rules, context());
    expect(!result.ok && result.error).toMatchObject({ status: 400, code: 'invalid-signature', reason: 'bad-signature', field: 'signature', index: 1 });
  });

  it('rejects unsigned transactions when signatures are required', () => {
    const result = prepareSubmission({ from: 'alice', to: 'bob', amount: 3 }, { ...rules, requireTransactionSignatures: true }, context());
    expect(!result.ok && result.error).toMatchObject({ status: 400, code: 'signature-required', reason: 'missing-signature', field: 'signature' });
  });

  describe('with ledger rules (ENFORCE_BALANCES: accounts bound to keys)', () => {
    const mallory = signerFromSeed(createHash('sha256').update('ingest test mallory').digest());
    const ledger = { accountKeys: { alice: [signer.publicKey] }, allocations: { alice: 100 } };
    const withLedger: SubmissionRules = { ...rules, ledger };
    const base = { from: 'alice', to: 'bob', amount: 7, timestamp: NOW };

    it('accepts a transaction signed by a key bound to its sender, named or a key account', () => {
      expect(prepareSubmission(signed, withLedger, context()).ok).toBe(true);
      const fromKeyAccount = signTransaction({ ...base, id: 'key-account', from: mallory.publicKey }, mallory);
      expect(prepareSubmission(fromKeyAccount, withLedger, context()).ok).toBe(true);
    });

    it.each([
      ['signed by a key not bound to alice', () => signTransaction({ ...base, id: 'theft' }, mallory), 'is signed by'],
      ['unsigned', () => ({ ...base, id: 'unsigned' }), 'is not signed'],
      ['from a key account, signed by another key', () => signTransaction({ ...base, id: 'other-key', from: signer.publicKey }, mallory), 'is signed by'],
      ['from an account no key is bound to', () => signTransaction({ ...base, id: 'nobody', from: 'treasury' }, mallory), 'which no key is bound to'],
    ])('refuses a transaction %s with 403 unauthorized', (_name, build, problem) => {
      const result = prepareSubmission([signed, build()], withLedger, context());
      expect(!result.ok && result.error).toMatchObject({ status: 403, code: 'unauthorized', reason: 'unauthorized', field: '$', index: 1 });
      expect(!result.ok && result.error.problem).toContain(problem);
    });

    it('refuses nothing for its sender without ledger rules (open mode keeps the article behaviour)', () => {
      expect(prepareSubmission(signTransaction({ ...base, id: 'theft' }, mallory), rules, context()).ok).toBe(true);
    });

    it('reports a bad signature before the binding', () => {
      const tampered = { ...signTransaction({ ...base, id: 'theft' }, mallory), amount: 8 };
      expect(prepareSubmission(tampered, withLedger, context())).toMatchObject({ ok: false, error: { code: 'invalid-signature' } });
    });
  });

  it('rejects a batch naming one id twice', () => {
    const result = prepareSubmission(
      [{ from: 'a', to: 'b', amount: 1 }, { id: idFromKey('k', 0, 'a'), from: 'a', to: 'b', amount: 2 }],
      rules,
      context({ idempotencyKey: 'k' }),
    );
    expect(!result.ok && result.error).toMatchObject({ status: 400, reason: 'duplicate-id', field: 'id', index: 1 });
    expect(!result.ok && result.error.problem).toContain('transaction [0]');
  });

  it.each([
    ['has a space', 'a b', false],
    ['has a colon', 'a:b', false],
    ['is empty', '', false],
    ['is a list (a repeated header)', 'a, b', false],
    ['is 111 characters for one transaction (plus the 17-character sender tag: 128)', 'k'.repeat(111), true],
    ['is 112 characters for one transaction', 'k'.repeat(112), false],
  ])('checks an Idempotency-Key that %s', (_name, key, valid) => {
    const result = prepareSubmission({ from: 'a', to: 'b', amount: 1 }, rules, context({ idempotencyKey: key }));
    expect(result.ok).toBe(valid);
    if (!result.ok) expect(result.error).toMatchObject({ status: 400, code: 'invalid-idempotency-key', field: 'Idempotency-Key' });
  });

  it('rejects an Idempotency-Key whose derived batch ids would be too long', () => {
    expect(idempotencyKeyProblem('k'.repeat(109), 10)).toBeUndefined(); // k…k-9.<16 hex> is 128 characters
    expect(idFromKey('k'.repeat(109), 9, 'alice')).toHaveLength(128);
    expect(idempotencyKeyProblem('k'.repeat(109), 11)).toContain('exceeds 128');
    expect(idempotencyKeyProblem('k'.repeat(111), undefined)).toBeUndefined();
    expect(idempotencyKeyProblem('k'.repeat(112), undefined)).toContain('at most 111');
  });
});

describe('IdempotencyRegistry', () => {
  const item = (id: string, digest: string) => ({ id, digest });
  const registry = (clock: { now: number }, maxEntries = 10) => new IdempotencyRegistry({ maxEntries, ttlMs: 1000, clock: () => clock.now });

  it('replays an accepted request, refuses other content under its ids, lets a failed one be retried', () => {
    const clock = { now: 0 };
    const ids = registry(clock);
    const first = [item('a', 'x'), item('b', 'y')];
    expect(ids.admit(first)).toEqual({ kind: 'proceed' });
    // A concurrent identical request waits; a concurrent different one conflicts.
    expect(ids.admit(first)).toEqual({ kind: 'in-progress', index: 0, id: 'a' });
    expect(ids.admit([item('b', 'other')])).toEqual({ kind: 'conflict', index: 0, id: 'b' });
    ids.commit(first, [{ partition: 0, offset: 5 }, { partition: 1, offset: 7 }]);
    ids.abort(first);
    expect(ids.admit(first)).toEqual({ kind: 'replay', placements: [{ partition: 0, offset: 5 }, { partition: 1, offset: 7 }] });
    expect(ids.admit([item('a', 'x'), item('c', 'z')])).toEqual({ kind: 'proceed' });
    ids.abort([item('a', 'x'), item('c', 'z')]);
    expect(ids.admit([item('c', 'z')])).toEqual({ kind: 'proceed' });
    expect(ids.admit([undefined, item('a', 'changed')])).toEqual({ kind: 'conflict', index: 1, id: 'a' });
    // Random ids (undefined) are never replayed: the request is new.
    expect(ids.admit([undefined])).toEqual({ kind: 'proceed' });
  });

  it('forgets ids after the TTL and beyond maxEntries, oldest first', () => {
    const clock = { now: 0 };
    const ids = registry(clock, 2);
    for (const [index, id] of ['a', 'b', 'c'].entries()) {
      ids.admit([item(id, 'x')]);
      ids.commit([item(id, 'x')], [{ partition: 0, offset: index }]);
      clock.now += 100;
    }
    expect(ids.size).toBe(2);
    expect(ids.admit([item('a', 'other')])).toEqual({ kind: 'proceed' });
    expect(ids.admit([item('c', 'other')])).toEqual({ kind: 'conflict', index: 0, id: 'c' });
    clock.now += 1000;
    expect(ids.admit([item('c', 'other')])).toEqual({ kind: 'proceed' });
    expect(ids.size).toBe(0);
  });
});

describe('IdempotencyRegistry against a model (acceptance order, re-acceptance, TTL, size bound)', () => {
  /** What the registry remembers, as a list in order of latest acceptance: the rule, written plainly. */
  class Model {
    entries: Array<{ id: string; digest: string; at: number; offset: number }> = [];
    constructor(readonly maxEntries: number, readonly ttlMs: number) {}
    expire(now: number): void {
      this.entries = this.entries.filter(({ at }) => at > now - this.ttlMs);
    }
    accept(id: string, digest: string, at: number, offset: number): void {
      this.entries = [...this.entries.filter((entry) => entry.id !== id), { id, digest, at, offset }];
      this.entries = this.entries.slice(Math.max(0, this.entries.length - this.maxEntries));
    }
  }

  it('keeps the newest ids at its bound over many acceptances (the order it keeps is compacted as it goes)', () => {
    const clock = { now: 0 };
    const registry = new IdempotencyRegistry({ maxEntries: 10, ttlMs: 1000, clock: () => clock.now });
    for (let n = 0; n < 5000; n++) {
      registry.admit([{ id: `id-${n}`, digest: 'x' }]);
      registry.commit([{ id: `id-${n}`, digest: 'x' }], [{ partition: 0, offset: n }]);
    }
    expect(registry.size).toBe(10);
    expect(registry.admit([{ id: 'id-4990', digest: 'x' }])).toEqual({ kind: 'replay', placements: [{ partition: 0, offset: 4990 }] });
    expect(registry.admit([{ id: 'id-4989', digest: 'other' }])).toEqual({ kind: 'proceed' });
  });

  it('remembers exactly the latest acceptances within the TTL and the bound', () => {
    const operation = fc.oneof(
      fc.record({ kind: fc.constant('accept' as const), id: fc.integer({ min: 0, max: 7 }), digest: fc.constantFrom('x', 'y') }),
      fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 400 }) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.array(operation, { maxLength: 80 }), (maxEntries, operations) => {
        const clock = { now: 0 };
        const registry = new IdempotencyRegistry({ maxEntries, ttlMs: 1000, clock: () => clock.now });
        const model = new Model(maxEntries, 1000);
        for (const [offset, op] of operations.entries()) {
          if (op.kind === 'tick') {
            clock.now += op.ms;
            continue;
          }
          const item = { id: `id-${op.id}`, digest: op.digest };
          model.expire(clock.now);
          const known = model.entries.find(({ id }) => id === item.id);
          const verdict = registry.admit([item]);
          if (known === undefined) expect(verdict).toEqual({ kind: 'proceed' });
          else if (known.digest !== item.digest) expect(verdict).toEqual({ kind: 'conflict', index: 0, id: item.id });
          else expect(verdict).toEqual({ kind: 'replay', placements: [{ partition: 0, offset: known.offset }] });
          if (verdict.kind !== 'proceed') continue;
          registry.commit([item], [{ partition: 0, offset }]);
          model.accept(item.id, item.digest, clock.now, offset);
          expect(registry.size).toBe(model.entries.length);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('prepareSubmission with a replay window', () => {
  const windowed: SubmissionRules = { ...rules, replayWindowMs: 60_000 };
  const payment = (timestamp?: number) => ({ from: 'alice', to: 'bob', amount: 1, ...(timestamp === undefined ? {} : { timestamp }) });

  it('accepts client timestamps within a quarter of the window (TIMESTAMP_TOLERANCE_MS by default) of its clock, and fills in its own', () => {
    for (const timestamp of [NOW - 15_000, NOW, NOW + 15_000, undefined]) {
      expect(prepareSubmission(payment(timestamp), windowed, context()).ok).toBe(true);
    }
  });

  it('refuses a client timestamp further away (a block would likely refuse it as out-of-window), naming the field and how far off it is', () => {
    for (const timestamp of [NOW - 15_001, NOW + 15_001, signed.timestamp]) {
      const result = prepareSubmission(timestamp === signed.timestamp ? signed : payment(timestamp), windowed, context());
      expect(result.ok).toBe(false);
      if (result.ok) continue;
      expect(result.error).toMatchObject({ status: 400, code: 'timestamp-out-of-window', reason: 'timestamp-out-of-window', field: 'timestamp' });
      expect(result.error.problem).toMatch(/replay window of 60000 ms/);
    }
    const old = prepareSubmission(payment(NOW - 20_000), windowed, context());
    expect(old.ok ? '' : old.error.problem).toMatch(/^is 20000 ms older than ingest's clock/);
    const ahead = prepareSubmission(payment(NOW + 20_000), windowed, context());
    expect(ahead.ok ? '' : ahead.error.problem).toMatch(/^is 20000 ms ahead of ingest's clock/);
    // Without a window any timestamp is taken, as before.
    expect(prepareSubmission(signed, rules, context()).ok).toBe(true);
  });

  it('refuses exactly the timestamps further than the tolerance', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1000, max: 10_000_000 }), fc.integer({ min: 0, max: 10_000_000 }), fc.integer({ min: -20_000_000, max: 20_000_000 }), (window, tolerance, off) => {
        const result = windowTimestampProblem(NOW + off, NOW, { replayWindowMs: window, timestampToleranceMs: tolerance });
        expect(result === undefined).toBe(Math.abs(off) <= tolerance);
      }),
    );
  });
});
