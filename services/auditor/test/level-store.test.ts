// The LevelDB store: it answers every read as the memory store does (and, for what only a persistent store keeps,
// as a plain model) after any sequence of writes, batches and clears, also while its writes are still in flight,
// and after a reopen; it keeps what it was given across a reopen and a process crash, and an unreadable or
// possibly damaged index is discarded and started afresh instead of failing every start.
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SKIP_REASONS, type SkipReason } from '@chainlog/core/protocol';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { AccountRecord, IndexMeta, IndexStore, RecentListName, StoredEntry } from '../src/store/index-store.js';
import { type LevelIndexStore, openLevelIndexStore } from '../src/store/level-store.js';
import { MemoryIndexStore } from '../src/store/memory-store.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function newDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'chainlog-level-'));
  dirs.push(dir);
  return dir;
}

const META: IndexMeta = { format: 1, identity: 'chain', ranges: [[0, 3]], ledgerHeight: 3, overdraftTotal: 2 };

describe('openLevelIndexStore', () => {
  it('keeps the index across a reopen', async () => {
    const dir = newDir();
    const first = await openLevelIndexStore(dir);
    expect(first.discarded).toBeUndefined();
    first.store.batch(() => {
      first.store.putTransaction('t-1', 7);
      first.store.setMeta(META);
      first.store.putAccount('alice', { balance: 2n ** 70n, transactionCount: 3, overdrafts: 1 });
    });
    await first.store.close();
    const again = await openLevelIndexStore(dir);
    expect(again.discarded).toBeUndefined();
    expect(again.store.transactionSeq('t-1')).toBe(7);
    expect(again.store.meta()).toEqual(META);
    expect([...again.store.accounts()]).toEqual([['alice', { balance: 2n ** 70n, transactionCount: 3, overdrafts: 1 }]]);
    await again.store.close();
  });

  it("keeps the history entries and the back-fill's resume point across a reopen, and forgets them on clear", async () => {
    const dir = newDir();
    const first = (await openLevelIndexStore(dir)).store;
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
    const again = (await openLevelIndexStore(dir)).store;
    expect(again.entry(12)).toEqual(entry);
    expect(again.entry(13)).toBeUndefined();
    expect(again.backfillResume()).toEqual(resume);
    again.clear();
    expect(again.entry(12)).toBeUndefined();
    expect(again.backfillResume()).toBeUndefined();
    await again.close();
    const cleared = (await openLevelIndexStore(dir)).store;
    expect(cleared.entry(12)).toBeUndefined();
    await cleared.close();
  });

  it('keeps the newest entries of each recent list, bounded, across a reopen, and forgets them on clear', async () => {
    const dir = newDir();
    const first = await openLevelIndexStore(dir);
    first.store.batch(() => {
      for (let seq = 0; seq < 7; seq++) first.store.putRecent('rejected', seq, { offset: seq }, 3);
      first.store.putRecent('overdrafts', 0, { account: 'alice' }, 3);
    });
    await first.store.close();
    const again = (await openLevelIndexStore(dir)).store;
    expect(again.recent('rejected')).toEqual([{ offset: 4 }, { offset: 5 }, { offset: 6 }]);
    expect(again.recent('overdrafts')).toEqual([{ account: 'alice' }]);
    expect(again.recent('forks')).toEqual([]);
    again.clear();
    expect(again.recent('rejected')).toEqual([]);
    await again.close();
  });

  it('writes nothing of a batch that throws', async () => {
    const { store } = await openLevelIndexStore(newDir());
    store.batch(() => store.putAccount('alice', { balance: 1n, transactionCount: 1, overdrafts: 0 }));
    expect(() =>
      store.batch(() => {
        store.putTransaction('t-1', 1);
        store.putBlock({ index: 0, hash: 'h', offset: 0, timestamp: 0, transactionCount: 1, firstSeq: 0 }, Buffer.from('block'));
        store.putAccount('alice', { balance: 5n, transactionCount: 2, overdrafts: 0 });
        throw new Error('half-way');
      }),
    ).toThrow('half-way');
    expect(store.transactionSeq('t-1')).toBeUndefined();
    expect(store.summary(0)).toBeUndefined();
    expect(store.blockIndexAtSeq(0)).toBeUndefined();
    expect([...store.accounts()]).toEqual([['alice', { balance: 1n, transactionCount: 1, overdrafts: 0 }]]);
    await store.close();
  });

  it('after a process crash keeps every batch whose write completed, each whole', async () => {
    const dir = newDir();
    const { store } = await openLevelIndexStore(dir, { bootId: 'boot-1' });
    for (let block = 0; block < 50; block++) {
      store.batch(() => {
        for (let n = 0; n < 20; n++) store.putTransaction(`t-${block}-${n}`, block * 20 + n);
        store.setMeta({ ...META, ledgerHeight: block });
      });
      await store.drained();
    }
    // What a killed process leaves: LevelDB's files as its completed writes left them, never closed (a copy
    // taken while the store is still open; the lock is the original's).
    const crashed = newDir();
    await new Promise((resolve) => setTimeout(resolve, 50));
    cpSync(join(dir, 'index.ldb'), join(crashed, 'index.ldb'), { recursive: true });
    cpSync(join(dir, 'index.open'), join(crashed, 'index.open'));
    rmSync(join(crashed, 'index.ldb', 'LOCK'), { force: true });
    await store.close();
    const reopened = await openLevelIndexStore(crashed, { bootId: 'boot-1' });
    expect(reopened.discarded).toBeUndefined();
    const height = reopened.store.meta()?.ledgerHeight ?? -1;
    expect(height).toBe(49);
    for (let block = 0; block <= height; block++) {
      for (let n = 0; n < 20; n++) expect(reopened.store.transactionSeq(`t-${block}-${n}`)).toBe(block * 20 + n);
    }
    await reopened.store.close();
  });

  it('discards an index that was open when the operating system stopped (another boot), keeps one a process crash left', async () => {
    const dir = newDir();
    const write = async (bootId: string): Promise<LevelIndexStore> => {
      const { store } = await openLevelIndexStore(dir, { bootId });
      store.batch(() => store.setMeta(META));
      return store;
    };
    // A process crash (never closed), restarted under the same boot: the page cache had every write.
    await (await write('boot-1')).close();
    writeFileSync(join(dir, 'index.open'), JSON.stringify({ bootId: 'boot-1' }));
    const afterProcessCrash = await openLevelIndexStore(dir, { bootId: 'boot-1' });
    expect(afterProcessCrash.discarded).toBeUndefined();
    expect(afterProcessCrash.store.meta()?.ledgerHeight).toBe(3);
    await afterProcessCrash.store.close();
    // Closed cleanly, then the machine rebooted: kept.
    const afterReboot = await openLevelIndexStore(dir, { bootId: 'boot-2' });
    expect(afterReboot.discarded).toBeUndefined();
    expect(afterReboot.store.meta()?.ledgerHeight).toBe(3);
    await afterReboot.store.close();
    // Open when the OS stopped (the marker of boot 2 is still there under boot 3): discarded, reported as os-crash.
    writeFileSync(join(dir, 'index.open'), JSON.stringify({ bootId: 'boot-2' }));
    const afterOsCrash = await openLevelIndexStore(dir, { bootId: 'boot-3' });
    expect(afterOsCrash.reason).toBe('os-crash');
    expect(afterOsCrash.discarded?.message).toContain('operating system stopped');
    expect(afterOsCrash.store.meta()).toBeUndefined();
    // The fresh store is open under this boot now; a clean close removes the marker.
    expect(JSON.parse(readFileSync(join(dir, 'index.open'), 'utf8'))).toMatchObject({ bootId: 'boot-3' });
    await afterOsCrash.store.close();
    expect(existsSync(join(dir, 'index.open'))).toBe(false);
  });

  it('discards an unreadable database and starts an empty index; removes an index of the LMDB store', async () => {
    const dir = newDir();
    const first = await openLevelIndexStore(dir);
    first.store.batch(() => first.store.setMeta(META));
    await first.store.close();
    writeFileSync(join(dir, 'index.ldb', 'CURRENT'), 'MANIFEST-999999\n');
    writeFileSync(join(dir, 'index.mdb'), Buffer.alloc(1024, 0x5a));
    const opened = await openLevelIndexStore(dir);
    expect(opened.reason).toBe('corrupt');
    expect(opened.discarded).toBeInstanceOf(Error);
    expect(opened.store.meta()).toBeUndefined();
    expect(existsSync(join(dir, 'index.mdb'))).toBe(false);
    opened.store.batch(() => opened.store.putTransaction('t-2', 1));
    expect(opened.store.transactionSeq('t-2')).toBe(1);
    await opened.store.close();
  });

  it('refuses to open an index another process holds, and leaves it as it is', async () => {
    const dir = newDir();
    const first = await openLevelIndexStore(dir);
    first.store.batch(() => first.store.setMeta(META));
    await expect(openLevelIndexStore(dir)).rejects.toThrow();
    expect(first.store.meta()).toEqual(META);
    await first.store.close();
    const again = await openLevelIndexStore(dir);
    expect(again.store.meta()).toEqual(META);
    await again.store.close();
  });

  it('makes writers wait while its unwritten writes pass the bound, and lets them go once written', async () => {
    const { store } = await openLevelIndexStore(newDir(), { overlayLimitBytes: 10_000 });
    store.batch(() => {
      for (let n = 0; n < 200; n++) store.putEntry(n, { id: `t-${n}`, from: 'a'.repeat(40), to: 'b'.repeat(40), amount: n, timestamp: n });
    });
    expect(store.unwrittenBytes).toBeGreaterThan(10_000);
    await store.drained();
    expect(store.unwrittenBytes).toBeLessThanOrEqual(10_000);
    expect(store.entry(199)?.amount).toBe(199);
    await store.close();
  });
});

// The property: random writes (in batches of several), clears, waits and reopens, with every read compared after
// each step. The memory store is the reference for what it keeps; for what it leaves to a persistent store
// (entries, proof data, accounts, recent lists) a plain model is.

interface Model {
  entries: Map<number, StoredEntry>;
  proofs: Map<number, Buffer>;
  accounts: Map<string, AccountRecord>;
  recent: Map<RecentListName, { next: number; keep: number; values: Map<number, object> }>;
}

const emptyModel = (): Model => ({ entries: new Map(), proofs: new Map(), accounts: new Map(), recent: new Map() });

/** A chain's block shapes: transaction counts (0 allowed), firstSeq cumulative. */
interface ChainShape {
  readonly counts: number[];
  readonly firstSeqs: number[];
  readonly total: number;
}

function shape(counts: number[]): ChainShape {
  let seq = 0;
  const firstSeqs = counts.map((count) => {
    const first = seq;
    seq += count;
    return first;
  });
  return { counts, firstSeqs, total: seq };
}

type Command =
  | { kind: 'block'; pick: number }
  | { kind: 'tx'; id: number; seq: number }
  | { kind: 'history'; account: number; seq: number }
  | { kind: 'meta'; height: number }
  | { kind: 'resume'; tip: number }
  | { kind: 'entry'; seq: number; amount: number }
  | { kind: 'proof'; index: number; size: number }
  | { kind: 'account'; account: number; balance: bigint }
  | { kind: 'recent'; list: RecentListName; keep: number }
  | { kind: 'refusal'; id: number; offset: number; reason: SkipReason | undefined }
  | { kind: 'skip'; partition: number; offset: number; reason: SkipReason };

type Step = { kind: 'batch'; commands: Command[] } | { kind: 'clear' } | { kind: 'wait' } | { kind: 'drained' } | { kind: 'reopen' };

const LISTS: RecentListName[] = ['rejected', 'forks', 'anomalies', 'overdrafts'];

const command: fc.Arbitrary<Command> = fc.oneof(
  fc.record({ kind: fc.constant('block' as const), pick: fc.nat(1000) }),
  fc.record({ kind: fc.constant('tx' as const), id: fc.nat(30), seq: fc.nat(60) }),
  fc.record({ kind: fc.constant('history' as const), account: fc.nat(3), seq: fc.nat(60) }),
  fc.record({ kind: fc.constant('meta' as const), height: fc.integer({ min: -1, max: 20 }) }),
  fc.record({ kind: fc.constant('resume' as const), tip: fc.nat(20) }),
  fc.record({ kind: fc.constant('entry' as const), seq: fc.nat(60), amount: fc.nat() }),
  fc.record({ kind: fc.constant('proof' as const), index: fc.nat(20), size: fc.nat(300) }),
  fc.record({ kind: fc.constant('account' as const), account: fc.nat(5), balance: fc.bigInt({ min: -(2n ** 80n), max: 2n ** 80n }) }),
  fc.record({ kind: fc.constant('recent' as const), list: fc.constantFrom(...LISTS), keep: fc.integer({ min: 1, max: 4 }) }),
  fc.record({ kind: fc.constant('refusal' as const), id: fc.nat(10), offset: fc.nat(2 ** 40), reason: fc.option(fc.constantFrom(...SKIP_REASONS), { nil: undefined }) }),
  fc.record({ kind: fc.constant('skip' as const), partition: fc.nat(3), offset: fc.nat(5), reason: fc.constantFrom(...SKIP_REASONS) }),
);

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('batch' as const), commands: fc.array(command, { minLength: 1, maxLength: 8 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'clear' as const }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'wait' as const }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'drained' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'reopen' as const }) },
);

/** Writes a step's commands into a store (the same commands into both, the model alongside). */
class Writer {
  /** Blocks not put yet since the last clear, and each account's history length. */
  unput: number[];
  histories = new Map<string, number>();

  readonly #chain: ChainShape;

  constructor(chain: ChainShape) {
    this.#chain = chain;
    this.unput = chain.counts.map((_count, index) => index);
  }

  reset(): void {
    this.unput = this.#chain.counts.map((_count, index) => index);
    this.histories.clear();
  }

  apply(stores: IndexStore[], model: Model, commands: Command[]): void {
    // Decided once (picks, ordinals), then written into each store the same way.
    const writes: ((store: IndexStore) => void)[] = [];
    for (const c of commands) writes.push(...this.#decide(model, c));
    for (const store of stores) store.batch(() => writes.forEach((write) => write(store)));
  }

  #decide(model: Model, c: Command): ((store: IndexStore) => void)[] {
    switch (c.kind) {
      case 'block': {
        if (this.unput.length === 0) return [];
        const index = this.unput.splice(c.pick % this.unput.length, 1)[0] as number;
        const summary = { index, hash: `h${index}`, offset: index * 2, timestamp: 1000 + index, transactionCount: this.#chain.counts[index] as number, firstSeq: this.#chain.firstSeqs[index] as number };
        const bytes = Buffer.from(`block-${index}`.repeat(index + 1));
        return [(store) => store.putBlock(summary, bytes)];
      }
      case 'tx':
        return [(store) => store.putTransaction(`tx-${c.id}`, c.seq)];
      case 'history': {
        const account = `acct-${c.account}`;
        const ordinal = this.histories.get(account) ?? 0;
        this.histories.set(account, ordinal + 1);
        return [(store) => store.putHistory(account, ordinal, c.seq)];
      }
      case 'meta':
        return [(store) => store.setMeta({ ...META, ledgerHeight: c.height, ranges: c.height < 0 ? [] : [[0, c.height]] })];
      case 'resume': {
        const resume = { tipIndex: c.tip, tipHash: `h${c.tip}`, tipOffset: c.tip * 2, transactionCount: c.tip, sourceOffsets: [], recentIds: [{ id: `tx-${c.tip}`, timestamp: 5 }] };
        return [(store) => store.putBackfillResume(resume)];
      }
      case 'entry': {
        const entry = { id: `tx-${c.seq}`, from: 'a', to: 'b', amount: c.amount, timestamp: c.seq };
        model.entries.set(c.seq, entry);
        return [(store) => store.putEntry(c.seq, entry)];
      }
      case 'proof': {
        const data = Buffer.alloc(c.size, c.index);
        model.proofs.set(c.index, data);
        return [(store) => store.putProofData(c.index, data)];
      }
      case 'account': {
        const record = { balance: c.balance, transactionCount: Number(c.balance % 7n), overdrafts: 0 };
        model.accounts.set(`acct-${c.account}`, record);
        return [(store) => store.putAccount(`acct-${c.account}`, record)];
      }
      case 'recent': {
        const list = model.recent.get(c.list) ?? { next: 0, keep: c.keep, values: new Map() };
        const seq = list.next;
        const value = { list: c.list, seq };
        list.values.set(seq, value);
        list.values.delete(seq - c.keep);
        list.next = seq + 1;
        list.keep = c.keep;
        model.recent.set(c.list, list);
        return [(store) => store.putRecent(c.list, seq, value, c.keep)];
      }
      case 'refusal': {
        const refusal = { partition: c.id % 3, offset: c.offset, ...(c.reason === undefined ? {} : { reason: c.reason }) };
        return [(store) => store.putRefusal(`tx-${c.id}`, refusal)];
      }
      case 'skip':
        return [(store) => store.putSkip(c.partition, c.offset, c.reason)];
    }
  }
}

function expectSameReads(level: IndexStore, memory: IndexStore, model: Model, chain: ChainShape): void {
  expect(level.meta()).toEqual(memory.meta());
  expect(level.backfillResume()).toEqual(memory.backfillResume());
  for (let index = 0; index < chain.counts.length + 1; index++) {
    expect(level.summary(index)).toEqual(memory.summary(index));
    expect(level.blockBytes(index)).toEqual(memory.blockBytes(index));
    expect(level.proofData(index)).toEqual(model.proofs.get(index));
  }
  for (let seq = 0; seq <= chain.total + 1; seq++) {
    expect(level.blockIndexAtSeq(seq)).toEqual(memory.blockIndexAtSeq(seq));
  }
  for (let seq = 0; seq <= 61; seq++) expect(level.entry(seq)).toEqual(model.entries.get(seq));
  for (let id = 0; id <= 31; id++) {
    expect(level.transactionSeq(`tx-${id}`)).toEqual(memory.transactionSeq(`tx-${id}`));
    expect(level.refusal(`tx-${id}`)).toEqual(memory.refusal(`tx-${id}`));
  }
  for (let partition = 0; partition < 4; partition++) {
    for (let offset = 0; offset < 6; offset++) expect(level.skip(partition, offset)).toEqual(memory.skip(partition, offset));
  }
  for (let account = 0; account < 4; account++) {
    for (const [from, limit] of [
      [0, 100],
      [1, 2],
      [3, 1],
    ] as const) {
      expect(level.history(`acct-${account}`, from, limit)).toEqual(memory.history(`acct-${account}`, from, limit));
    }
  }
  expect(new Map(level.accounts())).toEqual(model.accounts);
  for (const name of LISTS) {
    const list = model.recent.get(name);
    const expected = list === undefined ? [] : [...list.values.entries()].filter(([seq]) => seq >= list.next - list.keep).sort(([a], [b]) => a - b).map(([, value]) => value);
    expect(level.recent(name)).toEqual(expected);
  }
}

describe('LevelIndexStore against the memory store', () => {
  it('answers every read the same after random writes, batches, clears and reopens, with writes in flight or not', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.nat(4), { minLength: 1, maxLength: 12 }), fc.array(step, { minLength: 1, maxLength: 25 }), async (counts, steps) => {
        const chain = shape(counts);
        const dir = newDir();
        // A small bound: drained() really waits for writes in flight.
        const options = { overlayLimitBytes: 512, bootId: 'boot' };
        let level: LevelIndexStore = (await openLevelIndexStore(dir, options)).store;
        const memory = new MemoryIndexStore();
        let model = emptyModel();
        const writer = new Writer(chain);
        try {
          for (const s of steps) {
            if (s.kind === 'batch') writer.apply([level, memory], model, s.commands);
            else if (s.kind === 'clear') {
              level.clear();
              memory.clear();
              model = emptyModel();
              writer.reset();
            } else if (s.kind === 'wait') await new Promise((resolve) => setImmediate(resolve));
            else if (s.kind === 'drained') await level.drained();
            else {
              await level.close();
              const reopened = await openLevelIndexStore(dir, options);
              expect(reopened.discarded).toBeUndefined();
              level = reopened.store;
            }
            expectSameReads(level, memory, model, chain);
          }
        } finally {
          await level.close();
        }
      }),
      { numRuns: 100 },
    );
  });
});
