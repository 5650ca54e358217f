/**
 * What the explorer verifies on the reader's machine, as a list of named checks. The protocol's own code
 * (services/core/src/protocol, bundled) decides every rule; WebCrypto (crypto.ts) supplies SHA-256 of
 * variable-length data and Ed25519.
 *
 * - a transaction: its hash (SHA-256 of its canonical JSON) with the RFC 6962 inclusion proof leads to the
 *   Merkle root of its block; that root is in the block's header;
 * - a block header: its hash is the proof-of-work hash of SHA-256(JCS(header)) and the nonce, it has the
 *   difficulty's leading zero bits, and its miner's Ed25519 signature over the hash verifies;
 * - a whole block: additionally, the Merkle root of all its transactions is the header's, and it links to
 *   the previous block's hash.
 */
// The protocol's modules use Buffer: install it before they run (this chunk is loaded on first use).
import '../platform/buffer.js';
import {
  blockHeader,
  blockVersion,
  canonicalJson,
  canonicalTransactionJson,
  fromHex,
  leadingZeroBits,
  merkleRootOfHashes,
  ProofOfWorkHasher,
  toHex,
  transactionSigningBytes,
  verifyInclusionProof,
  versionRules,
  type Block,
  type Transaction,
} from '@chainlog/core/protocol';
import type { CommittedTransactionView, SealedHeader } from '@chainlog/core/api';
import { sha256, verifyEd25519 } from './crypto.js';
import type { Check } from './outcome.js';


const passed = (name: string, detail: string): Check => ({ name, outcome: 'passed', detail });
const failed = (name: string, detail: string): Check => ({ name, outcome: 'failed', detail });

export async function transactionHashHex(transaction: Transaction): Promise<string> {
  return toHex(await sha256(canonicalTransactionJson(transaction)));
}

/** The hash a header must carry: proof of work over SHA-256(JCS(header)) and the nonce. */
export async function recomputeBlockHash(header: SealedHeader): Promise<string> {
  const digest = await sha256(canonicalJson(blockHeader(header)));
  const words = new Int32Array(8);
  new ProofOfWorkHasher(digest).hashWords(header.nonce, words);
  const bytes = new Uint8Array(32);
  const view = new DataView(bytes.buffer);
  words.forEach((word, i) => view.setInt32(i * 4, word));
  return toHex(bytes);
}

export async function checkHeader(header: SealedHeader): Promise<Check[]> {
  const checks: Check[] = [];
  const hash = await recomputeBlockHash(header);
  checks.push(
    hash === header.hash
      ? passed('Block hash', 'SHA-256 of the header and nonce, recomputed here, is the block hash')
      : failed('Block hash', `the header and nonce hash to ${hash}, not to the block hash ${header.hash}`),
  );
  const zeros = leadingZeroBits(fromHex(hash) ?? new Uint8Array(0));
  checks.push(
    zeros >= header.difficulty
      ? passed('Proof of work', `the hash starts with ${zeros} zero bits; the difficulty asks for ${header.difficulty}`)
      : failed('Proof of work', `the hash starts with ${zeros} zero bits; the difficulty asks for ${header.difficulty}`),
  );
  checks.push(await checkSignature(header));
  return checks;
}

async function checkSignature(header: SealedHeader): Promise<Check> {
  const name = 'Miner signature';
  if (header.minerPublicKey === undefined && header.signature === undefined) {
    return { name, outcome: 'skipped', detail: 'the block is not signed (open mode)' };
  }
  if (header.minerPublicKey === undefined || header.signature === undefined) {
    return failed(name, 'the block has a public key or a signature, not both');
  }
  const strict = strictSignatures(header);
  const verified = await verifyEd25519(header.minerPublicKey, fromHex(header.hash) ?? new Uint8Array(0), header.signature, strict);
  if (verified === 'unsupported') return { name, outcome: 'skipped', detail: 'this browser has no Ed25519 in WebCrypto' };
  return verified
    ? passed(name, `Ed25519 signature over the block hash by key ${header.minerPublicKey} verifies`)
    : failed(name, `the Ed25519 signature over the block hash does not verify with key ${header.minerPublicKey}`);
}

/** Whether the block's version verifies signatures strictly (version 2 on, docs/protocol.md §3.10), as every reader does. */
function strictSignatures(header: { readonly version?: number }): boolean {
  return versionRules(blockVersion(header)).strictSignatures;
}

async function checkTransactionSignature(transaction: Transaction, header: SealedHeader): Promise<Check | undefined> {
  if (transaction.publicKey === undefined || transaction.signature === undefined) return undefined;
  const name = 'Transaction signature';
  const verified = await verifyEd25519(transaction.publicKey, transactionSigningBytes(transaction), transaction.signature, strictSignatures(header));
  if (verified === 'unsupported') return { name, outcome: 'skipped', detail: 'this browser has no Ed25519 in WebCrypto' };
  return verified ? passed(name, `signed by key ${transaction.publicKey}`) : failed(name, `the signature does not verify with key ${transaction.publicKey}`);
}

/** What checking a committed transaction takes from the auditor's answer. */
export type CommittedTransaction = Pick<CommittedTransactionView, 'transaction' | 'proof' | 'merkleRoot' | 'blockHash'>;

/** A committed transaction against the header of the block the auditor says holds it. */
export async function checkTransaction(committed: CommittedTransaction, header: SealedHeader): Promise<Check[]> {
  const leaf = await transactionHashHex(committed.transaction);
  const checks: Check[] = [];
  checks.push(
    verifyInclusionProof(leaf, committed.proof, committed.merkleRoot)
      ? passed('Inclusion proof', `RFC 6962 path of ${committed.proof.path.length} hash${committed.proof.path.length === 1 ? '' : 'es'} from leaf ${committed.proof.leafIndex} of ${committed.proof.treeSize} leads to Merkle root ${committed.merkleRoot}`)
      : failed('Inclusion proof', `the transaction (hash ${leaf}) and this path do not lead to Merkle root ${committed.merkleRoot}`),
  );
  checks.push(
    header.merkleRoot === committed.merkleRoot && header.hash === committed.blockHash
      ? passed('Merkle root in block', `block ${header.index}'s header carries this Merkle root`)
      : failed('Merkle root in block', `block ${header.index}'s header has Merkle root ${header.merkleRoot} and hash ${header.hash}`),
  );
  checks.push(...(await checkHeader(header)));
  const signature = await checkTransactionSignature(committed.transaction, header);
  if (signature !== undefined) checks.push(signature);
  return checks;
}

/** A whole block: its header, the Merkle root of its transactions and its link to the previous block. */
export async function checkBlock(block: Block, previous: SealedHeader | undefined): Promise<Check[]> {
  const checks = await checkHeader(block);
  const hashes = await Promise.all(block.transactions.map(async (transaction) => sha256(canonicalTransactionJson(transaction))));
  const root = toHex(merkleRootOfHashes(hashes));
  checks.push(
    root === block.merkleRoot
      ? passed('Merkle root', `the ${block.transactions.length} transactions hash to the header's Merkle root`)
      : failed('Merkle root', `the ${block.transactions.length} transactions hash to ${root}, not to the header's ${block.merkleRoot}`),
  );
  if (previous !== undefined) {
    checks.push(
      previous.hash === block.previousHash && previous.index === block.index - 1
        ? passed('Previous block', `links to block ${previous.index} (${previous.hash})`)
        : failed('Previous block', `previousHash ${block.previousHash} is not block ${block.index - 1}'s hash ${previous.hash}`),
    );
  }
  return checks;
}
