/**
 * SHA-256 of the two fixed-size inputs of the RFC 6962 Merkle tree, as generated straight-line JavaScript
 * (sha256-source.ts): a leaf hashes 0x00 || 32 bytes (one 64-byte block), a node 0x01 || 32 || 32 bytes
 * (two blocks, the second all padding but for the last byte of the right child). A block's tree needs one
 * leaf and about one node hash per transaction; node:crypto's one-shot hash() spends most of its
 * 1.2–1.8 µs a call on call overhead for inputs this small, the generated code a fraction of that
 * (bench/replay.ts, docs/benchmarks.md). Tests check both functions against node:crypto.
 *
 * Hashes are eight big-endian 32-bit words in an Int32Array, at a word offset, so that a whole tree is
 * built in one array without allocating per node.
 */
import { compressionSource, SHA256_INITIAL_STATE, type MessageWord } from './sha256-source.js';

/** 32-bit words per hash. */
export const HASH_WORDS = 8;

const LEAF_PREFIX = 0x00;
const NODE_PREFIX = 0x01;
/** The padding's first byte, 0x80, at the position of a word's second byte. */
const PAD_AFTER_FIRST_BYTE = 0x00800000;
const LEAF_BITS = (1 + 32) * 8;
const NODE_BITS = (1 + 32 + 32) * 8;
const ZERO_WORDS = [0, 0, 0, 0, 0, 0];

/** `name = expression` for each message word computed from the input, then the list of all 16 words. */
function messageWords(prefix: string, expressions: readonly string[], constants: readonly number[]): { lines: string[]; words: MessageWord[] } {
  const names = expressions.map((_, i) => `${prefix}${i}`);
  return { lines: expressions.map((expression, i) => `const ${names[i]} = ${expression};`), words: [...names, ...constants] };
}

/** The bytes of big-endian word i of the leaf input 0x00 || data: data byte 4i - 1 first. */
function leafWordExpression(i: number): string {
  const byte = (at: number): string => (at < 0 ? String(LEAF_PREFIX) : `data[${at}]`);
  return `(${byte(4 * i - 1)} << 24) | (${byte(4 * i)} << 16) | (${byte(4 * i + 1)} << 8) | ${byte(4 * i + 2)}`;
}

function leafSource(): string {
  const message = messageWords(
    'm',
    [...Array.from({ length: 8 }, (_, i) => leafWordExpression(i)), `(data[31] << 24) | ${PAD_AFTER_FIRST_BYTE}`],
    [...ZERO_WORDS, LEAF_BITS],
  );
  return `function leaf(data, out, outAt) {
${message.lines.join('\n')}
${compressionSource(message.words, SHA256_INITIAL_STATE, 's')}
${outputSource('s')}
}`;
}

/** Word i of 0x01 || left || right, from the children's words (each shifted by the one-byte prefix). */
function nodeWordExpression(i: number): string {
  const child = (k: number): string => (k < 8 ? `l${k}` : `r${k - 8}`);
  return i === 0 ? `${NODE_PREFIX << 24} | (l0 >>> 8)` : `(${child(i - 1)} << 24) | (${child(i)} >>> 8)`;
}

// The node's two blocks are compressed by two functions: one function with both was too large for V8 to
// optimise and ran interpreted, about a hundred times slower.
function nodeSource(): string {
  const first = messageWords('m', Array.from({ length: 16 }, (_, i) => nodeWordExpression(i)), []);
  const second = messageWords('p', [`(r7 << 24) | ${PAD_AFTER_FIRST_BYTE}`], [0, 0, 0, 0, 0, 0, 0, 0, ...ZERO_WORDS, NODE_BITS]);
  return `function nodeFirstBlock(words, leftAt, rightAt, out, outAt) {
${Array.from({ length: 8 }, (_, k) => `const l${k} = words[leftAt + ${k}] | 0, r${k} = words[rightAt + ${k}] | 0;`).join('\n')}
${first.lines.join('\n')}
${compressionSource(first.words, SHA256_INITIAL_STATE, 's')}
${outputSource('s')}
}
function nodeSecondBlock(out, outAt, r7) {
${Array.from({ length: 8 }, (_, r) => `const s${r} = out[outAt + ${r}] | 0;`).join('\n')}
${second.lines.join('\n')}
${compressionSource(second.words, Array.from({ length: 8 }, (_, r) => `s${r}`), 'u')}
${outputSource('u')}
}
function node(words, leftAt, rightAt, out, outAt) {
const r7 = words[rightAt + 7] | 0;
nodeFirstBlock(words, leftAt, rightAt, out, outAt);
nodeSecondBlock(out, outAt, r7);
}`;
}

function outputSource(prefix: string): string {
  return Array.from({ length: 8 }, (_, r) => `out[outAt + ${r}] = ${prefix}${r};`).join('\n');
}

interface MerkleKernels {
  /** Writes H(0x00 || data) at out[outAt..outAt + 8); data is 32 bytes. */
  leaf(data: Uint8Array, out: Int32Array, outAt: number): void;
  /** Writes H(0x01 || left || right) at out[outAt..outAt + 8); reads every input word before writing. */
  node(words: Int32Array, leftAt: number, rightAt: number, out: Int32Array, outAt: number): void;
}

const kernels = new Function(`'use strict';\n${leafSource()}\n${nodeSource()}\nreturn { leaf, node };`)() as MerkleKernels;

export const leafHashWords: MerkleKernels['leaf'] = kernels.leaf;
export const nodeHashWords: MerkleKernels['node'] = kernels.node;

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
