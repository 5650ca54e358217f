/**
 * Building blocks for SHA-256 (FIPS 180-4) compression functions generated as straight-line JavaScript
 * source text: the constants, the round and schedule formulas as expression templates, and a generator
 * for one compression over message words some of which are known in advance.
 *
 * Hashing small inputs of a fixed shape (the proof-of-work input, Merkle leaves and nodes) through
 * node:crypto costs more in call overhead than in hashing. Straight-line code over local variables (no
 * arrays, no loop, working variables renamed instead of moved) lets V8 keep the state in registers, and
 * whatever the fixed parts of the input determine (padding words, schedule terms, K + W) is folded into
 * constants when the source is generated. Every generated function is tested against node:crypto.
 */
export const SHA256_K: readonly number[] = [
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
  0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
  0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
  0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
  0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
  0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
  0xc67178f2,
].map((k) => k | 0);

export const SHA256_INITIAL_STATE: readonly number[] = [
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
].map((h) => h | 0);

// Expression templates: each takes and returns JavaScript expression text over 32-bit integers.
export const rotr = (x: string, n: number): string => `((${x} >>> ${n}) | (${x} << ${32 - n}))`;
export const bigSigma0 = (x: string): string => `(${rotr(x, 2)} ^ ${rotr(x, 13)} ^ ${rotr(x, 22)})`;
export const bigSigma1 = (x: string): string => `(${rotr(x, 6)} ^ ${rotr(x, 11)} ^ ${rotr(x, 25)})`;
export const smallSigma0 = (x: string): string => `(${rotr(x, 7)} ^ ${rotr(x, 18)} ^ (${x} >>> 3))`;
export const smallSigma1 = (x: string): string => `(${rotr(x, 17)} ^ ${rotr(x, 19)} ^ (${x} >>> 10))`;
export const choose = (e: string, f: string, g: string): string => `(${g} ^ (${e} & (${f} ^ ${g})))`;
export const majority = (a: string, b: string, c: string): string => `((${a} & ${b}) | (${c} & (${a} | ${b})))`;

export const WORKING_VARIABLES: readonly string[] = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
/** The working variable playing role r (0 = a … 7 = h) in round i: names rotate instead of values moving. */
export const role = (i: number, r: number): string => WORKING_VARIABLES[(r - (i % 8) + 8) % 8] as string;

/** A message word: a number is known when the source is generated, a string names a local variable. */
export type MessageWord = number | string;

/** W[i] = W[i-16] + σ0(W[i-15]) + W[i-7] + σ1(W[i-2]): each term as (distance back, template, its value). */
const SCHEDULE_TERMS = ([
  [16, (x: string) => x],
  [15, smallSigma0],
  [7, (x: string) => x],
  [2, smallSigma1],
] as const).map(([back, template]) => ({
  back,
  template,
  // The template evaluated, to fold the terms of known words into one constant.
  value: new Function('x', `return ${template('x')} | 0;`) as (x: number) => number,
}));

/**
 * Source of one compression: statements that read the 16 message words and the chaining state (eight
 * expressions, e.g. the initial state's numbers or the previous block's output variables) and declare
 * `${prefix}0` … `${prefix}7`, the state after this block. `prefix` keeps the locals of several blocks in
 * one function apart.
 */
export function compressionSource(message: readonly MessageWord[], state: readonly (number | string)[], prefix: string): string {
  const local = (name: string): string => `${prefix}_${name}`;
  const words = scheduleWords(message, local);
  const lines = [...words.lines];
  const variables = WORKING_VARIABLES.map(local);
  lines.push(`let ${variables.map((name, r) => `${name} = ${state[r]}`).join(', ')}, ${local('t')} = 0;`);
  for (let i = 0; i < 64; i++) {
    const [a, b, c, d, e, f, g, h] = WORKING_VARIABLES.map((_, r) => local(role(i, r))) as [string, string, string, string, string, string, string, string];
    const word = words.values[i] as MessageWord;
    const roundInput = typeof word === 'number' ? String(((SHA256_K[i] as number) + word) | 0) : `${SHA256_K[i]} + ${word}`;
    lines.push(
      `${local('t')} = (${h} + ${bigSigma1(e)} + ${choose(e, f, g)} + ${roundInput}) | 0;`,
      `${d} = (${d} + ${local('t')}) | 0;`,
      `${h} = (${local('t')} + ${bigSigma0(a)} + ${majority(a, b, c)}) | 0;`,
    );
  }
  WORKING_VARIABLES.forEach((_, r) => lines.push(`const ${prefix}${r} = (${local(role(64, r))} + ${state[r]}) | 0;`));
  return lines.join('\n');
}

/** The 64 schedule words: numbers where only known words enter, else locals declared by `lines`. */
function scheduleWords(message: readonly MessageWord[], local: (name: string) => string): { values: MessageWord[]; lines: string[] } {
  const values: MessageWord[] = [...message];
  const lines: string[] = [];
  for (let i = 16; i < 64; i++) {
    let known = 0;
    const terms: string[] = [];
    for (const { back, template, value } of SCHEDULE_TERMS) {
      const word = values[i - back] as MessageWord;
      if (typeof word === 'number') known = (known + value(word)) | 0;
      else terms.push(template(word));
    }
    if (terms.length === 0) {
      values[i] = known;
    } else {
      const name = local(`w${i}`);
      lines.push(`const ${name} = (${[...(known === 0 ? [] : [String(known)]), ...terms].join(' + ')}) | 0;`);
      values[i] = name;
    }
  }
  return { values, lines };
}
