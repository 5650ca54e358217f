import { describe, expect, it } from 'vitest';
import { type Block, computeBlockHash } from '@chainlog/core/protocol';
import { verifyCommitted } from '../src/proof.js';
import { committedView, testBlock } from './fixtures.js';

describe('local verification of a committed transaction', () => {
  it('verifies a real inclusion proof against the block it names, for every position', () => {
    const block = testBlock();
    for (const transaction of block.transactions) {
      const result = verifyCommitted(transaction.id, committedView(block, transaction.id), block);
      expect(result.verified).toBe(true);
      expect(result.checks.map((check) => check.name)).toEqual(['transaction-id', 'inclusion-proof', 'block', 'merkle-root', 'block-hash']);
    }
    expect(verifyCommitted('tx-1', committedView(block, 'tx-1')).checks).toHaveLength(2);
  });

  const failed = (result: ReturnType<typeof verifyCommitted>): string[] => result.checks.filter((check) => !check.ok).map((check) => check.name);

  it('rejects a changed transaction (the server lying about the amount)', () => {
    const block = testBlock();
    const view = committedView(block, 'tx-2');
    const forged = { ...view, transaction: { ...view.transaction, amount: 2000 } };
    expect(verifyCommitted('tx-2', forged, block)).toMatchObject({ verified: false });
    expect(failed(verifyCommitted('tx-2', forged, block))).toEqual(['inclusion-proof']);
  });

  it('rejects a wrong path, leaf index, tree size or root', () => {
    const block = testBlock();
    const view = committedView(block, 'tx-2');
    const [first, ...rest] = view.proof.path;
    const flipped = `${first?.[0] === '0' ? '1' : '0'}${first?.slice(1)}`;
    expect(failed(verifyCommitted('tx-2', { ...view, proof: { ...view.proof, path: [flipped, ...rest] } }, block))).toEqual(['inclusion-proof']);
    expect(failed(verifyCommitted('tx-2', { ...view, proof: { ...view.proof, leafIndex: 1 } }, block))).toEqual(['inclusion-proof']);
    expect(failed(verifyCommitted('tx-2', { ...view, proof: { ...view.proof, treeSize: 5 } }, block))).toEqual(['inclusion-proof']);
    expect(failed(verifyCommitted('tx-2', { ...view, proof: { ...view.proof, path: [] } }, block))).toEqual(['inclusion-proof']);
    // A self-consistent proof for another root: the proof checks out, but not against this block.
    const other = committedView(testBlock(), 'tx-1');
    expect(failed(verifyCommitted('tx-2', { ...view, transaction: other.transaction, transactionId: 'tx-2' }, block))).toEqual([
      'transaction-id',
      'inclusion-proof',
    ]);
  });

  it('rejects a block whose root or hash does not match', () => {
    const block = testBlock();
    const view = committedView(block, 'tx-3');
    const otherRoot: Block = { ...block, merkleRoot: 'e'.repeat(64) };
    expect(failed(verifyCommitted('tx-3', view, otherRoot))).toEqual(['merkle-root', 'block-hash']);
    // A block whose header was changed but whose hash was recomputed is a different block.
    const rehashed = { ...block, miner: 'mallory' };
    const moved: Block = { ...rehashed, hash: computeBlockHash(rehashed) };
    expect(failed(verifyCommitted('tx-3', view, moved))).toEqual(['block']);
    expect(failed(verifyCommitted('tx-3', view, { ...block, nonce: 1 }))).toEqual(['block-hash']);
  });

  it('rejects an answer about another transaction', () => {
    const block = testBlock();
    expect(failed(verifyCommitted('tx-9', committedView(block, 'tx-1'), block))).toEqual(['transaction-id']);
  });
});
