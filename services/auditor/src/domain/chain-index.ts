/**
 * The canonical chain's blocks and the index transaction id → (block index, position), over an IndexStore
 * (in memory, or on disk in LMDB with DATA_DIR: see store/). Blocks are stored as their canonical wire bytes
 * (the exact message on the blockchain topic) and decoded again on demand into an LRU cache bounded by wire
 * bytes; parsed blocks would cost ~1.6× their wire size, on the heap. Per transaction the index holds one
 * entry from its id to a global sequence number (every committed transaction, coinbases included, counted
 * from genesis); the block of a sequence number is the held block with the greatest first sequence number
 * not above it.
 *
 * Blocks need not arrive in order: after a start from a checkpoint the chain's new blocks are indexed from
 * the checkpoint's tip on while the back-fill indexes the blocks below it (IndexCoverage says which are held).
 */
import { type Block, encodeBlock, inclusionProof, type InclusionProof, type Transaction } from '@chainlog/core/protocol';
import { encodeProofData, proofOf, transactionIn, transactionRange } from './proof-data.js';
import type { IndexStore, StoredBlockSummary, StoredEntry } from '../store/index-store.js';
import { IndexCoverage } from './index-coverage.js';
import { LruCache } from './lru.js';

export type BlockSummary = Omit<StoredBlockSummary, 'firstSeq'>;

export interface TransactionLocation {
  readonly blockIndex: number;
  /** Position in the block's transaction list (0 is the coinbase), i.e. the Merkle leaf index. */
  readonly position: number;
}

export interface ProvenTransaction {
  readonly transaction: Transaction;
  readonly proof: InclusionProof;
  readonly blockHash: string;
  readonly merkleRoot: string;
}

/** The stored index says another block than the chain's at this height: it must be rebuilt. */
export class IndexConflictError extends Error {
  constructor(
    readonly blockIndex: number,
    readonly storedHash: string,
    readonly chainHash: string,
  ) {
    super(`the stored index holds block ${blockIndex} with hash ${storedHash}, the chain has ${chainHash}`);
    this.name = 'IndexConflictError';
  }
}

export class ChainIndex {
  readonly #store: IndexStore;
  readonly coverage: IndexCoverage;
  /** Decoded blocks, weighed by their wire size (parsed, a block takes about 1.6× that on the heap). */
  readonly #decoded: LruCache<number, { block: Block; size: number }>;
  #storedBytes = 0;

  constructor(options: { store: IndexStore; blockCacheBytes?: number; coverage?: IndexCoverage }) {
    this.#store = options.store;
    this.coverage = options.coverage ?? new IndexCoverage();
    this.#decoded = new LruCache(options.blockCacheBytes ?? 16 * 2 ** 20, (entry) => entry.size);
  }

  /** Index of the highest block held; -1 while empty. */
  get height(): number {
    return this.coverage.top;
  }

  /** Committed transactions up to the highest block held, coinbases included (from genesis, held or not). */
  get transactionCount(): number {
    const top = this.#store.summary(this.height);
    return top === undefined ? 0 : top.firstSeq + top.transactionCount;
  }

  /** Wire bytes of the blocks this process stored (the store's size on disk is reported apart). */
  get storedBytes(): number {
    return this.#storedBytes;
  }

  /**
   * Stores a canonical block whose first transaction has sequence number `firstSeq`; false when it is held
   * already (with the same hash: another hash throws IndexConflictError). `wireBytes`, when given, must be
   * encodeBlock(block) (the message the Chain accepted it from): copied instead of re-encoding, which
   * measured a tenth of the auditor's replay time (bench/replay.ts). `cache`: keep the decoded block for
   * queries (the newest blocks are the ones asked for; a back-fill's old ones would only push them out). Call
   * inside the store's batch.
   */
  put(block: Block, offset: number, firstSeq: number, wireBytes?: Uint8Array, cache = true): boolean {
    if (this.coverage.has(block.index)) {
      const stored = this.#store.summary(block.index);
      if (stored?.hash !== block.hash) throw new IndexConflictError(block.index, stored?.hash ?? '(missing)', block.hash);
      return false;
    }
    // Not copied here: the store copies what it keeps (IndexStore.putBlock); LMDB writes it into its map at
    // once, and a copy per block was a block's worth of garbage outside the heap for each one back-filled.
    const bytes = wireBytes === undefined ? encodeBlock(block) : Buffer.from(wireBytes.buffer, wireBytes.byteOffset, wireBytes.byteLength);
    const summary: StoredBlockSummary = {
      index: block.index,
      hash: block.hash,
      offset,
      timestamp: block.timestamp,
      transactionCount: block.transactions.length,
      firstSeq,
    };
    this.#store.putBlock(summary, bytes);
    if (this.#store.keepsProofData) this.#store.putProofData(block.index, encodeProofData(block, bytes));
    const keepsEntries = this.#store.keepsEntries;
    block.transactions.forEach(({ id, from, to, amount, timestamp }, position) => {
      this.#store.putTransaction(id, firstSeq + position);
      if (keepsEntries) this.#store.putEntry(firstSeq + position, { id, from, to, amount, timestamp });
    });
    this.coverage.add(block.index);
    this.#storedBytes += bytes.length;
    if (cache) this.#decoded.set(block.index, { block, size: bytes.length });
    return true;
  }

  summary(index: number): BlockSummary | undefined {
    const stored = this.#store.summary(index);
    if (stored === undefined) return undefined;
    const { firstSeq: _firstSeq, ...summary } = stored;
    return summary;
  }

  firstSeq(index: number): number | undefined {
    return this.#store.summary(index)?.firstSeq;
  }

  head(): BlockSummary | undefined {
    return this.summary(this.height);
  }

  /**
   * The block at this height, decoded from its stored bytes (validated when it was accepted). `cache`: keep it
   * decoded for the next query (false for a block read once in order, such as the ledger's catch-up after a
   * back-fill: caching those held ~47 old blocks, ~20 MiB of heap, and pushed the queried ones out).
   */
  block(index: number, cache = true): Block | undefined {
    const cached = this.#decoded.get(index);
    if (cached !== undefined) return cached.block;
    const bytes = this.#store.blockBytesView(index);
    if (bytes === undefined) return undefined;
    const block = JSON.parse(bytes.toString('utf8')) as Block;
    if (cache) this.#decoded.set(index, { block, size: bytes.length });
    return block;
  }

  /** Whether the block at this height is held decoded (the query cache). */
  isCached(index: number): boolean {
    return this.#decoded.has(index);
  }

  /** The block's exact wire bytes. */
  blockBytes(index: number): Buffer | undefined {
    return this.#store.blockBytes(index);
  }

  hasTransaction(id: string): boolean {
    return this.#store.transactionSeq(id) !== undefined;
  }

  locate(id: string): TransactionLocation | undefined {
    const seq = this.#store.transactionSeq(id);
    return seq === undefined ? undefined : this.locateSeq(seq);
  }

  /** Where the transaction with this sequence number is, when its block is held. */
  locateSeq(seq: number): TransactionLocation | undefined {
    if (!Number.isSafeInteger(seq) || seq < 0) return undefined;
    const blockIndex = this.#store.blockIndexAtSeq(seq);
    const summary = blockIndex === undefined ? undefined : this.#store.summary(blockIndex);
    if (summary === undefined || seq >= summary.firstSeq + summary.transactionCount) return undefined;
    return { blockIndex: summary.index, position: seq - summary.firstSeq };
  }

  /**
   * The committed transaction at this location with its inclusion proof and its block's hash and Merkle root:
   * from the stored proof data when the store keeps it (no block decoded, nothing hashed), else from the block.
   */
  proven(location: TransactionLocation): ProvenTransaction | undefined {
    const summary = this.#store.summary(location.blockIndex);
    if (summary === undefined) return undefined;
    // Views, not copies (a block and its proof data are ~400 KB: copying them per lookup kept the garbage
    // collector busy), each valid until the next read of the store: what is needed is taken out of each first.
    const data = this.#store.proofDataView(location.blockIndex);
    const range = data === undefined ? undefined : transactionRange(data, location.position);
    if (data !== undefined && range !== undefined) {
      // The root is the tree's last node; the stored block's header says the same (it was validated).
      const { proof, merkleRoot } = proofOf(data, location.position);
      const bytes = this.#store.blockBytesView(location.blockIndex);
      const transaction = bytes === undefined ? undefined : transactionIn(bytes, range);
      if (transaction !== undefined) return { transaction, proof, blockHash: summary.hash, merkleRoot };
    }
    const block = this.block(location.blockIndex);
    const transaction = block?.transactions[location.position];
    if (block === undefined || transaction === undefined) return undefined;
    return { transaction, proof: inclusionProof(block, transaction.id) as InclusionProof, blockHash: block.hash, merkleRoot: block.merkleRoot };
  }

  /**
   * What a history entry shows of the transaction with this sequence number: one small record when the store
   * keeps them, else from its block (decoded, or sliced out of the wire bytes).
   */
  entry(seq: number, location: TransactionLocation): StoredEntry | undefined {
    return this.#store.entry(seq) ?? this.transactionAt(location);
  }

  /** The transaction at this location: from its slice of the wire bytes when the store keeps proof data. */
  transactionAt(location: TransactionLocation): Transaction | undefined {
    const cached = this.#decoded.get(location.blockIndex)?.block;
    if (cached !== undefined) return cached.transactions[location.position];
    const data = this.#store.proofDataView(location.blockIndex);
    const range = data === undefined ? undefined : transactionRange(data, location.position);
    const bytes = range === undefined ? undefined : this.#store.blockBytesView(location.blockIndex);
    const sliced = range === undefined || bytes === undefined ? undefined : transactionIn(bytes, range);
    return sliced ?? this.block(location.blockIndex)?.transactions[location.position];
  }
}
