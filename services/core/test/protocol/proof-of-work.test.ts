import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { leadingZeroBits, MAX_NONCE, meetsDifficulty, proofOfWorkHash, searchNonce } from '../../src/protocol/index.js';
import { ProofOfWorkHasher, wordsMeetDifficulty } from '../../src/protocol/hashing/proof-of-work-hasher.js';

const digest = createHash('sha256').update('a header').digest();
const bitString = (bytes: Uint8Array): string => [...bytes].map((byte) => byte.toString(2).padStart(8, '0')).join('');
const bytes32 = fc.uint8Array({ minLength: 32, maxLength: 32 });
/** Hashes with many leading zeros are rare at random: zero a random-length prefix. */
const hashLike = fc.tuple(bytes32, fc.nat(256)).map(([bytes, zeros]) => {
  const copy = Buffer.from(bytes);
  for (let bit = 0; bit < zeros; bit++) copy[bit >> 3]! &= ~(0x80 >> (bit & 7));
  return copy;
});

describe('proof of work', () => {
  it('hashes the 32-byte header digest followed by the nonce as a 64-bit big-endian integer', () => {
    fc.assert(
      fc.property(bytes32, fc.maxSafeNat(), (headerDigest, nonce) => {
        const nonceBytes = Buffer.alloc(8);
        nonceBytes.writeBigUInt64BE(BigInt(nonce));
        const expected = createHash('sha256').update(headerDigest).update(nonceBytes).digest();
        expect(proofOfWorkHash(headerDigest, nonce).equals(expected)).toBe(true);
      }),
    );
  });

  it('counts leading zero bits, and meets a difficulty exactly when it has that many', () => {
    fc.assert(
      fc.property(hashLike, fc.integer({ min: 0, max: 256 }), (hash, difficulty) => {
        const zeros = bitString(hash).indexOf('1');
        expect(leadingZeroBits(hash)).toBe(zeros === -1 ? 256 : zeros);
        expect(meetsDifficulty(hash, difficulty)).toBe(leadingZeroBits(hash) >= difficulty);
      }),
    );
  });

  it('searchNonce returns the first nonce from the start that meets the difficulty', () => {
    fc.assert(
      fc.property(fc.nat(1000), fc.integer({ min: 0, max: 8 }), (start, difficulty) => {
        const nonce = searchNonce(digest, difficulty, start, 100_000);
        expect(nonce).toBeDefined();
        expect(meetsDifficulty(proofOfWorkHash(digest, nonce!), difficulty)).toBe(true);
        for (let earlier = start; earlier < nonce!; earlier++) {
          expect(meetsDifficulty(proofOfWorkHash(digest, earlier), difficulty)).toBe(false);
        }
      }),
      { numRuns: 30 },
    );
  });

  it('searchNonce gives up after maxAttempts and never passes MAX_NONCE', () => {
    const found = searchNonce(digest, 10, 0, 1_000_000)!;
    expect(searchNonce(digest, 10, 0, found)).toBeUndefined();
    expect(searchNonce(digest, 10, 0, found + 1)).toBe(found);
    expect(searchNonce(digest, 0, MAX_NONCE, 10)).toBe(MAX_NONCE);
    expect(searchNonce(digest, 256, MAX_NONCE - 2, 1000)).toBeUndefined();
    expect(() => searchNonce(digest, 257, 0, 1)).toThrow(RangeError);
    expect(() => searchNonce(digest, 1, -1, 1)).toThrow(RangeError);
    expect(() => searchNonce(digest.subarray(1), 1, 0, 1)).toThrow(RangeError);
  });
});

describe('ProofOfWorkHasher (the mining-specialised SHA-256)', () => {
  it('computes the same hash as node:crypto for any digest and nonce', () => {
    const words = new Int32Array(8);
    fc.assert(
      fc.property(bytes32, fc.oneof(fc.nat(2 ** 32 + 5), fc.maxSafeNat()), (headerDigest, nonce) => {
        new ProofOfWorkHasher(headerDigest).hashWords(nonce, words);
        const bytes = Buffer.alloc(32);
        words.forEach((word, i) => bytes.writeInt32BE(word, i * 4));
        expect(bytes.toString('hex')).toBe(proofOfWorkHash(headerDigest, nonce).toString('hex'));
      }),
    );
  });

  it('judges difficulty on words as on bytes', () => {
    fc.assert(
      fc.property(hashLike, fc.integer({ min: 0, max: 256 }), (hash, difficulty) => {
        const words = new Int32Array(8).map((_, i) => hash.readInt32BE(i * 4));
        expect(wordsMeetDifficulty(words, difficulty)).toBe(meetsDifficulty(hash, difficulty));
      }),
    );
  });
});
