// The committed kernels are the generators' output (regenerate: npm run kernels -w @chainlog/core), and the
// protocol runs them as they are: no code is compiled at run time.
import { readFileSync } from 'node:fs';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { kernelModules } from '../../../src/protocol/hashing/kernel-modules.js';
import { POW_KERNEL_SOURCE, ProofOfWorkHasher } from '../../../src/protocol/hashing/proof-of-work-hasher.js';

const generated = (name: string): string => readFileSync(new URL(`../../../src/protocol/hashing/generated/${name}`, import.meta.url), 'utf8');

describe('generated SHA-256 kernels', () => {
  it('are what the generators write', () => {
    for (const [name, text] of Object.entries(kernelModules())) expect(generated(name), name).toBe(text);
  });

  it('give the miner threads source text that runs on its own, hashing as the protocol does', () => {
    // A context with nothing in it, as a worker evaluating the text has (no loader helpers).
    const create = runInNewContext(`(${POW_KERNEL_SOURCE})`, {}) as (digestWords: Int32Array, high: number) => { hash(low: number, out: Int32Array): void };
    const digest = Uint8Array.from({ length: 32 }, (_, i) => i * 7);
    const view = new DataView(digest.buffer);
    const words = Int32Array.from({ length: 8 }, (_, i) => view.getInt32(i * 4));
    for (const nonce of [0, 1, 2 ** 32 + 5, 2 ** 40 + 123]) {
      const high = Math.floor(nonce / 2 ** 32);
      const fromText = new Int32Array(8);
      create(words, high).hash(nonce - high * 2 ** 32, fromText);
      const fromProtocol = new Int32Array(8);
      new ProofOfWorkHasher(digest).hashWords(nonce, fromProtocol);
      expect([...fromText], String(nonce)).toEqual([...fromProtocol]);
    }
  });

  it('are compiled by no one at run time', () => {
    for (const file of ['merkle-hasher.ts', 'proof-of-work-hasher.ts']) {
      const source = readFileSync(new URL(`../../../src/protocol/hashing/${file}`, import.meta.url), 'utf8');
      expect(source, file).not.toMatch(/new Function|\beval\(/);
    }
  });
});
