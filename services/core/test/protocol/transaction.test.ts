import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  admitRecord,
  decodeTransactionInput,
  versionRules,
  parseTransaction,
  parseTransactionInput,
  signTransaction,
  toTransaction,
  transactionSigningBytes,
  verifyTransactionSignature,
  type Result,
  type TransactionInput,
} from '../../src/protocol/index.js';
import { client, outsider } from './fixtures.js';

const source = { topic: 'transactions', partition: 1, offset: 7, timestamp: 1_700_000_000_000 };
const fieldOf = (result: Result<unknown>): string | undefined => (result.ok ? undefined : result.error.field);
const decodeText = (text: string): Result<TransactionInput> => decodeTransactionInput(Buffer.from(text, 'utf8'));
const valid = (input: TransactionInput): TransactionInput => {
  const result = parseTransactionInput(input);
  if (!result.ok) throw new Error(`${result.error.field} ${result.error.problem}`);
  return result.value;
};

describe('parseTransactionInput', () => {
  it("accepts the article's kcat message exactly as published", () => {
    expect(decodeText('{"from": "alice", "to": "bob", "amount": 3}')).toEqual({
      ok: true,
      value: { from: 'alice', to: 'bob', amount: 3 },
    });
  });

  it('accepts the full form and keeps every field', () => {
    const full = { id: 'order-17', from: 'a@bank', to: 'b:savings', amount: 9_007_199_254_740_991, timestamp: 0 };
    expect(parseTransactionInput(full)).toEqual({ ok: true, value: full });
  });

  it.each([
    ['{"from":"alice","to":"bob","amount":3.5}', 'amount', 'integer'],
    ['{"from":"alice","to":"bob","amount":0}', 'amount', 'at least 1'],
    ['{"from":"alice","to":"bob","amount":-1}', 'amount', 'at least 1'],
    ['{"from":"alice","to":"bob","amount":1e400}', 'amount', 'integer'],
    ['{"from":"alice","to":"bob","amount":9007199254740992}', 'amount', 'at most'],
    ['{"from":"alice","to":"bob","amount":"3"}', 'amount', 'number'],
    ['{"from":"alice","to":"bob","amount":null}', 'amount', 'number'],
    ['{"from":"alice","amount":3}', 'to', 'required'],
    ['{"from":"0","to":"bob","amount":3}', 'from', 'reserved'],
    ['{"from":"alice","to":"","amount":3}', 'to', 'characters'],
    [`{"from":"${'a'.repeat(65)}","to":"bob","amount":3}`, 'from', 'characters'],
    ['{"from":"älice","to":"bob","amount":3}', 'from', 'characters'],
    ['{"from":"alice","to":"bob","amount":3,"note":"x"}', 'note', 'not a known field'],
    ['{"from":"alice","to":"bob","amount":3,"__proto__":{}}', '__proto__', 'not a known field'],
    ['{"id":"","from":"alice","to":"bob","amount":3}', 'id', 'characters'],
    ['{"id":"coinbase:3","from":"alice","to":"bob","amount":3}', 'id', 'characters'],
    [`{"id":"${'i'.repeat(129)}","from":"alice","to":"bob","amount":3}`, 'id', 'characters'],
    ['{"from":"alice","to":"bob","amount":3,"timestamp":-1}', 'timestamp', 'milliseconds'],
    ['{"from":"alice","to":"bob","amount":3,"timestamp":"2024-01-01"}', 'timestamp', 'number'],
    [`{"from":"alice","to":"bob","amount":3,"publicKey":"${'A'.repeat(64)}","signature":"${'0'.repeat(128)}"}`, 'publicKey', 'hex'],
    ['[]', '$', 'object'],
    ['3', '$', 'object'],
    ['{"from":"alice"', '$', 'JSON'],
  ])('rejects %s at %s', (text, field, problem) => {
    const result = decodeText(text);
    expect(result.ok ? undefined : result.error).toEqual({ field, problem: expect.stringContaining(problem) });
  });

  it('rejects invalid UTF-8 and never throws, whatever the value', () => {
    expect(fieldOf(decodeTransactionInput(Buffer.from([0x7b, 0xff, 0x7d])))).toBe('$');
    fc.assert(
      fc.property(fc.anything(), (value) => {
        expect(typeof parseTransactionInput(value).ok).toBe('boolean');
      }),
    );
    fc.assert(
      fc.property(fc.uint8Array(), (bytes) => {
        expect(typeof decodeTransactionInput(bytes).ok).toBe('boolean');
      }),
    );
  });

  it('requires publicKey, id and timestamp with a signature, and a signature with a publicKey', () => {
    const signed = signTransaction<TransactionInput>({ id: 'p-1', from: 'carol', to: 'dave', amount: 1, timestamp: 5 }, client);
    expect(parseTransactionInput(signed).ok).toBe(true);
    const { publicKey, signature, id, timestamp, ...rest } = signed;
    expect(fieldOf(parseTransactionInput({ ...rest, id, timestamp, signature }))).toBe('publicKey');
    expect(fieldOf(parseTransactionInput({ ...rest, id, publicKey, signature }))).toBe('timestamp');
    expect(fieldOf(parseTransactionInput({ ...rest, timestamp, publicKey, signature }))).toBe('id');
    expect(fieldOf(parseTransactionInput({ ...rest, id, timestamp, publicKey }))).toBe('signature');
  });
});

describe('toTransaction', () => {
  it('derives the id from the source position and the timestamp from the record', () => {
    expect(toTransaction(valid({ from: 'alice', to: 'bob', amount: 3 }), source)).toEqual({
      id: 'tx:transactions:1:7',
      from: 'alice',
      to: 'bob',
      amount: 3,
      timestamp: source.timestamp,
    });
  });

  it('makes identical messages at different offsets distinct, and a redelivered message the same', () => {
    const input = valid({ from: 'alice', to: 'bob', amount: 3 });
    const ids = [7, 8, 9, 7].map((offset) => toTransaction(input, { ...source, offset }).id);
    expect(new Set(ids).size).toBe(3);
    expect(ids[3]).toBe(ids[0]);
  });

  it('keeps an id and timestamp the client chose', () => {
    const full = valid({ id: 'order-1', from: 'alice', to: 'bob', amount: 3, timestamp: 42 });
    expect(toTransaction(full, source)).toEqual(full);
  });

  it('produces stored transactions that parse, for any valid input and position', () => {
    fc.assert(
      fc.property(
        fc.record({ topic: fc.stringMatching(/^[a-z0-9._-]{1,40}$/).filter((t) => t !== '.' && t !== '..'), partition: fc.nat(2 ** 31 - 1), offset: fc.maxSafeNat(), timestamp: fc.maxSafeNat() }),
        (position) => {
          const stored = toTransaction(valid({ from: 'alice', to: 'bob', amount: 3 }), position);
          expect(parseTransaction(stored)).toEqual({ ok: true, value: stored });
        },
      ),
    );
  });

  it('throws on a source position Kafka cannot produce', () => {
    const input = valid({ from: 'alice', to: 'bob', amount: 3 });
    expect(() => toTransaction(input, { ...source, topic: 'a:b' })).toThrow(RangeError);
    expect(() => toTransaction(input, { ...source, offset: -1 })).toThrow(RangeError);
    expect(() => toTransaction(input, { ...source, partition: 0.5 })).toThrow(RangeError);
  });
});

describe('transaction signatures', () => {
  const unsigned: TransactionInput = { id: 'pay-1', from: 'carol', to: 'dave', amount: 12, timestamp: 1000 };

  it('cover the canonical JSON of the transaction without the signature', () => {
    const signed = signTransaction(unsigned, client);
    expect(transactionSigningBytes(signed).toString()).toBe(
      `{"amount":12,"from":"carol","id":"pay-1","publicKey":"${client.publicKey}","timestamp":1000,"to":"dave"}`,
    );
    expect(verifyTransactionSignature(signed)).toBe(true);
  });

  it('do not verify once any covered field changes, or with another key', () => {
    const signed = signTransaction(unsigned, client);
    const altered = [
      { ...signed, amount: 13 },
      { ...signed, to: 'mallory' },
      { ...signed, id: 'pay-2' },
      { ...signed, timestamp: 1001 },
      { ...signed, publicKey: outsider.publicKey },
      { ...signed, signature: signTransaction(unsigned, outsider).signature },
    ];
    for (const transaction of altered) expect(verifyTransactionSignature(transaction)).toBe(false);
    expect(verifyTransactionSignature(unsigned)).toBe(false);
  });

  it('need an id and a timestamp to sign', () => {
    expect(() => signTransaction({ from: 'carol', to: 'dave', amount: 1 }, client)).toThrow(TypeError);
  });
});

describe('derived ids: only positions Kafka can have', () => {
  const stored = (id: string): Result<unknown> => parseTransaction({ id, from: 'alice', to: 'bob', amount: 3, timestamp: 0 });
  it.each([
    ['tx:transactions:0:0', true],
    ['tx:transactions:2147483647:9007199254740991', true],
    ['tx:...:0:1', true],
    ['tx:.:0:1', false],
    ['tx:..:0:1', false],
    ['tx:transactions:2147483648:0', false],
    ['tx:transactions:99999999999:0', false],
    ['tx:transactions:0:9007199254740992', false],
    ['tx:transactions:01:0', false],
  ])('%s is %s', (id, valid) => {
    expect(stored(id).ok).toBe(valid);
  });

  it('toTransaction refuses the topics . and ..', () => {
    const input = valid({ from: 'alice', to: 'bob', amount: 3 });
    for (const topic of ['.', '..']) expect(() => toTransaction(input, { ...source, topic })).toThrow(RangeError);
  });
});

describe('admitRecord', () => {
  const position = { topic: 'transactions', partition: 0 };
  const params = { requireTransactionSignatures: false };

  it('counts a record without a value, or with an empty one, as empty', () => {
    for (const value of [null, new Uint8Array(0)]) {
      expect(admitRecord({ offset: 3, value, timestamp: 1 }, position, params)).toMatchObject({ ok: false, error: { reason: 'empty' } });
    }
  });

  it('refuses a small-order key signature under the current rules, as version 1 did not', () => {
    const identity = `01${'00'.repeat(31)}`;
    const forged = { id: 'steal-1', from: 'carol', to: 'mallory', amount: 100, timestamp: 1, publicKey: identity, signature: `${identity}${'00'.repeat(32)}` };
    const record = { offset: 0, value: Buffer.from(JSON.stringify(forged)), timestamp: 1 };
    expect(admitRecord(record, position, params)).toMatchObject({ ok: false, error: { reason: 'bad-signature' } });
    expect(admitRecord(record, position, params, versionRules(1))).toMatchObject({ ok: true });
  });

  it('refuses an inexact amount as malformed under the current rules', () => {
    const record = { offset: 0, value: Buffer.from('{"from":"alice","to":"bob","amount":2.9999999999999999}'), timestamp: 1 };
    expect(admitRecord(record, position, params)).toMatchObject({ ok: false, error: { reason: 'malformed', detail: expect.stringContaining('amount') } });
  });
});
