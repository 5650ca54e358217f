// The auditor's transaction index on disk: LevelDB (classic-level 3, the auditor's store, with its settings) against
// lmdb and better-sqlite3 (12), with an in-memory Map as the baseline of the same run. The index maps a transaction id to where it is (block index,
// position in the block); it is written a block at a time (one write transaction per block, as the auditor
// accepts blocks) and read by point lookups (status, proof, balance history). Measured: insert rate, lookup
// latency (p50/p99 of existing ids, and of missing ids), the size on disk and the process's RSS, with the part of it
// that is file-backed (a memory map's pages) apart. LevelDB writes asynchronously: each block is awaited before the
// next, as the auditor's store writes one batch at a time.
//
// classic-level is the auditor's dependency; the others are not: install them to run this, without saving:
//   npm install --no-save lmdb@3 better-sqlite3@12
//   node --conditions=@chainlog/source --import tsx bench/index-store.ts [--entries 1000000] [--stores level,lmdb,sqlite,map]
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LEVEL_OPTIONS } from '../services/auditor/src/store/level-store.js';
import { flags, intFlag, loadAverage, mib, printHeader, printTable, quantile, rate, type Row } from './lib/report.js';

const USAGE = `bench/index-store.ts: the auditor's transaction index in LevelDB, lmdb, better-sqlite3 and a Map
  --entries <n>        transactions indexed (default 1000000)
  --block <n>          transactions per write transaction (default 2000)
  --lookups <n>        point lookups measured (default 100000)
  --stores <list>      any of level, lmdb, sqlite, map (default all four)`;

const options = flags(USAGE, { entries: { type: 'string' }, block: { type: 'string' }, lookups: { type: 'string' }, stores: { type: 'string' } });
const entries = intFlag(options.entries, 1_000_000);
const perBlock = intFlag(options.block, 2000);
const lookups = intFlag(options.lookups, 100_000);
const stores = (typeof options.stores === 'string' ? options.stores : 'level,lmdb,sqlite,map').split(',');

interface Location {
  readonly block: number;
  readonly position: number;
}

interface IndexStore {
  readonly name: string;
  /** One write transaction. */
  putBlock(block: number, ids: readonly string[]): void | Promise<void>;
  get(id: string): Location | undefined;
  close(): void | Promise<void>;
  /** Directory on disk, when there is one. */
  readonly dir?: string;
}

// The stores' APIs, as far as this bench uses them (they are loaded only when installed).
interface LmdbDatabase {
  transactionSync(action: () => void): void;
  putSync(key: string, value: unknown): void;
  get(key: string): unknown;
  close(): Promise<void>;
}
interface LevelDatabase {
  open(options: Record<string, unknown>): Promise<void>;
  batch(operations: { type: 'put'; key: string; value: Buffer }[]): Promise<void>;
  getSync(key: string): Buffer | undefined;
  close(): Promise<void>;
}
interface SqliteStatement {
  run(...values: unknown[]): unknown;
  get(...values: unknown[]): unknown;
}
interface SqliteDatabase {
  pragma(text: string): unknown;
  exec(text: string): unknown;
  prepare(text: string): SqliteStatement;
  transaction(action: (block: number, ids: readonly string[]) => void): (block: number, ids: readonly string[]) => void;
  close(): void;
}

async function load<T>(name: string): Promise<T | undefined> {
  try {
    return (await import(name)) as T;
  } catch {
    return undefined;
  }
}

async function lmdbStore(): Promise<IndexStore | undefined> {
  const lmdb = await load<{ open: (options: Record<string, unknown>) => LmdbDatabase }>('lmdb');
  if (lmdb === undefined) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'chainlog-index-lmdb-'));
  // Values as two uint32 in a Buffer (no structured-clone encoding); no compression: ids are random.
  const db = lmdb.open({ path: dir, encoding: 'binary', compression: false, noSync: false });
  return {
    name: 'lmdb 3',
    dir,
    putBlock(block, ids) {
      db.transactionSync(() => {
        ids.forEach((id, position) => {
          const value = Buffer.allocUnsafe(8);
          value.writeUInt32BE(block, 0);
          value.writeUInt32BE(position, 4);
          db.putSync(id, value);
        });
      });
    },
    get(id) {
      const value = db.get(id) as Buffer | undefined;
      return value === undefined ? undefined : { block: value.readUInt32BE(0), position: value.readUInt32BE(4) };
    },
    close: () => void db.close(),
  };
}

async function levelStore(): Promise<IndexStore | undefined> {
  const level = await load<{ ClassicLevel: new (path: string, options: Record<string, unknown>) => LevelDatabase }>('classic-level');
  if (level === undefined) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'chainlog-index-level-'));
  const db = new level.ClassicLevel(dir, { keyEncoding: 'utf8', valueEncoding: 'buffer' });
  await db.open({ ...LEVEL_OPTIONS, createIfMissing: true });
  return {
    name: 'classic-level 3 (LevelDB)',
    dir,
    putBlock: (block, ids) => db.batch(ids.map((id, position) => ({ type: 'put', key: id, value: location(block, position) }))),
    get(id) {
      const value = db.getSync(id);
      return value === undefined ? undefined : { block: value.readUInt32BE(0), position: value.readUInt32BE(4) };
    },
    close: () => db.close(),
  };
}

function location(block: number, position: number): Buffer {
  const value = Buffer.allocUnsafe(8);
  value.writeUInt32BE(block, 0);
  value.writeUInt32BE(position, 4);
  return value;
}

async function sqliteStore(): Promise<IndexStore | undefined> {
  const module = await load<{ default: new (path: string) => SqliteDatabase }>('better-sqlite3');
  if (module === undefined) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'chainlog-index-sqlite-'));
  const db = new module.default(join(dir, 'index.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec('CREATE TABLE tx (id TEXT PRIMARY KEY, block INTEGER NOT NULL, position INTEGER NOT NULL) WITHOUT ROWID');
  const insert = db.prepare('INSERT INTO tx (id, block, position) VALUES (?, ?, ?)');
  const select = db.prepare('SELECT block, position FROM tx WHERE id = ?');
  const putBlock = db.transaction((block: number, ids: readonly string[]) => ids.forEach((id, position) => insert.run(id, block, position)));
  return {
    name: 'better-sqlite3 12',
    dir,
    putBlock,
    get: (id) => select.get(id) as Location | undefined,
    close: () => db.close(),
  };
}

function mapStore(): IndexStore {
  const map = new Map<string, Location>();
  return {
    name: 'Map in the heap (the memory store)',
    putBlock: (block, ids) => ids.forEach((id, position) => map.set(id, { block, position })),
    get: (id) => map.get(id),
    close: () => map.clear(),
  };
}

function directoryBytes(dir: string | undefined): number | undefined {
  if (dir === undefined) return undefined;
  return readdirSync(dir).reduce((sum, name) => sum + statSync(join(dir, name)).size, 0);
}

/** The process's resident file-backed memory (mapped files' pages), from /proc (0 where there is none). */
function rssFile(): number {
  try {
    const line = readFileSync('/proc/self/status', 'utf8').match(/^RssFile:\s+(\d+) kB/m);
    return line === null ? 0 : Number(line[1]) * 1024;
  } catch {
    return 0;
  }
}

async function measure(store: IndexStore, ids: readonly string[]): Promise<Row> {
  const rssBefore = process.memoryUsage().rss;
  const fileBefore = rssFile();
  const started = performance.now();
  for (let start = 0, block = 1; start < ids.length; start += perBlock, block++) await store.putBlock(block, ids.slice(start, start + perBlock));
  const insertSeconds = (performance.now() - started) / 1000;
  const latencies = (pick: () => string): number[] =>
    Array.from({ length: lookups }, () => {
      const id = pick();
      const at = performance.now();
      store.get(id);
      return (performance.now() - at) * 1000;
    });
  const hits = latencies(() => ids[Math.floor(Math.random() * ids.length)] as string);
  const misses = latencies(() => randomUUID());
  const check = store.get(ids[12345 % ids.length] as string);
  if (check?.position !== (12345 % ids.length) % perBlock) throw new Error(`${store.name} returned ${JSON.stringify(check)}`);
  const row: Row = {
    store: store.name,
    'insert/s': rate(ids.length / insertSeconds),
    'hit p50 µs': Math.round(quantile(hits, 0.5) * 10) / 10,
    'hit p99 µs': Math.round(quantile(hits, 0.99) * 10) / 10,
    'miss p99 µs': Math.round(quantile(misses, 0.99) * 10) / 10,
    'on disk MiB': mib(directoryBytes(store.dir) ?? 0),
    'RSS growth MiB': mib(process.memoryUsage().rss - rssBefore),
    'of it file-backed MiB': mib(rssFile() - fileBefore),
  };
  await store.close();
  if (store.dir !== undefined) rmSync(store.dir, { recursive: true, force: true });
  return row;
}

printHeader("the auditor's transaction index: LevelDB vs lmdb vs better-sqlite3 vs a Map", { entries, perBlock, lookups, stores });
const ids = Array.from({ length: entries }, () => randomUUID());
const rows: Row[] = [];
for (const name of stores) {
  const store = name === 'level' ? await levelStore() : name === 'lmdb' ? await lmdbStore() : name === 'sqlite' ? await sqliteStore() : mapStore();
  if (store === undefined) {
    console.log(`${name}: not installed (npm install --no-save lmdb@3 better-sqlite3@12), skipped`);
    continue;
  }
  const row = await measure(store, ids);
  console.log(`${store.name}: done, load ${loadAverage()}`);
  rows.push(row);
}
printTable(`indexing ${entries} transaction ids, ${perBlock} per write transaction, ${lookups} lookups each`, rows);
console.log(`load average at end: ${loadAverage()}`);
