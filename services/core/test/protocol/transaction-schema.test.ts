// TRANSACTION_INPUT_SCHEMA is what ingest publishes; parseTransactionInput is what runs. An independent
// JSON Schema implementation (Ajv, draft 2020-12) must agree with the parser on every input.
import { Ajv2020 } from 'ajv/dist/2020.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseTransactionInput, TRANSACTION_INPUT_SCHEMA } from '../../src/protocol/index.js';
import { accountId, userTransactionId } from './arbitraries.js';

const validateWithSchema = new Ajv2020({ strict: true }).compile(TRANSACTION_INPUT_SCHEMA);

const hex = (length: number): fc.Arbitrary<string> => fc.stringMatching(new RegExp(`^[0-9a-f]{${length}}$`));
const oddValue = fc.oneof(
  fc.constantFrom('', '0', 'coinbase:1', 'tx:t:0:1', 'a b', 'é', 'A'.repeat(64), 'a'.repeat(65), 'i'.repeat(129)),
  fc.constantFrom(0, -1, 1, 3.5, -0, 2 ** 53, 2 ** 53 - 1, 1e21, null, true, [], {}),
  hex(64),
  hex(64).map((key) => key.toUpperCase()),
  hex(128),
  fc.jsonValue({ maxDepth: 1 }),
);
const absent = fc.constant(undefined);
/** A field that is mostly valid (required fields) or mostly absent (optional ones), and sometimes odd. */
const required = (validValue: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> =>
  fc.oneof({ weight: 8, arbitrary: validValue }, { weight: 1, arbitrary: oddValue }, { weight: 1, arbitrary: absent });
const optional = (validValue: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> =>
  fc.oneof({ weight: 4, arbitrary: absent }, { weight: 4, arbitrary: validValue }, { weight: 1, arbitrary: oddValue });
/** publicKey and signature come as a pair, or one alone, or with odd values: dependentRequired's cases. */
const signing = fc.oneof(
  { weight: 6, arbitrary: fc.constant({}) },
  { weight: 2, arbitrary: fc.record({ publicKey: hex(64), signature: hex(128) }) },
  { weight: 1, arbitrary: fc.record({ publicKey: optional(hex(64)) }) },
  { weight: 1, arbitrary: fc.record({ signature: optional(hex(128)) }) },
  { weight: 1, arbitrary: fc.record({ publicKey: oddValue, signature: oddValue }) },
);
const input = fc
  .record({
    id: optional(userTransactionId),
    from: required(accountId),
    to: required(accountId),
    amount: required(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER })),
    timestamp: optional(fc.maxSafeNat()),
    signing,
    extra: fc.oneof(
      { weight: 7, arbitrary: fc.constant(null) },
      { weight: 1, arbitrary: fc.tuple(fc.constantFrom('memo', 'Amount', 'fee', ''), fc.jsonValue({ maxDepth: 1 })) },
    ),
  })
  .map(({ extra, signing: keys, ...fields }) => {
    const value: Record<string, unknown> = Object.fromEntries(
      Object.entries({ ...fields, ...keys }).filter(([, v]) => v !== undefined),
    );
    if (extra !== null) value[extra[0]] = extra[1];
    return value;
  });

describe('TRANSACTION_INPUT_SCHEMA', () => {
  it('agrees with parseTransactionInput on generated inputs, valid and invalid', () => {
    const verdicts = { valid: 0, invalid: 0 };
    fc.assert(
      fc.property(input, (value) => {
        const parsed = parseTransactionInput(value).ok;
        expect(validateWithSchema(value)).toBe(parsed);
        verdicts[parsed ? 'valid' : 'invalid']++;
      }),
      { numRuns: 3000 },
    );
    // Both verdicts must be well represented, or the agreement says little.
    expect(Math.min(verdicts.valid, verdicts.invalid)).toBeGreaterThan(300);
  });

  it('agrees on arbitrary JSON values', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(validateWithSchema(value)).toBe(parseTransactionInput(value).ok);
      }),
    );
  });
});
