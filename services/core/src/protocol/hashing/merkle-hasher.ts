/**
 * SHA-256 of the two fixed-size inputs of the RFC 6962 Merkle tree, as straight-line JavaScript generated
 * ahead of time (merkle-kernel-source.ts, committed as generated/merkle-kernels.ts; nothing is compiled at
 * run time): a leaf hashes 0x00 || 32 bytes (one 64-byte block), a node 0x01 || 32 || 32 bytes
 * (two blocks, the second all padding but for the last byte of the right child). A block's tree needs one
 * leaf and about one node hash per transaction; node:crypto's one-shot hash() spends most of its
 * 1.2–1.8 µs a call on call overhead for inputs this small, the generated code a fraction of that
 * (bench/replay.ts, docs/benchmarks.md). Tests check both functions against node:crypto.
 *
 * Hashes are eight big-endian 32-bit words in an Int32Array, at a word offset, so that a whole tree is
 * built in one array without allocating per node.
 */
import { leaf, node } from './generated/merkle-kernels.js';

/** 32-bit words per hash. */
export const HASH_WORDS = 8;

interface MerkleKernels {
  /** Writes H(0x00 || data) at out[outAt..outAt + 8); data is 32 bytes. */
  leaf(data: Uint8Array, out: Int32Array, outAt: number): void;
  /** Writes H(0x01 || left || right) at out[outAt..outAt + 8); reads every input word before writing. */
  node(words: Int32Array, leftAt: number, rightAt: number, out: Int32Array, outAt: number): void;
}

export const leafHashWords: MerkleKernels['leaf'] = leaf;
export const nodeHashWords: MerkleKernels['node'] = node;

/** Copies a 32-byte hash into words[at..at + 8). */
export function hashBytesToWords(bytes: Uint8Array, words: Int32Array, at: number): void {
  for (let i = 0; i < HASH_WORDS; i++) {
    const b = i * 4;
    words[at + i] = ((bytes[b] as number) << 24) | ((bytes[b + 1] as number) << 16) | ((bytes[b + 2] as number) << 8) | (bytes[b + 3] as number);
  }
}

export function wordsToHashBytes(words: Int32Array, at: number): Buffer {
  const bytes = Buffer.allocUnsafe(32);
  for (let i = 0; i < HASH_WORDS; i++) bytes.writeInt32BE(words[at + i] as number, i * 4);
  return bytes;
}

export function wordsToHex(words: Int32Array, at: number): string {
  let hex = '';
  for (let i = 0; i < HASH_WORDS; i++) hex += ((words[at + i] as number) >>> 0).toString(16).padStart(8, '0');
  return hex;
}
