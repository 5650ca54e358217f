/**
 * SHA-256 specialised to the proof-of-work input (FIPS 180-4, one 64-byte block): 32 bytes of header
 * digest, an 8-byte big-endian nonce, then fixed padding for a 320-bit message. Mining hashes this block
 * millions of times with only the nonce words changing, so the message words, the padding and the first 8
 * rounds (which read only the digest words) are computed once per header. Calling node:crypto per attempt
 * measured about 2.5 times slower, all of it call overhead. Validation uses node:crypto; tests check both agree.
 */
const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
  0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
  0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
  0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
  0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
  0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
  0xc67178f2,
]);
const INITIAL_STATE = new Int32Array([
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
]);
/** Rounds 0..7 consume only message words 0..7, the header digest. */
const PRECOMPUTED_ROUNDS = 8;
const MESSAGE_BITS = 40 * 8;

export class ProofOfWorkHasher {
  readonly #schedule = new Int32Array(64);
  readonly #stateAfterDigest = new Int32Array(8);

  constructor(headerDigest: Uint8Array) {
    if (headerDigest.length !== 32) throw new RangeError('a header digest is 32 bytes');
    const view = new DataView(headerDigest.buffer, headerDigest.byteOffset, 32);
    for (let i = 0; i < 8; i++) this.#schedule[i] = view.getInt32(i * 4);
    this.#schedule[10] = 0x80000000 | 0; // the padding's 1 bit, right after the nonce
    this.#schedule[15] = MESSAGE_BITS;
    this.#stateAfterDigest.set(INITIAL_STATE);
    runRounds(this.#stateAfterDigest, this.#schedule, 0, PRECOMPUTED_ROUNDS);
  }

  /** Writes SHA-256(headerDigest || uint64be(nonce)) into `out` as eight 32-bit big-endian words. */
  hashWords(nonce: number, out: Int32Array): void {
    const w = this.#schedule;
    w[8] = Math.floor(nonce / 2 ** 32);
    w[9] = nonce | 0;
    for (let i = 16; i < 64; i++) {
      const w15 = w[i - 15] as number;
      const w2 = w[i - 2] as number;
      const s0 = ((w15 >>> 7) | (w15 << 25)) ^ ((w15 >>> 18) | (w15 << 14)) ^ (w15 >>> 3);
      const s1 = ((w2 >>> 17) | (w2 << 15)) ^ ((w2 >>> 19) | (w2 << 13)) ^ (w2 >>> 10);
      w[i] = ((w[i - 16] as number) + s0 + (w[i - 7] as number) + s1) | 0;
    }
    out.set(this.#stateAfterDigest);
    runRounds(out, w, PRECOMPUTED_ROUNDS, 64);
    for (let i = 0; i < 8; i++) out[i] = ((out[i] as number) + (INITIAL_STATE[i] as number)) | 0;
  }
}

/** The SHA-256 compression rounds [from, to) applied to the working variables in `state`. */
function runRounds(state: Int32Array, w: Int32Array, from: number, to: number): void {
  let [a, b, c, d, e, f, g, h] = state as unknown as [number, number, number, number, number, number, number, number];
  for (let i = from; i < to; i++) {
    const s1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const t1 = (h + s1 + ((e & f) ^ (~e & g)) + (K[i] as number) + (w[i] as number)) | 0;
    const s0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const t2 = (s0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  state[0] = a;
  state[1] = b;
  state[2] = c;
  state[3] = d;
  state[4] = e;
  state[5] = f;
  state[6] = g;
  state[7] = h;
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
