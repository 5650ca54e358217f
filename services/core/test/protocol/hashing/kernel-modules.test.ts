// The committed kernels are the generators' output (regenerate: npm run kernels -w @chainlog/core), and the
// protocol runs them as they are: no code is compiled at run time.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { kernelModules } from '../../../src/protocol/hashing/kernel-modules.js';
import { POW_KERNEL_SOURCE } from '../../../src/protocol/hashing/proof-of-work-hasher.js';

const generated = (name: string): string => readFileSync(new URL(`../../../src/protocol/hashing/generated/${name}`, import.meta.url), 'utf8');

describe('generated SHA-256 kernels', () => {
  it('are what the generators write', () => {
    for (const [name, text] of Object.entries(kernelModules())) expect(generated(name), name).toBe(text);
  });

  it('give the miner threads the very function the protocol runs', () => {
    expect(POW_KERNEL_SOURCE).toMatch(/^function createPowKernel\(digestWords, high\) \{/);
    expect(POW_KERNEL_SOURCE).toContain('function search(low, end, difficulty, out)');
  });

  it('are compiled by no one at run time', () => {
    for (const file of ['merkle-hasher.ts', 'proof-of-work-hasher.ts']) {
      const source = readFileSync(new URL(`../../../src/protocol/hashing/${file}`, import.meta.url), 'utf8');
      expect(source, file).not.toMatch(/new Function|\beval\(/);
    }
  });
});
