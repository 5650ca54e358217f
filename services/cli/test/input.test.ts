import { describe, expect, it } from 'vitest';
import { parseTransactionsText, readStream } from '../src/input.js';

describe('transactions from a file or stdin', () => {
  it('reads a JSON array, JSON lines (as kcat takes them) and one object', () => {
    expect(parseTransactionsText('[{"from":"a","to":"b","amount":1},{"id":"x","from":"b","to":"c","amount":2}]', 'f')).toEqual([
      { from: 'a', to: 'b', amount: 1 },
      { id: 'x', from: 'b', to: 'c', amount: 2 },
    ]);
    expect(parseTransactionsText('{"from":"a","to":"b","amount":1}\n\n{"from":"b","to":"c","amount":2}\r\n', 'f')).toHaveLength(2);
    expect(parseTransactionsText('{\n  "from": "a",\n  "to": "b",\n  "amount": 5\n}\n', 'f')).toEqual([{ from: 'a', to: 'b', amount: 5 }]);
  });

  it('names the line or item that is wrong', () => {
    expect(() => parseTransactionsText('', 'stdin')).toThrow('stdin has no transactions');
    expect(() => parseTransactionsText('[]', 'f')).toThrow('f has no transactions');
    expect(() => parseTransactionsText('[1,', 'f')).toThrow(/f is not a valid JSON array/);
    expect(() => parseTransactionsText('{"from":"a","to":"b","amount":1}\nnope', 'f')).toThrow(/f: line 2 is not valid JSON/);
    expect(() => parseTransactionsText('{"from":"a","to":"b","amount":0}', 'f')).toThrow('f: line 1: amount must be at least 1');
    expect(() => parseTransactionsText('[{"from":"a","to":"b","amount":1},{"from":"a","to":"b"}]', 'f')).toThrow('f: item 1: amount is required');
    expect(() => parseTransactionsText('{"from":"a","to":"b","amount":1,"memo":"x"}', 'f')).toThrow(/memo is not a known field/);
  });

  it('reads a stream to the end, with a size limit', async () => {
    const chunks = async function* () {
      yield Buffer.from('ab');
      yield 'cd';
    };
    expect(await readStream(chunks())).toBe('abcd');
    await expect(readStream(chunks(), 3)).rejects.toThrow('input is larger than 3 bytes');
  });
});
