// The worker-thread proof-of-work pool: real threads, real hashing, low difficulties.
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '@chainlog/core/logging';
import { leadingZeroBits, proofOfWorkHash, searchNonce } from '@chainlog/core/protocol';
import { sha256Digest } from './support/pow.js';
import { PowPool } from '../src/pow/pow-pool.js';

describe('PowPool', () => {
  const pools: PowPool[] = [];
  afterEach(async () => {
    await Promise.all(pools.splice(0).map((pool) => pool.stop()));
  });

  async function startPool(workers: number, chunkSize = 4096): Promise<{ pool: PowPool; counted: () => number }> {
    let counted = 0;
    const pool = new PowPool({ workers, chunkSize, logger: createLogger('test', 'silent'), onHashes: (n) => (counted += n) });
    pools.push(pool);
    await pool.start();
    return { pool, counted: () => counted };
  }

  it('finds nonces that meet the difficulty with several workers, and counts the hashes', async () => {
    const { pool, counted } = await startPool(2);
    expect(pool.size).toBe(2);
    for (const label of ['a', 'b', 'c', 'd']) {
      const digest = sha256Digest(label);
      const result = await pool.search(digest, 10);
      expect(result.status).toBe('found');
      if (result.status !== 'found') continue;
      expect(leadingZeroBits(proofOfWorkHash(digest, result.nonce))).toBeGreaterThanOrEqual(10);
      expect(result.hashes).toBeGreaterThan(0);
    }
    expect(pool.totalHashes).toBeGreaterThan(0);
    expect(counted()).toBe(pool.totalHashes);
  });

  it("with one worker finds exactly the nonce the protocol's searchNonce finds (the worker restates it)", async () => {
    const { pool } = await startPool(1, 1000);
    for (const [label, difficulty] of [['x', 1], ['y', 7], ['z', 12]] as const) {
      const digest = sha256Digest(label);
      const result = await pool.search(digest, difficulty);
      expect(result).toMatchObject({ status: 'found', nonce: searchNonce(digest, difficulty, 0, 1_000_000) });
    }
  });

  it('aborts a search that cannot finish, promptly, and is free for the next one', async () => {
    const { pool } = await startPool(1);
    const controller = new AbortController();
    const started = Date.now();
    const hopeless = pool.search(sha256Digest('hopeless'), 60, controller.signal);
    setTimeout(() => controller.abort(), 200);
    const result = await hopeless;
    expect(result.status).toBe('aborted');
    expect(Date.now() - started).toBeLessThan(5000);
    const next = await pool.search(sha256Digest('next'), 4);
    expect(next.status).toBe('found');
  });

  it('a new search supersedes the running one', async () => {
    const { pool } = await startPool(1);
    const first = pool.search(sha256Digest('first'), 60);
    const second = pool.search(sha256Digest('second'), 6);
    expect((await first).status).toBe('aborted');
    expect((await second).status).toBe('found');
  });
});
