/**
 * SHA-256 specialised to the proof-of-work input (FIPS 180-4, one 64-byte block): 32 bytes of header
 * digest, an 8-byte big-endian nonce, then fixed padding for a 320-bit message. Mining hashes this block
 * millions of times with only the nonce's low word changing, so:
 *
 * - everything that does not depend on the low word is computed once per (digest, high word): the first
 *   9 rounds (they read only the digest words and the high word), the sums of round 9 that do not involve
 *   the low word, the padding words and the message-schedule words (or partial sums) that do not depend on
 *   the low word;
 * - the remaining rounds and schedule words are straight-line code over local variables (no arrays, no
 *   loop, no moves between the working variables): V8 keeps them in registers. The previous loop over
 *   typed arrays ran at about a third of the speed, calling node:crypto per attempt at about a sixth
 *   (bench/pow.ts, docs/benchmarks.md).
 *
 * The straight-line code is generated once, as JavaScript source text (POW_KERNEL_SOURCE), from the
 * FIPS 180-4 round and schedule formulas (sha256-source.ts, shared with the Merkle hasher), and compiled
 * with `new Function`; the miner's proof-of-work threads (plain JavaScript, see the miner's pow-worker.ts)
 * evaluate the very same text, so the protocol's searchNonce and the workers run one implementation.
 * Tests check it against node:crypto for any digest and nonce; validation uses node:crypto.
 */
import {
  bigSigma0,
  bigSigma1,
  choose,
  majority,
  role,
  SHA256_INITIAL_STATE,
  SHA256_K,
  smallSigma0,
  smallSigma1,
  WORKING_VARIABLES,
} from './sha256-source.js';

/** Message words 0..7 are the digest, 8 and 9 the nonce's high and low words, 10..15 the padding. */
const PADDING_WORDS: Readonly<Record<number, number>> = { 10: 0x80000000 | 0, 11: 0, 12: 0, 13: 0, 14: 0, 15: 40 * 8 };
const LOW_WORD = 9;
/** Rounds 0..8 read message words 0..8 only: computed once per (digest, high word). */
const ROUNDS_BEFORE_LOW_WORD = LOW_WORD;

// ---- the source generator ------------------------------------------------------------------------------

interface GeneratedKernel {
  /** Per (digest, high word): padding words and the schedule terms that do not depend on the low word. */
  readonly constants: string[];
  /** Per nonce: the schedule words that depend on the low word. */
  readonly schedule: string[];
  /** Per nonce: rounds 10..63 (round 9 is folded into the constants). */
  readonly rounds: string[];
}

function generate(): GeneratedKernel {
  const constants: string[] = [];
  const schedule: string[] = [];
  // A message word is "constant" when it does not depend on the low word (w9).
  const constant = new Set<number>([0, 1, 2, 3, 4, 5, 6, 7, 8]);
  for (const [i, value] of Object.entries(PADDING_WORDS)) {
    constants.push(`const w${i} = ${value};`);
    constant.add(Number(i));
  }
  for (let i = 16; i < 64; i++) {
    const terms: Array<[number, string]> = [
      [i - 16, `w${i - 16}`],
      [i - 15, smallSigma0(`w${i - 15}`)],
      [i - 7, `w${i - 7}`],
      [i - 2, smallSigma1(`w${i - 2}`)],
    ];
    const fixed = terms.filter(([word]) => constant.has(word)).map(([, term]) => term);
    const varying = terms.filter(([word]) => !constant.has(word)).map(([, term]) => term);
    if (varying.length === 0) {
      constants.push(`const w${i} = (${fixed.join(' + ')}) | 0;`);
      constant.add(i);
    } else {
      if (fixed.length > 0) constants.push(`const c${i} = (${fixed.join(' + ')}) | 0;`);
      schedule.push(`const w${i} = (${[...(fixed.length > 0 ? [`c${i}`] : []), ...varying].join(' + ')}) | 0;`);
    }
  }
  // K[i] + w[i] folded into one constant where w[i] is constant.
  const roundInput = (i: number): string => {
    if (!constant.has(i)) return `${SHA256_K[i]} + w${i}`;
    constants.push(`const kw${i} = (${SHA256_K[i]} + w${i}) | 0;`);
    return `kw${i}`;
  };
  const rounds: string[] = [];
  for (let i = LOW_WORD + 1; i < 64; i++) {
    const [a, b, c, d, e, f, g, h] = WORKING_VARIABLES.map((_, r) => role(i, r)) as [string, string, string, string, string, string, string, string];
    rounds.push(
      `t1 = (${h} + ${bigSigma1(e)} + ${choose(e, f, g)} + ${roundInput(i)}) | 0;`,
      `${d} = (${d} + t1) | 0;`,
      `${h} = (t1 + ${bigSigma0(a)} + ${majority(a, b, c)}) | 0;`,
    );
  }
  return { constants, schedule, rounds };
}

/** Declares the working variables with their values after round 9, from the state after round 8 (m0..m7). */
function afterLowWordRound(): string {
  const i = LOW_WORD;
  const names = WORKING_VARIABLES.map((_, r) => role(i + 1, r));
  // Round 9: t1 = r9 + w9 and t2 = s9 are constant but for w9; every other variable just shifts.
  const [a, b, c, d, e, f, g, h] = names as [string, string, string, string, string, string, string, string];
  return [
    `const t1r9 = (r9 + w9) | 0;`,
    `let ${a} = (t1r9 + s9) | 0, ${b} = m0, ${c} = m1, ${d} = m2, ${e} = (m3 + t1r9) | 0, ${f} = m4, ${g} = m5, ${h} = m6, t1 = 0;`,
  ].join('\n');
}

/**
 * JavaScript source of `function createPowKernel(digestWords, high)`: digestWords are the header digest's
 * eight big-endian 32-bit words, high the nonce's high 32 bits. It returns
 * - `hash(low, out)`: writes SHA-256(digest || uint64be(high · 2^32 + low)) as eight big-endian Int32 words;
 * - `search(low, end, difficulty, out)`: the first low word in [low, end) whose hash has `difficulty`
 *   leading zero bits (its hash left in out), or -1.
 */
function kernelSource(): string {
  const { constants, schedule, rounds } = generate();
  const finalWords = WORKING_VARIABLES.map((_, r) => `out[${r}] = (${role(64, r)} + ${SHA256_INITIAL_STATE[r]}) | 0;`);
  return `function createPowKernel(digestWords, high) {
'use strict';
const K = [${SHA256_K.join(', ')}];
const w0 = digestWords[0] | 0, w1 = digestWords[1] | 0, w2 = digestWords[2] | 0, w3 = digestWords[3] | 0;
const w4 = digestWords[4] | 0, w5 = digestWords[5] | 0, w6 = digestWords[6] | 0, w7 = digestWords[7] | 0;
const w8 = high | 0;
const midstate = [${SHA256_INITIAL_STATE.join(', ')}];
const message = [w0, w1, w2, w3, w4, w5, w6, w7, w8];
for (let i = 0; i < ${ROUNDS_BEFORE_LOW_WORD}; i++) {
  const [a, b, c, d, e, f, g, h] = midstate;
  const t1 = (h + ${bigSigma1('e')} + ${choose('e', 'f', 'g')} + K[i] + message[i]) | 0;
  const t2 = (${bigSigma0('a')} + ${majority('a', 'b', 'c')}) | 0;
  midstate.splice(0, 8, (t1 + t2) | 0, a, b, c, (d + t1) | 0, e, f, g);
}
const [m0, m1, m2, m3, m4, m5, m6, m7] = midstate;
const r9 = (m7 + ${bigSigma1('m4')} + ${choose('m4', 'm5', 'm6')} + K[${LOW_WORD}]) | 0;
const s9 = (${bigSigma0('m0')} + ${majority('m0', 'm1', 'm2')}) | 0;
${constants.join('\n')}
function hash(low, out) {
const w9 = low | 0;
${schedule.join('\n')}
${afterLowWordRound()}
${rounds.join('\n')}
${finalWords.join('\n')}
}
function search(low, end, difficulty, out) {
const firstWordBits = difficulty < 32 ? difficulty : 32;
for (let nonceLow = low; nonceLow < end; nonceLow++) {
hash(nonceLow, out);
if (Math.clz32(out[0]) >= firstWordBits) {
let remaining = difficulty, word = 0;
while (remaining >= 32 && out[word] === 0) { remaining -= 32; word++; }
if (remaining <= 0 || (remaining < 32 && Math.clz32(out[word]) >= remaining)) return nonceLow;
}
}
return -1;
}
return { hash, search };
}`;
}

// ---- the TypeScript face --------------------------------------------------------------------------------

export interface PowKernel {
  hash(low: number, out: Int32Array): void;
  search(low: number, end: number, difficulty: number, out: Int32Array): number;
}

/** See kernelSource(); evaluated verbatim by the miner's proof-of-work threads. */
export const POW_KERNEL_SOURCE: string = kernelSource();

const createPowKernel = new Function(`return ${POW_KERNEL_SOURCE};`)() as (digestWords: Int32Array, high: number) => PowKernel;

const TWO_TO_32 = 2 ** 32;

export class ProofOfWorkHasher {
  readonly #digestWords = new Int32Array(8);
  #high = -1;
  #kernel: PowKernel | undefined;

  constructor(headerDigest: Uint8Array) {
    if (headerDigest.length !== 32) throw new RangeError('a header digest is 32 bytes');
    const view = new DataView(headerDigest.buffer, headerDigest.byteOffset, 32);
    for (let i = 0; i < 8; i++) this.#digestWords[i] = view.getInt32(i * 4);
  }

  #kernelFor(high: number): PowKernel {
    if (this.#kernel === undefined || this.#high !== high) {
      this.#kernel = createPowKernel(this.#digestWords, high);
      this.#high = high;
    }
    return this.#kernel;
  }

  /** Writes SHA-256(headerDigest || uint64be(nonce)) into `out` as eight 32-bit big-endian words. */
  hashWords(nonce: number, out: Int32Array): void {
    const high = Math.floor(nonce / TWO_TO_32);
    this.#kernelFor(high).hash(nonce - high * TWO_TO_32, out);
  }

  /**
   * The first nonce in [start, end) whose hash has `difficulty` leading zero bits (its hash left in `out`),
   * or undefined. Nonces are integers 0..2^53-1.
   */
  search(start: number, end: number, difficulty: number, out: Int32Array): number | undefined {
    for (let segment = start; segment < end; ) {
      const high = Math.floor(segment / TWO_TO_32);
      const segmentEnd = Math.min(end, (high + 1) * TWO_TO_32);
      const low = this.#kernelFor(high).search(segment - high * TWO_TO_32, segmentEnd - high * TWO_TO_32, difficulty, out);
      if (low >= 0) return high * TWO_TO_32 + low;
      segment = segmentEnd;
    }
    return undefined;
  }
}

/** True when the hash words have at least `difficulty` leading zero bits. */
export function wordsMeetDifficulty(words: Int32Array, difficulty: number): boolean {
  let remaining = difficulty;
  for (let i = 0; remaining > 0; i++) {
    const word = words[i] as number;
    if (remaining >= 32) {
      if (word !== 0) return false;
      remaining -= 32;
    } else {
      return Math.clz32(word) >= remaining;
    }
  }
  return true;
}
