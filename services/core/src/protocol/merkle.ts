/**
 * The Merkle tree over a block's transactions, exactly as RFC 6962 (Certificate Transparency) §2.1 defines
 * it: leaves and inner nodes are hashed with different prefixes (so a leaf can never pass for a node), and
 * a tree of n > 1 leaves splits at the largest power of two smaller than n. Unlike Bitcoin's construction,
 * which duplicates the last node of odd levels, no two different lists of leaves share a root.
 *
 * The leaf data is a transaction hash: SHA-256 of the transaction's canonical JSON.
 */
import { fromHex, HASH_HEX_PATTERN, sha256, toHex } from './encoding.js';
import { hashBytesToWords, HASH_WORDS, leafHashWords, nodeHashWords, wordsToHashBytes, wordsToHex } from './hashing/merkle-hasher.js';
import { canonicalTransactionJson, transactionHash, transactionHashOfJson, type Transaction } from './transaction.js';

const LEAF_PREFIX = Buffer.from([0x00]);
/** SHA-256 of no bytes (merkle.test.ts checks it): a constant, so that loading this module hashes nothing, which
 * lets a browser bundle load it where node:crypto is absent (the explorer, docs/explorer.md). */
const EMPTY_TREE_ROOT_HEX = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const EMPTY_TREE_ROOT = Buffer.from(EMPTY_TREE_ROOT_HEX, 'hex');

/** RFC 6962 audit path: sibling hashes from the leaf's level up to the root's children. */
export interface InclusionProof {
  readonly leafIndex: number;
  readonly treeSize: number;
  readonly path: readonly string[];
}

export function leafHash(data: Uint8Array): Buffer {
  const words = new Int32Array(HASH_WORDS);
  writeLeafHash(data, words, 0);
  return wordsToHashBytes(words, 0);
}

/** H(0x00 || data) at words[at..at + 8): the generated kernel for the usual 32-byte data, else node:crypto. */
function writeLeafHash(data: Uint8Array, words: Int32Array, at: number): void {
  if (data.length === 32) leafHashWords(data, words, at);
  else hashBytesToWords(sha256(Buffer.concat([LEAF_PREFIX, data])), words, at);
}

function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  const words = new Int32Array(2 * HASH_WORDS);
  hashBytesToWords(left, words, 0);
  hashBytesToWords(right, words, HASH_WORDS);
  nodeHashWords(words, 0, HASH_WORDS, words, 0);
  return wordsToHashBytes(words, 0);
}

/** The leaf hashes of the data, one after the other. */
function leafHashesOf(dataHashes: readonly Uint8Array[]): Int32Array {
  const words = new Int32Array(dataHashes.length * HASH_WORDS);
  dataHashes.forEach((data, i) => writeLeafHash(data, words, i * HASH_WORDS));
  return words;
}

/**
 * Reduces `count` (≥ 1) hashes stored one after the other to their RFC 6962 root, left at word 0. Level
 * by level, adjacent pairs are hashed and an odd last node is promoted unchanged: the same tree as
 * splitting at the largest power of two below n, since the left part of every split is a perfect tree
 * whose pairs never straddle the split. Overwrites the hashes: node i of a level is written over
 * node 2i of the level below, after both children have been read.
 */
function reduceToRoot(words: Int32Array, count: number): void {
  for (let size = count; size > 1; size = Math.ceil(size / 2)) {
    for (let i = 0; i + 1 < size; i += 2) nodeHashWords(words, i * HASH_WORDS, (i + 1) * HASH_WORDS, words, (i / 2) * HASH_WORDS);
    if (size % 2 === 1) words.copyWithin(((size - 1) / 2) * HASH_WORDS, (size - 1) * HASH_WORDS, size * HASH_WORDS);
  }
}

/** Largest power of two strictly smaller than n (n ≥ 2). */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** MTH (hex) of the leaves [start, end) of an array of leaf hashes, which it leaves unchanged. */
function subtreeRootHex(leaves: Int32Array, start: number, end: number): string {
  const words = leaves.slice(start * HASH_WORDS, end * HASH_WORDS);
  reduceToRoot(words, end - start);
  return wordsToHex(words, 0);
}

/** RFC 6962 Merkle Tree Hash of a list of leaf data (here: transaction hashes); SHA-256("") when empty. */
export function merkleRootOfHashes(dataHashes: readonly Uint8Array[]): Buffer {
  if (dataHashes.length === 0) return Buffer.from(EMPTY_TREE_ROOT);
  const words = leafHashesOf(dataHashes);
  reduceToRoot(words, dataHashes.length);
  return wordsToHashBytes(words, 0);
}

export function merkleRoot(transactions: readonly Transaction[]): string {
  return merkleRootOfTransactionJson(transactions.map(canonicalTransactionJson));
}

/**
 * The Merkle root (hex) of transactions given as their canonical JSON: decoding a block produces that
 * text to check the block's encoding, and the root reuses it instead of serialising every transaction
 * again.
 */
export function merkleRootOfTransactionJson(transactionJson: readonly string[]): string {
  if (transactionJson.length === 0) return toHex(EMPTY_TREE_ROOT);
  const words = new Int32Array(transactionJson.length * HASH_WORDS);
  transactionJson.forEach((json, i) => leafHashWords(transactionHashOfJson(json), words, i * HASH_WORDS));
  reduceToRoot(words, transactionJson.length);
  return wordsToHex(words, 0);
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
  const leaves = leafHashesOf(dataHashes);
  const path: string[] = [];
  let start = 0;
  let end = dataHashes.length;
  // Walk down from the root, collecting the sibling subtree at each split; the path lists them bottom-up.
  while (end - start > 1) {
    const k = splitPoint(end - start);
    if (leafIndex < start + k) {
      path.unshift(subtreeRootHex(leaves, start + k, end));
      end = start + k;
    } else {
      path.unshift(subtreeRootHex(leaves, start, start + k));
      start += k;
    }
  }
  return { leafIndex, treeSize: dataHashes.length, path };
}

/**
 * Every level of the RFC 6962 tree over the leaf data (here: transaction hashes), leaves first and the root
 * last, as one buffer of 32-byte hashes; a level's odd last node is promoted (stored again one level up). What
 * a reader that answers many proofs for one block keeps (the auditor, on disk): inclusionProofOfLevels then
 * hashes nothing. Empty data has no tree (an empty buffer).
 */
export function merkleTreeLevels(dataHashes: readonly Uint8Array[]): Buffer {
  const sizes = levelSizes(dataHashes.length);
  const total = sizes.reduce((sum, size) => sum + size, 0);
  const words = new Int32Array(total * HASH_WORDS);
  dataHashes.forEach((data, i) => writeLeafHash(data, words, i * HASH_WORDS));
  let from = 0;
  for (let level = 1; level < sizes.length; level++) {
    const below = sizes[level - 1] as number;
    const to = from + below;
    for (let i = 0; i + 1 < below; i += 2) nodeHashWords(words, (from + i) * HASH_WORDS, (from + i + 1) * HASH_WORDS, words, (to + i / 2) * HASH_WORDS);
    if (below % 2 === 1) words.copyWithin((to + (below - 1) / 2) * HASH_WORDS, (from + below - 1) * HASH_WORDS, (from + below) * HASH_WORDS);
    from = to;
  }
  const bytes = Buffer.allocUnsafe(total * 32);
  for (let node = 0; node < total; node++) wordsToHashBytes(words, node * HASH_WORDS).copy(bytes, node * 32);
  return bytes;
}

/** Nodes per level of a tree of n leaves, leaves first (none when n is 0). */
function levelSizes(n: number): number[] {
  if (n === 0) return [];
  const sizes = [n];
  while ((sizes.at(-1) as number) > 1) sizes.push(Math.ceil((sizes.at(-1) as number) / 2));
  return sizes;
}

/** RFC 6962 PATH(leafIndex, D[treeSize]) from merkleTreeLevels' output: the same proof as inclusionProofOfHashes. */
export function inclusionProofOfLevels(levels: Uint8Array, treeSize: number, leafIndex: number): InclusionProof {
  const sizes = levelSizes(treeSize);
  if (levels.length !== sizes.reduce((sum, size) => sum + size, 0) * 32) throw new RangeError(`${levels.length} bytes are not the levels of a tree of ${treeSize} leaves`);
  if (!Number.isInteger(leafIndex) || leafIndex < 0 || leafIndex >= treeSize) throw new RangeError(`leaf index ${leafIndex} is outside a tree of ${treeSize} leaves`);
  const path: string[] = [];
  let from = 0;
  let index = leafIndex;
  for (const size of sizes.slice(0, -1)) {
    // A right child's sibling is on its left; a left child's on its right, unless it is promoted (no sibling).
    const sibling = index % 2 === 1 ? index - 1 : index + 1 < size ? index + 1 : undefined;
    if (sibling !== undefined) path.push(toHex(levels.subarray((from + sibling) * 32, (from + sibling + 1) * 32)));
    from += size;
    index = Math.floor(index / 2);
  }
  return { leafIndex, treeSize, path };
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
