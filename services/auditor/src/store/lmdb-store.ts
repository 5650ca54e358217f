/**
 * The index on disk (DATA_DIR set), in LMDB (`lmdb` from npm; chosen over better-sqlite3 12 by
 * bench/index-store.ts: twice the insert rate, lookups in µs at p99 from a memory map, a synchronous API).
 * One environment, `<dir>/index.mdb`, with a named database per kind of entry; every block's entries are
 * written in one write transaction together with the meta record that says how far the index is valid, so
 * a crash of the process leaves the index at a block boundary.
 *
 * Written without fsync (`noSync`), measured in bench/index-sync.ts (docs/architecture.md): flushing each commit
 * costs 45–96% of the write rate, and the index needs no durability (it is a cache of the log,
 * checked against the blockchain topic on every start). What `noSync` risks is integrity after an operating-system
 * crash (pages written back out of order: a damaged page no start-up check would see). So the store notes, in a
 * small fsynced file beside it, that it is open and under which boot of the OS; a store found open under another
 * boot (the OS stopped without closing it: a crash, a power cut, a node lost) is discarded and rebuilt. A process
 * crash keeps it: the OS's page cache still holds every commit.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, readSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { open, type Database, type RootDatabase } from 'lmdb';
import type { SkipReason } from '@chainlog/core/protocol';
import type { AccountRecord, BackfillResume, IndexMeta, IndexStore, RecentListName, StoredBlockSummary, StoredEntry, StoredRefusal } from './index-store.js';

type SummaryValue = [hash: string, offset: number, timestamp: number, transactionCount: number, firstSeq: number];
type AccountValue = [balance: string, transactionCount: number, overdrafts: number];
type EntryValue = [id: string, from: string, to: string, amount: number, timestamp: number];

/** Why a stored index was discarded before LMDB opened it. */
export type DiscardReason = 'corrupt' | 'os-crash';

export interface LmdbIndexStoreOptions {
  /** This boot of the operating system (default: Linux's boot id; none elsewhere, where an OS crash is not detected). */
  readonly bootId?: string | undefined;
  readonly sync?: IndexSync;
}

/**
 * Opens the index in `dir`; an index that cannot be opened or read (not an LMDB file, or damaged) or that an
 * operating-system crash may have damaged (see above) is deleted and started afresh, and why is returned so the
 * caller reports the rebuild: a crash loop on a bad file would be worse than a back-fill.
 */
export function openLmdbIndexStore(dir: string, options: LmdbIndexStoreOptions = {}): { store: LmdbIndexStore; discarded?: Error; reason?: DiscardReason } {
  const bootId = 'bootId' in options ? options.bootId : currentBootId();
  const file = join(dir, 'index.mdb');
  let reason: DiscardReason = 'corrupt';
  try {
    const crashed = openedUnderAnotherBoot(dir, bootId);
    if (crashed !== undefined) {
      reason = 'os-crash';
      throw new Error(crashed);
    }
    // The native library does not survive a file that is not LMDB's (it crashes the process): look first.
    const problem = notLmdb(file);
    if (problem !== undefined) throw new Error(problem);
    const store = new LmdbIndexStore(dir, options.sync, bootId);
    store.meta();
    return { store };
  } catch (error) {
    rmSync(file, { force: true });
    rmSync(`${file}-lock`, { force: true });
    return { store: new LmdbIndexStore(dir, options.sync, bootId), discarded: error as Error, reason };
  }
}

/** The marker an open store leaves beside its file (removed by close()): which boot of the OS it was opened under. */
const OPEN_MARKER = 'index.open';

function currentBootId(): string | undefined {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** Why the store in `dir` cannot be trusted (open when the OS stopped), or undefined. */
function openedUnderAnotherBoot(dir: string, bootId: string | undefined): string | undefined {
  const marker = join(dir, OPEN_MARKER);
  if (bootId === undefined || !existsSync(marker) || !existsSync(join(dir, 'index.mdb'))) return undefined;
  let openedUnder: unknown;
  try {
    openedUnder = (JSON.parse(readFileSync(marker, 'utf8')) as { bootId?: unknown }).bootId;
  } catch {
    openedUnder = undefined;
  }
  if (openedUnder === bootId) return undefined;
  return `the index was open when the operating system stopped (boot ${String(openedUnder)}, now ${bootId}): written without fsync, it may be damaged`;
}

/** Writes the marker and flushes it (and its directory entry) before the first commit can reach the disk. */
function markOpen(dir: string, bootId: string | undefined): void {
  const fd = openSync(join(dir, OPEN_MARKER), 'w');
  try {
    writeSync(fd, JSON.stringify({ bootId: bootId ?? null, pid: process.pid, openedAt: new Date().toISOString() }));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  const dirFd = openSync(dir, 'r');
  try {
    fsyncSync(dirFd);
  } finally {
    closeSync(dirFd);
  }
}

/** Flushes every commit to disk (lmdb-js' env.sync, not in its type declarations). */
function flush(root: RootDatabase): Promise<void> {
  const env = root as unknown as { sync(callback: (error?: Error) => void): void };
  return new Promise((resolve, reject) => env.sync((error) => (error ? reject(error) : resolve())));
}

/** LMDB's meta page magic, where lmdb-js' build writes it (little-endian). */
const LMDB_MAGIC = 0xbeefc0de;
const LMDB_MAGIC_AT = 24;

/** Why the file is not an LMDB environment, or undefined when it is (or does not exist yet). */
function notLmdb(file: string): string | undefined {
  if (!existsSync(file) || statSync(file).size === 0) return undefined;
  const head = Buffer.alloc(LMDB_MAGIC_AT + 4);
  const fd = openSync(file, 'r');
  try {
    if (readSync(fd, head, 0, head.length, 0) < head.length) return `${file} is too short to be an LMDB file`;
  } finally {
    closeSync(fd);
  }
  return head.readUInt32LE(LMDB_MAGIC_AT) === LMDB_MAGIC ? undefined : `${file} does not start with LMDB's meta page`;
}

/**
 * How commits reach the disk (bench/index-sync.ts measures each): `none` never flushes (the OS writes the pages
 * when it likes; an OS crash may lose commits or, without write ordering, damage a page); `overlapping` (lmdb-js'
 * default) commits, then flushes in the background, updating the meta pointers in steps so the file stays
 * consistent; `full` flushes data and meta page inside every commit; `meta-nosync` flushes the data but not the
 * meta page (integrity kept, the last commit may be lost).
 */
export type IndexSync = 'none' | 'overlapping' | 'full' | 'meta-nosync';

const SYNC_OPTIONS: Record<IndexSync, { noSync?: boolean; overlappingSync?: boolean; noMetaSync?: boolean }> = {
  none: { noSync: true },
  overlapping: { overlappingSync: true },
  full: { overlappingSync: false },
  'meta-nosync': { overlappingSync: false, noMetaSync: true },
};

export class LmdbIndexStore implements IndexStore {
  readonly persistent = true;
  readonly location: string;
  readonly #file: string;
  readonly #root: RootDatabase;
  readonly #meta: Database<IndexMeta | BackfillResume, string>;
  readonly #entries: Database<EntryValue, number>;
  readonly #summaries: Database<SummaryValue, number>;
  readonly #blocks: Database<Buffer, number>;
  readonly #starts: Database<number, number>;
  readonly #proofs: Database<Buffer, number>;
  readonly #ids: Database<number, string>;
  readonly #accounts: Database<AccountValue, string>;
  readonly #history: Database<number, [string, number]>;
  readonly #recent: Database<object, [RecentListName, number]>;
  readonly #refusals: Database<StoredRefusal, string>;
  readonly #skips: Database<SkipReason, [number, number]>;

  readonly #sync: IndexSync;

  constructor(dir: string, sync: IndexSync = 'none', bootId: string | undefined = currentBootId()) {
    mkdirSync(dir, { recursive: true });
    this.location = dir;
    this.#file = join(dir, 'index.mdb');
    this.#sync = sync;
    if (sync === 'none') markOpen(dir, bootId);
    this.#root = open({ path: this.#file, maxDbs: 16, ...SYNC_OPTIONS[sync] });
    this.#meta = this.#root.openDB({ name: 'meta' });
    this.#summaries = this.#root.openDB({ name: 'summaries', keyEncoding: 'uint32' });
    this.#blocks = this.#root.openDB({ name: 'blocks', keyEncoding: 'uint32', encoding: 'binary' });
    this.#starts = this.#root.openDB({ name: 'starts' });
    this.#proofs = this.#root.openDB({ name: 'proofs', keyEncoding: 'uint32', encoding: 'binary' });
    this.#ids = this.#root.openDB({ name: 'ids' });
    this.#accounts = this.#root.openDB({ name: 'accounts' });
    this.#history = this.#root.openDB({ name: 'history' });
    this.#entries = this.#root.openDB({ name: 'entries' });
    this.#recent = this.#root.openDB({ name: 'recent' });
    this.#refusals = this.#root.openDB({ name: 'refusals' });
    this.#skips = this.#root.openDB({ name: 'skips' });
  }

  meta(): IndexMeta | undefined {
    return this.#meta.get('meta') as IndexMeta | undefined;
  }

  setMeta(meta: IndexMeta): void {
    this.#meta.putSync('meta', meta);
  }

  summary(index: number): StoredBlockSummary | undefined {
    const value = this.#summaries.get(index);
    if (value === undefined) return undefined;
    const [hash, offset, timestamp, transactionCount, firstSeq] = value;
    return { index, hash, offset, timestamp, transactionCount, firstSeq };
  }

  blockBytes(index: number): Buffer | undefined {
    return this.#blocks.getBinary(index);
  }

  blockBytesView(index: number): Buffer | undefined {
    // lmdb-js' reusable read buffer: no allocation per read (getBinary allocates a Buffer of the value's size).
    return this.#blocks.getBinaryFast(index);
  }

  putBlock(summary: StoredBlockSummary, bytes: Buffer): void {
    const { index, hash, offset, timestamp, transactionCount, firstSeq } = summary;
    this.#summaries.putSync(index, [hash, offset, timestamp, transactionCount, firstSeq]);
    this.#blocks.putSync(index, bytes);
    // A block without transactions (genesis) holds no sequence number, and would hide the next block's start
    // (the same firstSeq) when written after it, as a back-fill writes genesis after a checkpoint at block 1.
    if (transactionCount > 0) this.#starts.putSync(firstSeq, index);
  }

  readonly keepsProofData = true;

  putProofData(index: number, data: Buffer): void {
    this.#proofs.putSync(index, data);
  }

  proofData(index: number): Buffer | undefined {
    return this.#proofs.getBinary(index);
  }

  proofDataView(index: number): Buffer | undefined {
    return this.#proofs.getBinaryFast(index);
  }

  readonly keepsEntries = true;

  putEntry(seq: number, entry: StoredEntry): void {
    this.#entries.putSync(seq, [entry.id, entry.from, entry.to, entry.amount, entry.timestamp]);
  }

  entry(seq: number): StoredEntry | undefined {
    const value = this.#entries.get(seq);
    if (value === undefined) return undefined;
    const [id, from, to, amount, timestamp] = value;
    return { id, from, to, amount, timestamp };
  }

  backfillResume(): BackfillResume | undefined {
    return this.#meta.get('backfill') as BackfillResume | undefined;
  }

  putBackfillResume(resume: BackfillResume): void {
    this.#meta.putSync('backfill', resume);
  }

  blockIndexAtSeq(seq: number): number | undefined {
    // Reverse from seq (inclusive): the first entry is the greatest firstSeq ≤ seq.
    for (const { value } of this.#starts.getRange({ start: seq, reverse: true, limit: 1 })) return value;
    return undefined;
  }

  transactionSeq(id: string): number | undefined {
    return this.#ids.get(id);
  }

  putTransaction(id: string, seq: number): void {
    this.#ids.putSync(id, seq);
  }

  refusal(id: string): StoredRefusal | undefined {
    return this.#refusals.get(id);
  }

  putRefusal(id: string, refusal: StoredRefusal): void {
    this.#refusals.putSync(id, refusal);
  }

  skip(partition: number, offset: number): SkipReason | undefined {
    return this.#skips.get([partition, offset]);
  }

  putSkip(partition: number, offset: number, reason: SkipReason): void {
    this.#skips.putSync([partition, offset], reason);
  }

  *accounts(): Iterable<[string, AccountRecord]> {
    for (const { key, value } of this.#accounts.getRange()) {
      const [balance, transactionCount, overdrafts] = value;
      yield [key, { balance: BigInt(balance), transactionCount, overdrafts }];
    }
  }

  putAccount(id: string, record: AccountRecord): void {
    this.#accounts.putSync(id, [record.balance.toString(), record.transactionCount, record.overdrafts]);
  }

  putHistory(account: string, ordinal: number, seq: number): void {
    this.#history.putSync([account, ordinal], seq);
  }

  history(account: string, from: number, limit: number): number[] {
    const seqs: number[] = [];
    for (const { value } of this.#history.getRange({ start: [account, from], end: [account, from + limit] })) seqs.push(value);
    return seqs;
  }

  putRecent(list: RecentListName, seq: number, value: object, keep: number): void {
    this.#recent.putSync([list, seq], value);
    if (seq >= keep) this.#recent.removeSync([list, seq - keep]);
  }

  recent(list: RecentListName): unknown[] {
    const entries: unknown[] = [];
    for (const { value } of this.#recent.getRange({ start: [list, 0], end: [list, Number.MAX_SAFE_INTEGER] })) entries.push(value);
    return entries;
  }

  batch(write: () => void): void {
    this.#root.transactionSync(write);
  }

  clear(): void {
    this.#root.transactionSync(() => {
      for (const db of [this.#meta, this.#summaries, this.#blocks, this.#starts, this.#proofs, this.#ids, this.#accounts, this.#history, this.#entries, this.#recent, this.#refusals, this.#skips]) db.clearSync();
    });
  }

  sizeOnDisk(): number {
    // Allocated blocks, not the file's apparent size (LMDB grows its file sparsely).
    return statSync(this.#file).blocks * 512;
  }

  /**
   * Closes the environment. Without fsync on commit, it is flushed first and only then the open marker removed:
   * a marker gone before the pages are on disk would hide a damage an OS crash right after could cause.
   */
  async close(): Promise<void> {
    if (this.#sync === 'none') await flush(this.#root);
    await this.#root.close();
    if (this.#sync === 'none') rmSync(join(this.location, OPEN_MARKER), { force: true });
  }
}
