/**
 * Proof of work. The block hash is SHA-256(headerDigest || uint64be(nonce)), a 40-byte input: the header
 * is serialised and hashed once per candidate, so each attempt costs one SHA-256 of a single 64-byte
 * block and no JSON. Difficulty is the number of leading zero bits the hash must have.
 */
import { hash } from 'node:crypto';
import { ProofOfWorkHasher } from './hashing/proof-of-work-hasher.js';

/** The nonce is a JSON number, so it stays within the integers JSON parsers represent exactly. */
export const MAX_NONCE = Number.MAX_SAFE_INTEGER;
export const MAX_DIFFICULTY = 256;

export function proofOfWorkHash(headerDigest: Uint8Array, nonce: number): Buffer {
  if (headerDigest.length !== 32) throw new RangeError('a header digest is 32 bytes');
  if (!Number.isSafeInteger(nonce) || nonce < 0) throw new RangeError(`nonce must be an integer 0..${MAX_NONCE}`);
  const input = Buffer.alloc(40);
  input.set(headerDigest);
  input.writeUInt32BE(Math.floor(nonce / 2 ** 32), 32);
  input.writeUInt32BE(nonce % 2 ** 32, 36);
  return hash('sha256', input, 'buffer');
}

export function leadingZeroBits(bytes: Uint8Array): number {
  let bits = 0;
  for (const byte of bytes) {
    if (byte !== 0) return bits + Math.clz32(byte) - 24;
    bits += 8;
  }
  return bits;
}

/** True when the hash has at least `difficulty` leading zero bits; cheaper than counting them all. */
export function meetsDifficulty(hashBytes: Uint8Array, difficulty: number): boolean {
  const fullBytes = Math.floor(difficulty / 8);
  for (let i = 0; i < fullBytes; i++) if (hashBytes[i] !== 0) return false;
  const remainingBits = difficulty % 8;
  return remainingBits === 0 || (hashBytes[fullBytes] as number) >> (8 - remainingBits) === 0;
}

/**
 * Tries nonces startNonce, startNonce + 1, … (at most maxAttempts of them, never beyond MAX_NONCE) and
 * returns the first whose hash meets the difficulty, or undefined. Pure and synchronous, so miners can
 * split the nonce space across worker threads and bound each call to stay responsive.
 */
export function searchNonce(
  headerDigest: Uint8Array,
  difficulty: number,
  startNonce: number,
  maxAttempts: number,
): number | undefined {
  if (!Number.isInteger(difficulty) || difficulty < 0 || difficulty > MAX_DIFFICULTY) {
    throw new RangeError(`difficulty must be an integer 0..${MAX_DIFFICULTY}`);
  }
  if (!Number.isSafeInteger(startNonce) || startNonce < 0) throw new RangeError(`startNonce must be 0..${MAX_NONCE}`);
  const end = Math.min(startNonce + Math.max(0, Math.floor(maxAttempts)), MAX_NONCE + 1);
  return new ProofOfWorkHasher(headerDigest).search(startNonce, end, difficulty, new Int32Array(8));
}
