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
 * The straight-line code is generated as JavaScript source text from the FIPS 180-4 round and schedule
 * formulas (pow-kernel-source.ts, over sha256-source.ts, shared with the Merkle hasher) ahead of time and
 * committed as generated/pow-kernel.ts: nothing is compiled at run time, so a page under a
 * Content-Security-Policy without 'unsafe-eval' (the explorer) runs it too. The miner's proof-of-work
 * threads (plain JavaScript, see the miner's pow-worker.ts) evaluate the very function's text
 * (POW_KERNEL_SOURCE), so the protocol's searchNonce and the workers run one implementation.
 * Tests check it against node:crypto for any digest and nonce; validation uses node:crypto.
 */
import { createPowKernel as generatedPowKernel, POW_KERNEL_SOURCE as GENERATED_SOURCE } from './generated/pow-kernel.js';

export interface PowKernel {
  hash(low: number, out: Int32Array): void;
  search(low: number, end: number, difficulty: number, out: Int32Array): number;
}

const createPowKernel = generatedPowKernel as (digestWords: Int32Array, high: number) => PowKernel;

/** The kernel's source text as generated (pow-kernel-source.ts), evaluated verbatim by the miner's proof-of-work threads. */
export const POW_KERNEL_SOURCE: string = GENERATED_SOURCE as string;

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
