/**
 * The generator of the proof-of-work kernel (proof-of-work-hasher.ts explains what it computes and why it is
 * straight-line code): JavaScript source text from the FIPS 180-4 round and schedule formulas of
 * sha256-source.ts. It runs when the kernel is regenerated (`npm run kernels -w @chainlog/core`), never in a
 * service or a browser: the output is committed as generated/pow-kernel.ts, and a test keeps the two equal.
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
export function powKernelSource(): string {
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
