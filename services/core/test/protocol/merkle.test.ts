import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  inclusionProof,
  inclusionProofOfHashes,
  inclusionProofOfLevels,
  leafHash,
  merkleRoot,
  merkleRootOfHashes,
  merkleTreeLevels,
  transactionHash,
  verifyInclusionProof,
  type InclusionProof,
} from '../../src/protocol/index.js';
import { merkleRootOfTransactionJson } from '../../src/protocol/merkle.js';
import { canonicalTransactionJson } from '../../src/protocol/transaction.js';
import { transaction as arbitraryTransaction } from './arbitraries.js';
import { kcatTransaction } from './fixtures.js';

const sha256 = (...parts: Uint8Array[]): Buffer => {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest();
};
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const leaf = (data: Uint8Array): Buffer => sha256(Buffer.from([0]), data);
const node = (left: Uint8Array, right: Uint8Array): Buffer => sha256(Buffer.from([1]), left, right);
const data = (i: number): Buffer => sha256(Buffer.from(`leaf ${i}`));
/** RFC 6962 §2.1 as written, with node:crypto: the reference for the generated kernels and the level-wise tree. */
const referenceRoot = (leafData: readonly Uint8Array[]): Buffer => {
  if (leafData.length === 0) return sha256();
  if (leafData.length === 1) return leaf(leafData[0]!);
  let k = 1;
  while (k * 2 < leafData.length) k *= 2;
  return node(referenceRoot(leafData.slice(0, k)), referenceRoot(leafData.slice(k)));
};
const hashList = fc.array(fc.uint8Array({ minLength: 32, maxLength: 32 }).map(Buffer.from), { minLength: 1, maxLength: 70 });
const treeWithLeaf = hashList.chain((hashes) => fc.tuple(fc.constant(hashes), fc.nat(hashes.length - 1)));

describe('Merkle root (RFC 6962)', () => {
  it('is SHA-256 of the empty string for no leaves, and the leaf hash for one', () => {
    expect(hex(merkleRootOfHashes([]))).toBe(hex(sha256(Buffer.alloc(0))));
    expect(hex(merkleRootOfHashes([data(0)]))).toBe(hex(leaf(data(0))));
  });

  it('splits at the largest power of two below n, without duplicating the last node', () => {
    const [l0, l1, l2, l3, l4] = [0, 1, 2, 3, 4].map((i) => leaf(data(i))) as [Buffer, Buffer, Buffer, Buffer, Buffer];
    const five = [0, 1, 2, 3, 4].map(data);
    const expected = node(node(node(l0, l1), node(l2, l3)), l4);
    expect(hex(merkleRootOfHashes(five))).toBe(hex(expected));
    expect(hex(merkleRootOfHashes(five.slice(0, 3)))).toBe(hex(node(node(l0, l1), l2)));
    // Bitcoin's construction gives [a, b, c] and [a, b, c, c] the same root; this one does not.
    expect(merkleRootOfHashes([...five.slice(0, 3), data(2)]).equals(merkleRootOfHashes(five.slice(0, 3)))).toBe(false);
  });

  it('equals RFC 6962 computed with node:crypto, for every tree size up to 150', () => {
    const leaves = Array.from({ length: 150 }, (_, i) => data(i));
    for (let n = 0; n <= leaves.length; n++) {
      expect(hex(merkleRootOfHashes(leaves.slice(0, n)))).toBe(hex(referenceRoot(leaves.slice(0, n))));
    }
  });

  it('equals RFC 6962 computed with node:crypto, for random leaf data of any length', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 80 }), { maxLength: 40 }), (leafData) => {
        expect(hex(merkleRootOfHashes(leafData))).toBe(hex(referenceRoot(leafData)));
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(hashList, (hashes) => {
        expect(hex(merkleRootOfHashes(hashes))).toBe(hex(referenceRoot(hashes)));
      }),
      { numRuns: 1000 },
    );
  });

  it('hashes leaves of any length as node:crypto does', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
        expect(hex(leafHash(bytes))).toBe(hex(leaf(bytes)));
      }),
      { numRuns: 2000 },
    );
  });

  it('of transactions equals the root over their canonical JSON (the form decoding hands the rules)', () => {
    fc.assert(
      fc.property(fc.array(arbitraryTransaction, { maxLength: 20 }), (transactions) => {
        const expected = hex(referenceRoot(transactions.map((transaction) => sha256(Buffer.from(canonicalTransactionJson(transaction), 'utf8')))));
        expect(merkleRoot(transactions)).toBe(expected);
        expect(merkleRootOfTransactionJson(transactions.map(canonicalTransactionJson))).toBe(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('of transactions is computed over their transaction hashes', () => {
    const transactions = [kcatTransaction(0, 0), kcatTransaction(0, 1)];
    expect(merkleRoot(transactions)).toBe(hex(node(leaf(transactionHash(transactions[0]!)), leaf(transactionHash(transactions[1]!)))));
  });
});

describe('inclusion proofs', () => {
  it('verify for every leaf of every tree', () => {
    fc.assert(
      fc.property(treeWithLeaf, ([hashes, index]) => {
        const root = hex(merkleRootOfHashes(hashes));
        const proof = inclusionProofOfHashes(hashes, index);
        expect(proof.treeSize).toBe(hashes.length);
        expect(verifyInclusionProof(hex(hashes[index]!), proof, root)).toBe(true);
      }),
    );
  });

  it('do not verify for another leaf, another index or a changed path', () => {
    fc.assert(
      fc.property(treeWithLeaf, fc.nat(), fc.nat(255), ([hashes, index], pick, bit) => {
        const root = hex(merkleRootOfHashes(hashes));
        const proof = inclusionProofOfHashes(hashes, index);
        const wrongLeaf = hex(sha256(hashes[index]!));
        expect(verifyInclusionProof(wrongLeaf, proof, root)).toBe(false);
        if (hashes.length > 1) {
          const otherIndex = (index + 1 + (pick % (hashes.length - 1))) % hashes.length;
          expect(verifyInclusionProof(hex(hashes[index]!), { ...proof, leafIndex: otherIndex }, root)).toBe(false);
          const path = [...proof.path];
          const at = pick % path.length;
          const sibling = Buffer.from(path[at]!, 'hex');
          sibling[bit % 32]! ^= 1 << (bit % 8);
          path[at] = hex(sibling);
          expect(verifyInclusionProof(hex(hashes[index]!), { ...proof, path }, root)).toBe(false);
          expect(verifyInclusionProof(hex(hashes[index]!), { ...proof, path: proof.path.slice(1) }, root)).toBe(false);
          expect(verifyInclusionProof(hex(hashes[index]!), { ...proof, path: [...proof.path, root] }, root)).toBe(false);
        }
      }),
    );
  });

  it('are found by transaction id and verify with the transaction itself', () => {
    const block = { transactions: [0, 1, 2].map((offset) => kcatTransaction(1, offset)) };
    const root = merkleRoot(block.transactions);
    const proof = inclusionProof(block, 'tx:transactions:1:2');
    expect(proof).toMatchObject({ leafIndex: 2, treeSize: 3 });
    expect(verifyInclusionProof(block.transactions[2]!, proof!, root)).toBe(true);
    expect(verifyInclusionProof(block.transactions[1]!, proof!, root)).toBe(false);
    expect(inclusionProof(block, 'tx:transactions:1:3')).toBeUndefined();
  });

  it('never throw on malformed proofs', () => {
    const root = hex(merkleRootOfHashes([data(0), data(1)]));
    fc.assert(
      fc.property(fc.anything(), fc.anything(), (path, leafIndex) => {
        const proof = { leafIndex, treeSize: 2, path } as unknown as InclusionProof;
        expect(verifyInclusionProof(hex(data(0)), proof, root)).toBe(false);
      }),
    );
    expect(verifyInclusionProof('xyz', { leafIndex: 0, treeSize: 1, path: [] }, root)).toBe(false);
  });
});

describe('merkleTreeLevels and inclusionProofOfLevels', () => {
  it('store the tree once: its last node is the root, and every proof is inclusionProofOfHashes\'', () => {
    fc.assert(
      fc.property(treeWithLeaf, ([hashes, leafIndex]) => {
        const levels = merkleTreeLevels(hashes);
        expect(levels.subarray(levels.length - 32).equals(merkleRootOfHashes(hashes))).toBe(true);
        expect(inclusionProofOfLevels(levels, hashes.length, leafIndex)).toEqual(inclusionProofOfHashes(hashes, leafIndex));
      }),
    );
  });

  it('refuse levels of another size and a leaf outside the tree', () => {
    const hashes = [sha256(Buffer.from('a')), sha256(Buffer.from('b')), sha256(Buffer.from('c'))];
    const levels = merkleTreeLevels(hashes);
    expect(() => inclusionProofOfLevels(levels, 4, 0)).toThrow(RangeError);
    expect(() => inclusionProofOfLevels(levels, 3, 3)).toThrow(RangeError);
    expect(merkleTreeLevels([]).length).toBe(0);
  });
});
