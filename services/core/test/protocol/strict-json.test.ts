import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeTransactionInput, isIntegerNumberText, parseStrictJson, versionRules } from '../../src/protocol/index.js';

const decode = (text: string, version = 2) => decodeTransactionInput(Buffer.from(text, 'utf8'), versionRules(version));

describe('parseStrictJson', () => {
  it('parses what JSON.parse parses, for any JSON value without duplicate keys or fractional numbers', () => {
    const integersOnly = fc.jsonValue().filter((value) => !JSON.stringify(value).match(/\d[.eE]/));
    fc.assert(
      fc.property(integersOnly, fc.constantFrom(0, 2), (value, indent) => {
        const text = JSON.stringify(value, null, indent);
        expect(parseStrictJson(text)).toEqual({ ok: true, value: JSON.parse(text) });
      }),
    );
  });

  it('never throws and rejects whatever JSON.parse rejects', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        const result = parseStrictJson(text);
        let parses = true;
        try {
          JSON.parse(text);
        } catch {
          parses = false;
        }
        if (!parses) expect(result.ok).toBe(false);
      }),
    );
  });

  it.each([
    ['\uFEFF{"a":1}', 'byte-order mark'],
    ['{"a":1,"a":1}', 'duplicate key "a"'],
    ['[{"b":{"c":1,"c":2}}]', 'duplicate key "c"'],
    ['{"a":1,"\\u0061":2}', 'duplicate key "a"'],
    ['{"a":1} x', 'after the JSON value'],
    [`${'['.repeat(100)}${']'.repeat(100)}`, 'nested deeper'],
    ['{"a":"\\x"}', 'escape'],
  ])('rejects %s (%s)', (text, problem) => {
    const result = parseStrictJson(text);
    expect(result.ok ? 'accepted' : result.problem).toContain(problem);
  });

  it('keeps __proto__ as an own key, as JSON.parse does', () => {
    const result = parseStrictJson('{"__proto__":{"x":1}}');
    expect(result.ok && Object.keys(result.value as object)).toEqual(['__proto__']);
    expect(result.ok && Object.getPrototypeOf(result.value)).toBe(Object.prototype);
  });

  it('turns a number whose text is not an integer into NaN, never into the nearest integer', () => {
    const value = (text: string): unknown => {
      const result = parseStrictJson(text);
      return result.ok ? result.value : result.problem;
    };
    expect(value('2.9999999999999999')).toBeNaN();
    expect(value('1700000000000.0000001')).toBeNaN();
    expect(value('3.5')).toBeNaN();
    expect(value('1e-400')).toBeNaN();
    for (const text of ['3', '3.0', '3e0', '30e-1', '0.3e1', '3.000E+0', '-0.0']) expect(value(text)).toBe(Number(text));
  });
});

describe('isIntegerNumberText', () => {
  it('agrees with exact decimal arithmetic on digits and exponents', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 30n }), fc.nat(25), fc.integer({ min: -30, max: 30 }), (digits, fractionLength, exponent) => {
        const text = digits.toString().padStart(fractionLength + 1, '0');
        const spelled = fractionLength === 0 ? text : `${text.slice(0, -fractionLength)}.${text.slice(-fractionLength)}`;
        const scale = exponent - fractionLength; // value = digits * 10^scale
        const integral = digits === 0n || scale >= 0 || digits % 10n ** BigInt(-scale) === 0n;
        expect(isIntegerNumberText(`${spelled}e${exponent}`)).toBe(integral);
      }),
    );
  });
});

describe('decodeTransactionInput: exact integers, duplicate keys and byte-order marks', () => {
  it.each([
    ['{"from":"alice","to":"bob","amount":2.9999999999999999}', 'amount'],
    ['{"from":"alice","to":"bob","amount":3,"timestamp":1700000000000.0000001}', 'timestamp'],
    ['{"from":"alice","to":"bob","amount":3,"amount":300}', '$'],
    ['\uFEFF{"from":"alice","to":"bob","amount":3}', '$'],
  ])('rejects %s at %s (version 2)', (text, field) => {
    const result = decode(text);
    expect(result.ok ? 'accepted' : result.error.field).toBe(field);
  });

  it('version 1 keeps the original decoding: JSON.parse rounds and lets the last duplicate win', () => {
    expect(decode('{"from":"alice","to":"bob","amount":2.9999999999999999}', 1)).toEqual({ ok: true, value: { from: 'alice', to: 'bob', amount: 3 } });
    expect(decode('{"from":"alice","to":"bob","amount":3,"amount":300}', 1)).toEqual({ ok: true, value: { from: 'alice', to: 'bob', amount: 300 } });
  });

  it('accepts every integer spelling of an amount', () => {
    for (const spelling of ['3', '3.0', '3e0', '30e-1', '0.3E1']) {
      expect(decode(`{"from":"alice","to":"bob","amount":${spelling}}`)).toEqual({ ok: true, value: { from: 'alice', to: 'bob', amount: 3 } });
    }
  });
});
