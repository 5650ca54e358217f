// The LMDB store's edges (the behaviour it shares with the memory store is tested in domain.test.ts): it keeps
// what it was given across a reopen, and an unreadable file is discarded and started afresh instead of failing
// every start.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openLmdbIndexStore } from '../src/store/lmdb-store.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function newDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'chainlog-lmdb-'));
  dirs.push(dir);
  return dir;
}

describe('openLmdbIndexStore', () => {
  it('keeps the index across a reopen', async () => {
    const dir = newDir();
    const first = openLmdbIndexStore(dir);
    expect(first.discarded).toBeUndefined();
    first.store.batch(() => {
      first.store.putTransaction('t-1', 7);
      first.store.setMeta({ format: 1, identity: 'chain', ranges: [[0, 3]], ledgerHeight: 3, overdraftTotal: 2 });
    });
    await first.store.close();
    const again = openLmdbIndexStore(dir);
    expect(again.discarded).toBeUndefined();
    expect(again.store.transactionSeq('t-1')).toBe(7);
    expect(again.store.meta()).toEqual({ format: 1, identity: 'chain', ranges: [[0, 3]], ledgerHeight: 3, overdraftTotal: 2 });
    await again.store.close();
  });

  it('keeps the history entries and the back-fill\'s resume point across a reopen, and forgets them on clear', async () => {
    const dir = newDir();
    const first = openLmdbIndexStore(dir).store;
    const entry = { id: 'pay-1', from: 'alice', to: 'bob', amount: 2 ** 53 - 1, timestamp: 1_700_000_000_123 };
    const resume = {
      tipIndex: 4,
      tipHash: 'ab'.repeat(32),
      tipOffset: 9,
      transactionCount: 17,
      sourceOffsets: [{ topic: 'transactions', partition: 0, lastOffset: 11 }],
      recentIds: [{ id: 'pay-1', timestamp: 1_700_000_000_123 }],
    };
    first.batch(() => {
      first.putEntry(12, entry);
      first.putBackfillResume(resume);
    });
    await first.close();
    const again = openLmdbIndexStore(dir).store;
    expect(again.entry(12)).toEqual(entry);
    expect(again.entry(13)).toBeUndefined();
    expect(again.backfillResume()).toEqual(resume);
    again.clear();
    expect(again.entry(12)).toBeUndefined();
    expect(again.backfillResume()).toBeUndefined();
    await again.close();
  });

  it('keeps the newest entries of each recent list, bounded, across a reopen, and forgets them on clear', async () => {
    const dir = newDir();
    const first = openLmdbIndexStore(dir);
    first.store.batch(() => {
      for (let seq = 0; seq < 7; seq++) first.store.putRecent('rejected', seq, { offset: seq }, 3);
      first.store.putRecent('overdrafts', 0, { account: 'alice' }, 3);
    });
    await first.store.close();
    const again = openLmdbIndexStore(dir).store;
    expect(again.recent('rejected')).toEqual([{ offset: 4 }, { offset: 5 }, { offset: 6 }]);
    expect(again.recent('overdrafts')).toEqual([{ account: 'alice' }]);
    expect(again.recent('forks')).toEqual([]);
    again.clear();
    expect(again.recent('rejected')).toEqual([]);
    await again.close();
  });

  it('discards an unreadable file and starts an empty index', async () => {
    const dir = newDir();
    writeFileSync(join(dir, 'index.mdb'), Buffer.alloc(64 * 1024, 0x5a));
    const opened = openLmdbIndexStore(dir);
    expect(opened.discarded).toBeInstanceOf(Error);
    expect(opened.store.meta()).toBeUndefined();
    opened.store.batch(() => opened.store.putTransaction('t-2', 1));
    expect(opened.store.transactionSeq('t-2')).toBe(1);
    await opened.store.close();
  });
});
