// Any single changed byte of a valid encoded block must make it unacceptable: either it no longer decodes
// (malformed) or it decodes to a different block that some hash, signature or rule catches.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeBlock } from '../../src/protocol/index.js';
import { block1, chainWithOneBlock, kcatTransaction, mine, minerA, openParams, permissionedParams, range, signedTransaction } from './fixtures.js';

const block2 = mine(block1, {
  signer: minerA,
  transactions: [kcatTransaction(0, 2), signedTransaction('invoice-9', 5), kcatTransaction(1, 0, { amount: 12 })],
  sources: [range(0, 2, 2), range(1, 0, 0)],
});
const encoded = encodeBlock(block2);


function mutate(position: number, value: number): Buffer {
  const bytes = Buffer.from(encoded);
  bytes[position] = value;
  return bytes;
}

describe.each([
  ['permissioned', permissionedParams],
  ['open', openParams],
])('single-byte mutations of a valid block (%s chain)', (_mode, params) => {
  // check() never changes the chain, so one chain serves every mutation.
  const chain = chainWithOneBlock(params);
  const accepted = (bytes: Uint8Array): boolean => chain.check(bytes).accepted;

  it('the unmutated block is accepted', () => {
    expect(accepted(encoded)).toBe(true);
  });

  it('no randomly chosen byte and value is accepted', () => {
    fc.assert(
      fc.property(fc.nat(encoded.length - 1), fc.integer({ min: 1, max: 255 }), (position, delta) => {
        const value = ((encoded[position] as number) + delta) % 256;
        expect(accepted(mutate(position, value))).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });

  it('no byte is accepted after flipping its lowest bit or swapping its hex-digit neighbour', () => {
    for (let position = 0; position < encoded.length; position++) {
      const original = encoded[position] as number;
      const similar = [original ^ 0x01, original === 0x30 ? 0x31 : 0x30];
      for (const value of similar) expect(accepted(mutate(position, value))).toBe(false);
    }
  });
});
