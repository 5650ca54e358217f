/**
 * The Merkle tree over a block's transactions, exactly as RFC 6962 (Certificate Transparency) §2.1 defines
 * it: leaves and inner nodes are hashed with different prefixes (so a leaf can never pass for a node), and
 * a tree of n > 1 leaves splits at the largest power of two smaller than n. Unlike Bitcoin's construction,
 * which duplicates the last node of odd levels, no two different lists of leaves share a root.
 *
 * The leaf data is a transaction hash: SHA-256 of the transaction's canonical JSON.
 */
import { fromHex, HASH_HEX_PATTERN, sha256, toHex } from './encoding.js';
import { transactionHash, type Transaction } from './transaction.js';

const LEAF_PREFIX = Buffer.from([0x00]);
const NODE_PREFIX = Buffer.from([0x01]);

/** RFC 6962 audit path: sibling hashes from the leaf's level up to the root's children. */
export interface InclusionProof {
  readonly leafIndex: number;
  readonly treeSize: number;
  readonly path: readonly string[];
}

// Reused inputs for the usual 32-byte leaf data and child hashes (sha256 copies nothing it keeps): a tree
// over a block of thousands of transactions otherwise allocates a buffer per leaf and per node.
const leafInput = Buffer.alloc(1 + 32, LEAF_PREFIX);
const nodeInput = Buffer.alloc(1 + 32 + 32, NODE_PREFIX);

export function leafHash(data: Uint8Array): Buffer {
  if (data.length !== 32) return sha256(Buffer.concat([LEAF_PREFIX, data]));
  leafInput.set(data, 1);
  return sha256(leafInput);
}

function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  if (left.length !== 32 || right.length !== 32) return sha256(Buffer.concat([NODE_PREFIX, left, right]));
  nodeInput.set(left, 1);
  nodeInput.set(right, 33);
  return sha256(nodeInput);
}

/** Largest power of two strictly smaller than n (n ≥ 2). */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** MTH over already-hashed leaves. */
function subtreeRoot(leaves: readonly Buffer[], start: number, end: number): Buffer {
  const size = end - start;
  if (size === 1) return leaves[start] as Buffer;
  const k = splitPoint(size);
  return nodeHash(subtreeRoot(leaves, start, start + k), subtreeRoot(leaves, start + k, end));
}

/** RFC 6962 Merkle Tree Hash of a list of leaf data (here: transaction hashes); SHA-256("") when empty. */
export function merkleRootOfHashes(dataHashes: readonly Uint8Array[]): Buffer {
  if (dataHashes.length === 0) return sha256(Buffer.alloc(0));
  return subtreeRoot(dataHashes.map(leafHash), 0, dataHashes.length);
}

export function merkleRoot(transactions: readonly Transaction[]): string {
  return toHex(merkleRootOfHashes(transactions.map(transactionHash)));
}

/** RFC 6962 PATH(m, D[n]) for the transaction with this id, or undefined when the block does not have it. */
export function inclusionProof(
  block: { readonly transactions: readonly Transaction[] },
  transactionId: string,
): InclusionProof | undefined {
  const leafIndex = block.transactions.findIndex((transaction) => transaction.id === transactionId);
  if (leafIndex < 0) return undefined;
  return inclusionProofOfHashes(block.transactions.map(transactionHash), leafIndex);
}

/** RFC 6962 PATH(leafIndex, D[n]) over leaf data that are already hashes (0 ≤ leafIndex < n). */
export function inclusionProofOfHashes(dataHashes: readonly Uint8Array[], leafIndex: number): InclusionProof {
  if (!Number.isInteger(leafIndex) || leafIndex < 0 || leafIndex >= dataHashes.length) {
    throw new RangeError(`leaf index ${leafIndex} is outside a tree of ${dataHashes.length} leaves`);
  }
  const leaves = dataHashes.map(leafHash);
  const path: string[] = [];
  let start = 0;
  let end = leaves.length;
  // Walk down from the root, collecting the sibling subtree at each split; the path lists them bottom-up.
  while (end - start > 1) {
    const k = splitPoint(end - start);
    if (leafIndex < start + k) {
      path.unshift(toHex(subtreeRoot(leaves, start + k, end)));
      end = start + k;
    } else {
      path.unshift(toHex(subtreeRoot(leaves, start, start + k)));
      start += k;
    }
  }
  return { leafIndex, treeSize: leaves.length, path };
}

/**
 * RFC 9162 §2.1.3.2 verification of an inclusion proof for a transaction (or its hash, lowercase hex)
 * against a Merkle root (lowercase hex). Never throws: anything malformed does not verify.
 */
export function verifyInclusionProof(
  transactionOrHash: Transaction | string,
  proof: InclusionProof,
  root: string,
): boolean {
  const data = typeof transactionOrHash === 'string' ? fromHex(transactionOrHash) : transactionHash(transactionOrHash);
  const { leafIndex, treeSize, path } = proof;
  if (data?.length !== 32 || !HASH_HEX_PATTERN.test(root) || !Array.isArray(path)) return false;
  if (!Number.isSafeInteger(leafIndex) || !Number.isSafeInteger(treeSize) || leafIndex < 0 || leafIndex >= treeSize) {
    return false;
  }
  let fn = leafIndex;
  let sn = treeSize - 1;
  let hash = leafHash(data);
  for (const siblingHex of path) {
    const sibling = HASH_HEX_PATTERN.test(siblingHex) ? fromHex(siblingHex) : undefined;
    if (sibling === undefined || sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      hash = nodeHash(sibling, hash);
      // A left child with no right sibling at this level is promoted unchanged: skip those levels.
      while (fn % 2 === 0 && fn !== 0) {
        fn /= 2;
        sn = Math.floor(sn / 2);
      }
    } else {
      hash = nodeHash(hash, sibling);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && toHex(hash) === root;
}
