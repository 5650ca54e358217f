/**
 * The generator of the Merkle kernels (merkle-hasher.ts explains what they compute and why they are
 * straight-line code): JavaScript source text of `leaf` and `node` from sha256-source.ts. It runs when the
 * kernels are regenerated (`npm run kernels -w @chainlog/core`), never in a service or a browser: the output
 * is committed as generated/merkle-kernels.ts, and a test keeps the two equal.
 */
import { compressionSource, SHA256_INITIAL_STATE, type MessageWord } from './sha256-source.js';

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

/** Source of the functions `leaf` and `node` (see MerkleKernels in merkle-hasher.ts). */
export function merkleKernelsSource(): string {
  return `${leafSource()}\n${nodeSource()}`;
}
