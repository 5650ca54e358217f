/**
 * The index in the heap (DATA_DIR unset): what the auditor did before the index moved to disk, for dev and
 * tests. Blocks are kept as wire bytes in Buffers (outside the V8 heap), each id as one entry of a sharded
 * Map to its sequence number. The ledger's accounts and histories are the ledger's own (not persistent: in
 * memory already), so they are not stored twice; putHistory/history still work (the reference model of the
 * LevelDB store's property test).
 */
import { ShardedMap } from '@chainlog/core/collections';
import type { SkipReason } from '@chainlog/core/protocol';
import type { AccountRecord, BackfillResume, IndexMeta, IndexStore, StoredBlockSummary, StoredEntry, StoredRefusal } from './index-store.js';

export class MemoryIndexStore implements IndexStore {
  readonly persistent = false;
  readonly location = 'memory';
  #meta: IndexMeta | undefined;
  #resume: BackfillResume | undefined;
  readonly #blocks = new Map<number, { summary: StoredBlockSummary; bytes: Buffer }>();
  /** [firstSeq, block index], sorted by firstSeq. */
  #starts: [number, number][] = [];
  #transactions: ShardedMap<string, number>;
  readonly #shardCapacity: number | undefined;
  readonly #history = new Map<string, number[]>();
  readonly #refusals = new Map<string, StoredRefusal>();
  readonly #skips = new Map<string, SkipReason>();

  constructor(options: { shardCapacity?: number } = {}) {
    this.#shardCapacity = options.shardCapacity;
    this.#transactions = new ShardedMap(options.shardCapacity);
  }

  meta(): IndexMeta | undefined {
    return this.#meta;
  }

  setMeta(meta: IndexMeta): void {
    this.#meta = meta;
  }

  summary(index: number): StoredBlockSummary | undefined {
    return this.#blocks.get(index)?.summary;
  }

  blockBytes(index: number): Buffer | undefined {
    return this.#blocks.get(index)?.bytes;
  }

  blockBytesView(index: number): Buffer | undefined {
    return this.blockBytes(index);
  }

  putBlock(summary: StoredBlockSummary, bytes: Buffer): void {
    // Kept: a view into a larger buffer (a fetch response) is copied, so that it does not keep the rest alive.
    this.#blocks.set(summary.index, { summary, bytes: bytes.byteLength === bytes.buffer.byteLength ? bytes : Buffer.from(bytes) });
    // A block without transactions holds no sequence number (see LevelIndexStore.blockIndexAtSeq).
    if (summary.transactionCount === 0) return;
    const entry: [number, number] = [summary.firstSeq, summary.index];
    const last = this.#starts.at(-1);
    // Blocks arrive in order within a range: appending is the usual case, a back-fill inserts below.
    if (last === undefined || last[0] < summary.firstSeq) this.#starts.push(entry);
    else this.#starts.splice(this.#startAtOrBelow(summary.firstSeq) + 1, 0, entry);
  }

  blockIndexAtSeq(seq: number): number | undefined {
    const at = this.#startAtOrBelow(seq);
    return at < 0 ? undefined : (this.#starts[at] as [number, number])[1];
  }

  /** Position in #starts of the greatest firstSeq ≤ seq; -1 when none. */
  #startAtOrBelow(seq: number): number {
    let low = 0;
    let high = this.#starts.length - 1;
    let found = -1;
    while (low <= high) {
      const middle = (low + high) >> 1;
      if ((this.#starts[middle] as [number, number])[0] <= seq) {
        found = middle;
        low = middle + 1;
      } else high = middle - 1;
    }
    return found;
  }

  readonly keepsProofData = false;

  putProofData(): void {
    // Not kept in memory: see IndexStore.keepsProofData.
  }

  proofData(): Buffer | undefined {
    return undefined;
  }

  proofDataView(): Buffer | undefined {
    return undefined;
  }

  readonly keepsEntries = false;

  putEntry(): void {
    // Not kept in memory: a history entry comes from the decoded block (see IndexStore.keepsEntries).
  }

  entry(): StoredEntry | undefined {
    return undefined;
  }

  backfillResume(): BackfillResume | undefined {
    return this.#resume;
  }

  putBackfillResume(resume: BackfillResume): void {
    this.#resume = resume;
  }

  transactionSeq(id: string): number | undefined {
    return this.#transactions.get(id);
  }

  putTransaction(id: string, seq: number): void {
    this.#transactions.set(id, seq);
  }

  refusal(id: string): StoredRefusal | undefined {
    return this.#refusals.get(id);
  }

  putRefusal(id: string, refusal: StoredRefusal): void {
    this.#refusals.set(id, refusal);
  }

  skip(partition: number, offset: number): SkipReason | undefined {
    return this.#skips.get(`${partition}:${offset}`);
  }

  putSkip(partition: number, offset: number, reason: SkipReason): void {
    this.#skips.set(`${partition}:${offset}`, reason);
  }

  accounts(): Iterable<[string, AccountRecord]> {
    return [];
  }

  putAccount(): void {
    // The ledger keeps its accounts in memory; a memory store has nothing to add.
  }

  putHistory(account: string, ordinal: number, seq: number): void {
    let history = this.#history.get(account);
    if (history === undefined) {
      history = [];
      this.#history.set(account, history);
    }
    history[ordinal] = seq;
  }

  history(account: string, from: number, limit: number): number[] {
    return this.#history.get(account)?.slice(from, from + limit) ?? [];
  }

  putRecent(): void {
    // The audit log and the ledger keep their recent lists in memory; a memory store has nothing to add.
  }

  recent(): unknown[] {
    return [];
  }

  batch(write: () => void): void {
    write();
  }

  clear(): void {
    this.#meta = undefined;
    this.#resume = undefined;
    this.#blocks.clear();
    this.#starts = [];
    this.#transactions = new ShardedMap(this.#shardCapacity);
    this.#history.clear();
    this.#refusals.clear();
    this.#skips.clear();
  }

  drained(): Promise<void> {
    return Promise.resolve();
  }

  sizeOnDisk(): number {
    return 0;
  }

  async close(): Promise<void> {
    // Nothing to release.
  }
}
