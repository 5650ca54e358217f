import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hashBytesToWords, leafHashWords, nodeHashWords, wordsToHashBytes, wordsToHex } from '../../../src/protocol/hashing/merkle-hasher.js';

const sha256 = (...parts: Uint8Array[]): Buffer => {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest();
};
const hash32 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map(Buffer.from);
/** Where a hash sits in a word array: the tree code puts many hashes in one array at word offsets. */
const slot = fc.nat(5).map((i) => i * 8);

describe('generated Merkle hash kernels (= node:crypto)', () => {
  it('leaf: H(0x00 || data) for any 32 bytes', () => {
    fc.assert(
      fc.property(hash32, slot, (data, at) => {
        const out = new Int32Array(48);
        leafHashWords(data, out, at);
        expect(wordsToHashBytes(out, at).equals(sha256(Buffer.from([0]), data))).toBe(true);
        expect(wordsToHex(out, at)).toBe(sha256(Buffer.from([0]), data).toString('hex'));
      }),
      { numRuns: 5000 },
    );
  });

  it('node: H(0x01 || left || right) for any children, also written over either child', () => {
    fc.assert(
      fc.property(hash32, hash32, fc.constantFrom('fresh', 'over left', 'over right'), (left, right, target) => {
        const words = new Int32Array(24);
        hashBytesToWords(left, words, 0);
        hashBytesToWords(right, words, 8);
        const outAt = { fresh: 16, 'over left': 0, 'over right': 8 }[target];
        nodeHashWords(words, 0, 8, words, outAt);
        expect(wordsToHashBytes(words, outAt).equals(sha256(Buffer.from([1]), left, right))).toBe(true);
      }),
      { numRuns: 5000 },
    );
  });

  it('agree with node:crypto on the edge values of every byte', () => {
    for (const byte of [0x00, 0x01, 0x7f, 0x80, 0xff]) {
      const data = Buffer.alloc(32, byte);
      const words = new Int32Array(16);
      leafHashWords(data, words, 0);
      expect(wordsToHex(words, 0)).toBe(sha256(Buffer.from([0]), data).toString('hex'));
      hashBytesToWords(data, words, 0);
      hashBytesToWords(data, words, 8);
      nodeHashWords(words, 0, 8, words, 0);
      expect(wordsToHex(words, 0)).toBe(sha256(Buffer.from([1]), data, data).toString('hex'));
    }
  });

  it('convert between bytes and words losslessly', () => {
    fc.assert(
      fc.property(hash32, slot, (bytes, at) => {
        const words = new Int32Array(48);
        hashBytesToWords(bytes, words, at);
        expect(wordsToHashBytes(words, at).equals(bytes)).toBe(true);
        expect(wordsToHex(words, at)).toBe(bytes.toString('hex'));
      }),
    );
  });
});
