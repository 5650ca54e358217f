/**
 * What answers a committed transaction's status without decoding and hashing its whole block: the block's
 * Merkle tree (every level, core's merkleTreeLevels) and where each transaction's canonical JSON lies in the
 * block's wire bytes. A random status lookup then reads one small slice of JSON and O(log n) stored hashes
 * instead of parsing ~250 KB and hashing 2000 transactions (measured ~3 and ~10 ms). Kept on disk beside the
 * block (IndexStore.keepsProofData), about 0.3× the block's size.
 *
 * Layout: uint32 n, then n pairs of uint32 (start, end) byte offsets (0, 0 when not found), then the levels.
 */
import {
  type Block,
  canonicalTransactionJson,
  inclusionProofOfLevels,
  type InclusionProof,
  merkleTreeLevels,
  type Transaction,
  transactionHashOfJson,
} from '@chainlog/core/protocol';

/** Proof data of a block whose wire bytes are `bytes` (encodeBlock(block)). */
export function encodeProofData(block: Block, bytes: Buffer): Buffer {
  const json = block.transactions.map(canonicalTransactionJson);
  const levels = merkleTreeLevels(json.map(transactionHashOfJson));
  const n = json.length;
  const head = Buffer.alloc(4 + 8 * n);
  head.writeUInt32BE(n, 0);
  // The transactions are the block's last array of objects, in order: each one's JSON follows the previous one's.
  let cursor = bytes.indexOf('"transactions":[');
  json.forEach((text, i) => {
    const at = cursor < 0 ? -1 : bytes.indexOf(text, cursor, 'utf8');
    if (at < 0) return;
    const end = at + Buffer.byteLength(text, 'utf8');
    head.writeUInt32BE(at, 4 + 8 * i);
    head.writeUInt32BE(end, 8 + 8 * i);
    cursor = end;
  });
  return Buffer.concat([head, levels]);
}

/** Where the transaction at `position` lies in the block's wire bytes, [start, end), or undefined. */
export function transactionRange(data: Buffer, position: number): readonly [start: number, end: number] | undefined {
  const n = data.readUInt32BE(0);
  if (!Number.isSafeInteger(position) || position < 0 || position >= n) return undefined;
  const start = data.readUInt32BE(4 + 8 * position);
  const end = data.readUInt32BE(8 + 8 * position);
  return end <= start ? undefined : [start, end];
}

/** The transaction parsed from its range of the block's wire bytes. */
export function transactionIn(bytes: Buffer, [start, end]: readonly [number, number]): Transaction | undefined {
  return end > bytes.length ? undefined : (JSON.parse(bytes.toString('utf8', start, end)) as Transaction);
}

/** The inclusion proof of the transaction at `position` and the block's Merkle root (the tree's last node). */
export function proofOf(data: Buffer, position: number): { proof: InclusionProof; merkleRoot: string } {
  const n = data.readUInt32BE(0);
  return { proof: inclusionProofOfLevels(data.subarray(4 + 8 * n), n, position), merkleRoot: data.toString('hex', data.length - 32) };
}
