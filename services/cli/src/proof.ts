// Local verification of what the auditor says about a committed transaction: the client trusts the
// protocol's hashes, not the server. Pure.
import { type Block, computeBlockHash, transactionHash, verifyInclusionProof } from '@chainlog/core/protocol';
import type { CommittedTransactionView } from '@chainlog/core/api';
import type { ProofCheck, ProofVerification } from './format.js';

/**
 * Checks, with @chainlog/core only:
 *  1. the transaction returned is the one asked for,
 *  2. its hash (SHA-256 of its canonical JSON) with the RFC 6962 audit path yields the Merkle root,
 *  3. when the block is given: that root is the block's merkleRoot, and the block's hash is the proof of
 *     work over its header (so the root is bound to the block hash the chain links).
 */
export function verifyCommitted(id: string, view: CommittedTransactionView, block?: Block): ProofVerification {
  const checks: ProofCheck[] = [];
  checks.push({
    name: 'transaction-id',
    ok: view.transaction.id === id,
    detail: view.transaction.id === id ? `the transaction returned is ${id}` : `the auditor returned transaction ${view.transaction.id}, not ${id}`,
  });
  let leafHex = '';
  try {
    leafHex = transactionHash(view.transaction).toString('hex');
  } catch {
    // left empty: the inclusion check below then fails
  }
  const included = leafHex !== '' && verifyInclusionProof(leafHex, view.proof, view.merkleRoot);
  checks.push({
    name: 'inclusion-proof',
    ok: included,
    detail: included
      ? `transaction hash ${leafHex.slice(0, 16)}… + ${view.proof.path.length} path hashes = merkle root ${view.merkleRoot.slice(0, 16)}…`
      : 'the inclusion proof does not lead from the transaction hash to the merkle root',
  });
  if (block !== undefined) {
    const sameBlock = block.index === view.blockIndex && block.hash === view.blockHash;
    checks.push({
      name: 'block',
      ok: sameBlock,
      detail: sameBlock ? `block #${block.index} is the one named by the status` : `the block fetched (#${block.index}) is not the one named by the status`,
    });
    const rootMatches = block.merkleRoot === view.merkleRoot;
    checks.push({
      name: 'merkle-root',
      ok: rootMatches,
      detail: rootMatches ? `the merkle root is block #${block.index}'s` : `block #${block.index} has merkle root ${block.merkleRoot.slice(0, 16)}…, not the proof's`,
    });
    let recomputed = '';
    try {
      recomputed = computeBlockHash(block);
    } catch {
      // left empty: the check fails
    }
    const hashOk = recomputed === block.hash;
    checks.push({
      name: 'block-hash',
      ok: hashOk,
      detail: hashOk
        ? `block #${block.index}'s hash ${block.hash.slice(0, 16)}… is the hash of its header (which commits to the root)`
        : `block #${block.index}'s hash does not match its header`,
    });
  }
  return { verified: checks.every((check) => check.ok), checks };
}
