/**
 * The index on disk (DATA_DIR set), in LevelDB (`classic-level` from npm; chosen over LMDB by bench/restart.ts and
 * bench/index-store.ts, docs/architecture.md "The auditor's index"): the pages a read touches stay in the process
 * only while their table file is open, a bounded few (LEVEL_OPTIONS; LMDB's memory map counted every page touched:
 * 10.8 GiB during a 10M back-fill), and random inserts become sequential writes (a log, then sorted tables merged
 * in the background) instead of B+tree page faults.
 *
 * Reads stay synchronous (`getSync`: an HTTP handler answers without queueing) and are point reads only (LevelDB's
 * iterators are asynchronous): a history page is a read per position, a recent list a read per kept entry after
 * its counter, and the block holding a sequence number a binary search over the held blocks' summaries.
 *
 * Writes are asynchronous in LevelDB: each `batch()` becomes one LevelDB write batch (all or nothing), written one
 * at a time in order; batches queued behind the one in flight are merged into one write (still whole batches, so
 * a crash keeps each batch or none of it, and a prefix of them). Until its write completes a batch's keys are served
 * from an in-memory overlay (reads see every write at once, as before); writers await `drained()` when the overlay
 * passes OVERLAY_LIMIT_BYTES, which bounds it.
 *
 * Written without fsync, like the LMDB store before it: the index is a cache of the log, checked against the
 * blockchain topic on every start. A process crash loses only the writes not yet handed to LevelDB (a suffix of
 * the batches: every completed write is in the OS's page cache). An operating-system crash can lose a write in the
 * middle of LevelDB's log while a later one survives (log blocks written back out of order; LevelDB skips a
 * damaged log record and replays the rest), which would leave the meta record claiming blocks that are gone. So
 * the store keeps the LMDB store's guard: a small fsynced marker says under which boot of the OS it is open, and
 * a store found open under another boot is discarded and rebuilt. close() syncs LevelDB's log before removing it.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { IndexCoverage } from '../domain/index-coverage.js';
import { HELD, json, key, META, parse, RESUME, uint48 } from './level-keys.js';
import { currentBootId, markOpen, OPEN_MARKER, openedUnderAnotherBoot } from './open-marker.js';
import type { SkipReason } from '@chainlog/core/protocol';
import type { AccountRecord, BackfillResume, IndexMeta, IndexStore, RecentListName, StoredBlockSummary, StoredEntry, StoredRefusal } from './index-store.js';

/** Why a stored index was discarded when it was opened. */
export type DiscardReason = 'corrupt' | 'os-crash';

/**
 * LevelDB's memory (docs/architecture.md): what the process holds of the index, whatever its size on disk.
 * LevelDB 1.20 (classic-level's) reads its table files through read-only memory maps (up to 1000 of them), so the
 * pages a read touches count as file-backed RSS for as long as the table is open: the table cache bounds that part
 * at (maxOpenFiles − 10) × maxFileSize = 64 MiB, however large the index grows (a table not open costs a few page
 * reads to open on a lookup). LevelDB raises max_open_files to at least 74 and max_file_size to at least 1 MiB
 * (SanitizeOptions), so these are the smallest table cache it allows: the 42 files set before were silently 74, a
 * 128 MiB bound with 2 MiB tables. A compaction reads its inputs through the same maps, ~11 tables from one level
 * to the next (so 1 MiB tables halve that too) and, from level 0, every level-0 table (a write buffer each) with
 * all of level 1 (10 MiB): smaller write buffers make those smaller. Up to two write buffers (memtables) are held
 * while one is written to a table. The block cache holds blocks read without a map (none while maps are
 * available), so it stays empty. Measured in docs/benchmarks.md (session 9: the back-fill's peak RSS at 10M).
 */
export const LEVEL_OPTIONS = {
  cacheSize: 8 * 1024 * 1024,
  writeBufferSize: 2 * 1024 * 1024,
  maxOpenFiles: 74,
  maxFileSize: 1024 * 1024,
} as const;

/** The writes not yet on disk that make writers wait (`drained()`): a few blocks' worth of entries. */
export const OVERLAY_LIMIT_BYTES = 4 * 1024 * 1024;

export interface LevelIndexStoreOptions {
  /** This boot of the operating system (default: Linux's boot id; none elsewhere, where an OS crash is not detected). */
  readonly bootId?: string | undefined;
  /** Default OVERLAY_LIMIT_BYTES (tests make it small). */
  readonly overlayLimitBytes?: number;
}

/** The LevelDB directory inside DATA_DIR; the LMDB store's files there are removed (an index of the old store is rebuilt). */
const DB_DIR = 'index.ldb';
const LEGACY_FILES = ['index.mdb', 'index.mdb-lock'];

/**
 * Opens the index in `dir`; an index that cannot be opened or read (not LevelDB's, or damaged) or that an
 * operating-system crash may have damaged (see above) is deleted and started afresh, and why is returned so the
 * caller reports the rebuild: a crash loop on a bad file would be worse than a back-fill. An index another
 * process holds open (LevelDB's lock) is an error, never deleted.
 */
export async function openLevelIndexStore(
  dir: string,
  options: LevelIndexStoreOptions = {},
): Promise<{ store: LevelIndexStore; discarded?: Error; reason?: DiscardReason }> {
  const store = new LevelIndexStore(dir, options.overlayLimitBytes);
  return { store, ...(await store.openOrRebuild(options)) };
}

type SummaryValue = [hash: string, offset: number, timestamp: number, transactionCount: number, firstSeq: number];
type AccountValue = [balance: string, transactionCount: number, overdrafts: number];
type EntryValue = [id: string, from: string, to: string, amount: number, timestamp: number];
/** A recent list's counter: the next entry's number and how many the list keeps. */
type RecentCounter = [next: number, keep: number];

/** One key's write: a value, or undefined for a deletion. */
interface Write {
  readonly key: Buffer;
  readonly value: Buffer | undefined;
}

/** What the writer does next: a write batch (whole batches merged), or a clear. */
type Job = { readonly kind: 'writes'; readonly writes: Write[] } | { readonly kind: 'clear' };

export class LevelIndexStore implements IndexStore {
  readonly persistent = true;
  readonly location: string;
  readonly #path: string;
  readonly #overlayLimit: number;
  #db: ClassicLevel<Buffer, Buffer> | undefined;
  /** The open batch's writes (read before the overlay: a batch sees its own writes). */
  #batch: Map<string, Write> | undefined;
  #depth = 0;
  /** How to put back what the open batch changed in memory (held ranges, accounts) if it throws. */
  #undo: (() => void)[] | undefined;
  /** Opened once: writes are accepted from then on (also while a clear reopens LevelDB). */
  #opened = false;
  /** Writes handed to the writer and not on disk yet, by key (latin1 of the key's bytes), the latest per key. */
  #overlay = new Map<string, Write>();
  #overlayBytes = 0;
  readonly #jobs: Job[] = [];
  #writing = false;
  /** Clears queued or under way: the database's contents are gone for readers already. */
  #clearing = 0;
  #failure: Error | undefined;
  #waiters: { resolve: () => void; reject: (error: Error) => void }[] = [];
  #idle: (() => void)[] = [];
  /** The accounts, loaded at open (the ledger needs every one at start; they are few: one per participant). */
  #accounts = new Map<string, AccountRecord>();
  #held = new IndexCoverage();

  constructor(dir: string, overlayLimitBytes = OVERLAY_LIMIT_BYTES) {
    this.location = dir;
    this.#path = join(dir, DB_DIR);
    this.#overlayLimit = overlayLimitBytes;
  }

  /** Opens the store (see openLevelIndexStore): what was discarded and why, if anything. */
  async openOrRebuild(options: { readonly bootId?: string | undefined } = {}): Promise<{ discarded?: Error; reason?: DiscardReason }> {
    const dir = this.location;
    const bootId = 'bootId' in options ? options.bootId : currentBootId();
    mkdirSync(dir, { recursive: true });
    for (const file of LEGACY_FILES) rmSync(join(dir, file), { force: true });
    rmSync(`${this.#path}.trash`, { recursive: true, force: true });
    let reason: DiscardReason = 'corrupt';
    try {
      const crashed = openedUnderAnotherBoot(dir, DB_DIR, bootId);
      if (crashed !== undefined) {
        reason = 'os-crash';
        throw new Error(crashed);
      }
      markOpen(dir, bootId);
      await this.#open();
      return {};
    } catch (error) {
      if ((error as { cause?: { code?: string } }).cause?.code === 'LEVEL_LOCKED') throw error;
      await this.#closeDatabase();
      rmSync(this.#path, { recursive: true, force: true });
      markOpen(dir, bootId);
      await this.#open();
      return { discarded: error as Error, reason };
    }
  }

  /** Opens LevelDB and loads what is read at start (accounts, held ranges); throws when it is not readable. */
  async #open(): Promise<void> {
    const db = new ClassicLevel<Buffer, Buffer>(this.#path, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    this.#db = db;
    await db.open({ ...LEVEL_OPTIONS, createIfMissing: true });
    this.#opened = true;
    this.meta();
    this.backfillResume();
    this.#held = new IndexCoverage(parse<[number, number][]>(this.#read(HELD)) ?? []);
    const accounts = new Map<string, AccountRecord>();
    const prefix = Buffer.from('A', 'latin1');
    for await (const [storedKey, value] of db.iterator({ gte: prefix, lt: Buffer.from('B', 'latin1') })) {
      // The key is 'A', the id's length (4 bytes), the id (level-keys.ts).
      const id = storedKey.subarray(5).toString('utf8');
      const [balance, transactionCount, overdrafts] = parse<AccountValue>(value) as AccountValue;
      accounts.set(id, { balance: BigInt(balance), transactionCount, overdrafts });
    }
    this.#accounts = accounts;
  }

  /** Closes LevelDB without waiting for queued writes (a failed open, a clear). */
  async #closeDatabase(): Promise<void> {
    const db = this.#db;
    this.#db = undefined;
    if (db !== undefined && db.status !== 'closed') await db.close();
  }

  meta(): IndexMeta | undefined {
    return parse<IndexMeta>(this.#read(META));
  }

  setMeta(meta: IndexMeta): void {
    this.#put(META, json(meta));
  }

  summary(index: number): StoredBlockSummary | undefined {
    const value = parse<SummaryValue>(this.#read(key('S', index)));
    if (value === undefined) return undefined;
    const [hash, offset, timestamp, transactionCount, firstSeq] = value;
    return { index, hash, offset, timestamp, transactionCount, firstSeq };
  }

  blockBytes(index: number): Buffer | undefined {
    return this.#read(key('B', index));
  }

  blockBytesView(index: number): Buffer | undefined {
    return this.blockBytes(index);
  }

  putBlock(summary: StoredBlockSummary, bytes: Buffer): void {
    const { index, hash, offset, timestamp, transactionCount, firstSeq } = summary;
    this.batch(() => {
      this.#put(key('S', index), json([hash, offset, timestamp, transactionCount, firstSeq]));
      // Copied: `bytes` may be a view valid only during the call, and the write happens later.
      this.#put(key('B', index), Buffer.from(bytes));
      const held = this.#held.ranges;
      if (this.#held.add(index)) {
        this.#undo?.push(() => (this.#held = new IndexCoverage(held)));
        this.#put(HELD, json(this.#held.ranges));
      }
    });
  }

  readonly keepsProofData = true;

  putProofData(index: number, data: Buffer): void {
    this.#put(key('P', index), Buffer.from(data));
  }

  proofData(index: number): Buffer | undefined {
    return this.#read(key('P', index));
  }

  proofDataView(index: number): Buffer | undefined {
    return this.proofData(index);
  }

  readonly keepsEntries = true;

  putEntry(seq: number, entry: StoredEntry): void {
    this.#put(key('E', seq), json([entry.id, entry.from, entry.to, entry.amount, entry.timestamp]));
  }

  entry(seq: number): StoredEntry | undefined {
    const value = parse<EntryValue>(this.#read(key('E', seq)));
    if (value === undefined) return undefined;
    const [id, from, to, amount, timestamp] = value;
    return { id, from, to, amount, timestamp };
  }

  backfillResume(): BackfillResume | undefined {
    return parse<BackfillResume>(this.#read(RESUME));
  }

  putBackfillResume(resume: BackfillResume): void {
    this.#put(RESUME, json(resume));
  }

  /**
   * The held block with the greatest firstSeq ≤ seq among those with transactions (a block without any holds no
   * sequence number): a binary search over the summaries of each held range, newest range first; firstSeq grows
   * with the block index along a chain.
   */
  blockIndexAtSeq(seq: number): number | undefined {
    const ranges = this.#held.ranges;
    for (let at = ranges.length - 1; at >= 0; at--) {
      const [first, last] = ranges[at] as readonly [number, number];
      let low = first;
      let high = last;
      let found = -1;
      while (low <= high) {
        const middle = Math.floor((low + high) / 2);
        const summary = this.summary(middle);
        if (summary !== undefined && summary.firstSeq <= seq) {
          found = middle;
          low = middle + 1;
        } else high = middle - 1;
      }
      for (let index = found; index >= first; index--) {
        const summary = this.summary(index);
        if (summary !== undefined && summary.transactionCount > 0) return index;
      }
    }
    return undefined;
  }

  transactionSeq(id: string): number | undefined {
    const value = this.#read(key('I', id));
    return value === undefined ? undefined : value.readUIntBE(0, 6);
  }

  putTransaction(id: string, seq: number): void {
    this.#put(key('I', id), uint48(seq));
  }

  refusal(id: string): StoredRefusal | undefined {
    return parse<StoredRefusal>(this.#read(key('F', id)));
  }

  putRefusal(id: string, refusal: StoredRefusal): void {
    this.#put(key('F', id), json(refusal));
  }

  skip(partition: number, offset: number): SkipReason | undefined {
    return this.#read(key('K', partition, offset))?.toString('utf8') as SkipReason | undefined;
  }

  putSkip(partition: number, offset: number, reason: SkipReason): void {
    this.#put(key('K', partition, offset), Buffer.from(reason, 'utf8'));
  }

  accounts(): Iterable<[string, AccountRecord]> {
    return [...this.#accounts];
  }

  putAccount(id: string, record: AccountRecord): void {
    this.batch(() => {
      this.#put(key('A', id), json([record.balance.toString(), record.transactionCount, record.overdrafts]));
      const before = this.#accounts.get(id);
      this.#undo?.push(() => (before === undefined ? this.#accounts.delete(id) : this.#accounts.set(id, before)));
      this.#accounts.set(id, { balance: record.balance, transactionCount: record.transactionCount, overdrafts: record.overdrafts });
    });
  }

  putHistory(account: string, ordinal: number, seq: number): void {
    this.#put(key('T', account, ordinal), uint48(seq));
  }

  history(account: string, from: number, limit: number): number[] {
    const seqs: number[] = [];
    for (let ordinal = from; ordinal < from + limit; ordinal++) {
      const value = this.#read(key('T', account, ordinal));
      // Histories are written in order from ordinal 0: the first one missing ends the account's.
      if (value === undefined) break;
      seqs.push(value.readUIntBE(0, 6));
    }
    return seqs;
  }

  putRecent(list: RecentListName, seq: number, value: object, keep: number): void {
    this.batch(() => {
      this.#put(key('L', list, seq), json(value));
      if (seq >= keep) this.#put(key('L', list, seq - keep), undefined);
      const counter = parse<RecentCounter>(this.#read(key('C', list)));
      if (counter === undefined || counter[0] <= seq) this.#put(key('C', list), json([seq + 1, keep]));
    });
  }

  recent(list: RecentListName): unknown[] {
    const counter = parse<RecentCounter>(this.#read(key('C', list)));
    if (counter === undefined) return [];
    const [next, keep] = counter;
    const entries: unknown[] = [];
    for (let seq = Math.max(0, next - keep); seq < next; seq++) {
      const value = parse<unknown>(this.#read(key('L', list, seq)));
      if (value !== undefined) entries.push(value);
    }
    return entries;
  }

  /** Runs the writes in `write` as one atomic change: they reach LevelDB as one write batch, or not at all. */
  batch(write: () => void): void {
    if (this.#failure !== undefined) throw this.#failure;
    if (this.#depth > 0) {
      write();
      return;
    }
    const writes = new Map<string, Write>();
    this.#batch = writes;
    this.#depth = 1;
    const undo: (() => void)[] = [];
    this.#undo = undo;
    try {
      write();
    } catch (error) {
      // Nothing of a failed batch is written; what it changed in memory is put back.
      for (const step of undo.reverse()) step();
      throw error;
    } finally {
      this.#batch = undefined;
      this.#undo = undefined;
      this.#depth = 0;
    }
    if (writes.size > 0) this.#commit([...writes.values()]);
  }

  /** Forgets everything: LevelDB's directory is replaced by an empty one (in the write queue, after what is queued). */
  clear(): void {
    if (this.#depth > 0) throw new Error('clear() inside a batch');
    if (this.#failure !== undefined) throw this.#failure;
    this.#overlay = new Map();
    this.#overlayBytes = 0;
    this.#accounts = new Map();
    this.#held = new IndexCoverage();
    // Jobs queued and not started (writes, an earlier clear) are replaced by this clear.
    this.#clearing -= this.#jobs.filter((job) => job.kind === 'clear').length;
    this.#jobs.length = 0;
    this.#jobs.push({ kind: 'clear' });
    this.#clearing++;
    this.#next();
  }

  /**
   * Resolves once the writes not on disk yet are under the store's bound (at once when they are); rejects when a
   * write failed. Writers (the chain follower, the back-fill, the ledger's catch-up) await it between blocks.
   */
  drained(): Promise<void> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    if (this.#overlayBytes <= this.#overlayLimit) return Promise.resolve();
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  /** Bytes of the writes not on disk yet (the overlay), for tests and the bound. */
  get unwrittenBytes(): number {
    return this.#overlayBytes;
  }

  sizeOnDisk(): number {
    let bytes = 0;
    try {
      // A table a compaction replaced may be gone between the listing and its stat: it counts as nothing.
      for (const file of readdirSync(this.#path)) bytes += (statSync(join(this.#path, file), { throwIfNoEntry: false })?.blocks ?? 0) * 512;
    } catch {
      // Replaced by a clear right now: empty.
    }
    return bytes;
  }

  /**
   * Writes what is queued, syncs LevelDB's log (every earlier write with it) and closes; only then is the open marker
   * removed: a marker gone before the writes are on disk would hide a damage an OS crash right after could cause.
   */
  async close(): Promise<void> {
    await this.#whenIdle();
    const db = this.#db;
    if (db !== undefined && db.status === 'open') {
      // A deletion of a key never written: a log record written with fsync, which flushes the log before it.
      if (this.#failure === undefined) await db.del(key('Z'), { sync: true });
      await db.close();
      if (this.#failure === undefined) rmSync(join(this.location, OPEN_MARKER), { force: true });
    }
    this.#db = undefined;
  }

  #read(storedKey: Buffer): Buffer | undefined {
    const name = storedKey.toString('latin1');
    const staged = this.#batch?.get(name) ?? this.#overlay.get(name);
    if (staged !== undefined) return staged.value;
    if (this.#clearing > 0 || this.#db === undefined || this.#db.status !== 'open') return undefined;
    return this.#db.getSync(storedKey);
  }

  /** A write: into the open batch, or a batch of its own. */
  #put(storedKey: Buffer, value: Buffer | undefined): void {
    if (this.#batch === undefined) {
      this.batch(() => this.#put(storedKey, value));
      return;
    }
    this.#batch.set(storedKey.toString('latin1'), { key: storedKey, value });
  }

  #commit(writes: Write[]): void {
    if (!this.#opened) throw new Error('the index store is not open');
    for (const write of writes) {
      const name = write.key.toString('latin1');
      const before = this.#overlay.get(name);
      if (before !== undefined) this.#overlayBytes -= size(before);
      this.#overlay.set(name, write);
      this.#overlayBytes += size(write);
    }
    const last = this.#jobs.at(-1);
    if (last?.kind === 'writes') last.writes.push(...writes);
    else this.#jobs.push({ kind: 'writes', writes });
    this.#next();
  }

  /** Starts the next job unless one is under way. */
  #next(): void {
    if (this.#writing) return;
    const job = this.#jobs.shift();
    if (job === undefined) {
      for (const resolve of this.#idle.splice(0)) resolve();
      return;
    }
    this.#writing = true;
    const done = job.kind === 'writes' ? this.#write(job.writes) : this.#clear();
    done.then(
      () => {
        this.#writing = false;
        this.#release();
        this.#next();
      },
      (error: unknown) => {
        // The overlay keeps serving what was not written; no write is attempted after a failure (batch() throws).
        this.#failure = error as Error;
        this.#writing = false;
        this.#jobs.length = 0;
        for (const waiter of this.#waiters.splice(0)) waiter.reject(this.#failure);
        for (const resolve of this.#idle.splice(0)) resolve();
      },
    );
  }

  async #write(writes: Write[]): Promise<void> {
    const db = this.#db as ClassicLevel<Buffer, Buffer>;
    await db.batch(writes.map(({ key: storedKey, value }) => (value === undefined ? { type: 'del', key: storedKey } : { type: 'put', key: storedKey, value })));
    for (const write of writes) {
      const name = write.key.toString('latin1');
      // Only if no later batch wrote the key again (that one is still to be written).
      if (this.#overlay.get(name) === write) {
        this.#overlay.delete(name);
        this.#overlayBytes -= size(write);
      }
    }
  }

  /** Moves LevelDB's directory aside (atomic: a crash keeps the old index or none) and opens an empty one. */
  async #clear(): Promise<void> {
    await this.#closeDatabase();
    const trash = `${this.#path}.trash`;
    rmSync(trash, { recursive: true, force: true });
    if (existsSync(this.#path)) renameSync(this.#path, trash);
    rmSync(trash, { recursive: true, force: true });
    const db = new ClassicLevel<Buffer, Buffer>(this.#path, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    await db.open({ ...LEVEL_OPTIONS, createIfMissing: true });
    this.#db = db;
    this.#clearing--;
  }

  #release(): void {
    if (this.#overlayBytes > this.#overlayLimit) return;
    for (const waiter of this.#waiters.splice(0)) waiter.resolve();
  }

  #whenIdle(): Promise<void> {
    if (!this.#writing && this.#jobs.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }
}

function size(write: Write): number {
  // The key twice (the Buffer and the Map's string) and the Map entry's own cost.
  return 2 * write.key.length + (write.value?.length ?? 0) + 64;
}
