import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeBlockWithTransactionJson } from '../../src/protocol/block-codec.js';
import { decodeBlock, encodeBlock, parseBlock, type Block } from '../../src/protocol/index.js';
import { canonicalTransactionJson } from '../../src/protocol/transaction.js';
import { block as arbitraryBlock } from './arbitraries.js';
import { block1 } from './fixtures.js';

const encoded = encodeBlock(block1).toString('utf8');
const decodeText = (text: string): ReturnType<typeof decodeBlock> => decodeBlock(Buffer.from(text, 'utf8'));
const errorOf = (result: ReturnType<typeof decodeBlock>): { field: string; problem: string } | undefined =>
  result.ok ? undefined : result.error;

describe('encodeBlock / decodeBlock', () => {
  it('round-trips every structurally valid block', () => {
    fc.assert(
      fc.property(arbitraryBlock, (block) => {
        const bytes = encodeBlock(block);
        const decoded = decodeBlock(bytes);
        expect(decoded).toEqual({ ok: true, value: block });
        expect(encodeBlock((decoded as { value: Block }).value).equals(bytes)).toBe(true);
      }),
    );
  });

  it('hands the rules the canonical JSON of each transaction, as canonicalTransactionJson gives it', () => {
    fc.assert(
      fc.property(arbitraryBlock, (block) => {
        const decoded = decodeBlockWithTransactionJson(encodeBlock(block));
        expect(decoded).toEqual({ ok: true, value: { block, transactionJson: block.transactions.map(canonicalTransactionJson) } });
      }),
    );
  });

  it('never throws on arbitrary bytes or arbitrary JSON, and accepts none of them', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        expect(decodeBlock(bytes).ok).toBe(false);
      }),
    );
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(decodeText(JSON.stringify(value)).ok).toBe(false);
      }),
    );
  });

  it('rejects every truncation of a valid block', () => {
    for (let length = 0; length < encoded.length; length++) {
      expect(decodeText(encoded.slice(0, length)).ok).toBe(false);
    }
  });

  it('accepts only the canonical encoding: whitespace, key order, number spelling and escapes are rejected', () => {
    expect(decodeText(encoded).ok).toBe(true);
    const variants = [
      JSON.stringify(JSON.parse(encoded), null, 1),
      JSON.stringify(Object.fromEntries(Object.entries(JSON.parse(encoded) as object).reverse())),
      encoded.replace('"difficulty":4', '"difficulty":4.0'),
      encoded.replace('"difficulty":4', '"difficulty":4e0'),
      encoded.replace('"miner":"miner-a"', '"miner":"miner\\u002da"'),
      encoded.replace('{"difficulty":4,', '{"difficulty":4,"difficulty":4,'),
      `\ufeff${encoded}`,
      `${encoded}\n`,
    ];
    for (const variant of variants) {
      expect(variant).not.toBe(encoded);
      expect(errorOf(decodeText(variant))?.problem).toMatch(/canonical|JSON/);
    }
  });

  it('names the field of structural problems', () => {
    const value = JSON.parse(encoded) as Record<string, unknown>;
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ ...value, extra: 1 }, 'extra'],
      [{ ...value, index: undefined }, 'index'],
      [{ ...value, index: -1 }, 'index'],
      [{ ...value, timestamp: 1.5 }, 'timestamp'],
      [{ ...value, previousHash: 'ab' }, 'previousHash'],
      [{ ...value, merkleRoot: (value.merkleRoot as string).toUpperCase() }, 'merkleRoot'],
      [{ ...value, miner: 'two words' }, 'miner'],
      [{ ...value, difficulty: 257 }, 'difficulty'],
      [{ ...value, nonce: 2 ** 53 }, 'nonce'],
      [{ ...value, hash: 7 }, 'hash'],
      [{ ...value, signature: undefined }, 'signature'],
      [{ ...value, minerPublicKey: 'zz' }, 'minerPublicKey'],
      [{ ...value, sources: {} }, 'sources'],
      [{ ...value, sources: [{ topic: 'a/b', partition: 0, firstOffset: 0, lastOffset: 0 }] }, 'sources[0].topic'],
      [{ ...value, sources: [{ topic: 't', partition: 2 ** 31, firstOffset: 0, lastOffset: 0 }] }, 'sources[0].partition'],
      [{ ...value, transactions: 'none' }, 'transactions'],
      [{ ...value, transactions: [null] }, 'transactions[0]'],
      [{ ...value, transactions: [{ ...(value.transactions as object[])[0], amount: 0 }] }, 'transactions[0].amount'],
      [{ ...value, transactions: [{ ...(value.transactions as object[])[0], id: 'a b' }] }, 'transactions[0].id'],
    ];
    for (const [mutated, field] of cases) {
      expect(errorOf(parseBlock(JSON.parse(JSON.stringify(mutated))))?.field).toBe(field);
    }
  });
});
