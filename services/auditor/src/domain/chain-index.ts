/**
 * The canonical chain's blocks and the index transaction id → (block index, position).
 *
 * Memory design: each accepted block is kept as its canonical wire bytes (the exact message on the
 * blockchain topic, in a Buffer outside the V8 heap) and decoded again on demand into an LRU cache bounded
 * by wire bytes; parsed blocks would cost ~1.6× their wire size, on the heap. Per transaction the index
 * adds one entry in a sharded Map from the transaction id (the same string the Chain's duplicate set
 * holds) to a global sequence number (a small integer); the block of a sequence number is found by binary
 * search over the blocks' first sequence numbers. See the README for measured figures per million
 * transactions.
 */
import { ShardedMap } from '@chainlog/core/collections';
import { type Block, encodeBlock, type Transaction } from '@chainlog/core/protocol';
import { LruCache } from './lru.js';

export interface BlockSummary {
  readonly index: number;
  readonly hash: string;
  /** Offset of the block's message on the blockchain topic. */
  readonly offset: number;
  readonly timestamp: number;
  readonly transactionCount: number;
}

export interface TransactionLocation {
  readonly blockIndex: number;
  /** Position in the block's transaction list (0 is the coinbase), i.e. the Merkle leaf index. */
  readonly position: number;
}

interface StoredBlock extends BlockSummary {
  readonly bytes: Buffer;
  /** Sequence number of the block's first transaction; sequence numbers count every committed transaction. */
  readonly firstSeq: number;
}

export class ChainIndex {
  readonly #blocks: StoredBlock[] = [];
  readonly #transactions: ShardedMap<string, number>;
  /** Decoded blocks, weighed by their wire size (parsed, a block takes about 1.6× that on the heap). */
  readonly #decoded: LruCache<number, { block: Block; size: number }>;
  #transactionCount = 0;
  #storedBytes = 0;

  constructor(options: { blockCacheBytes?: number; shardCapacity?: number } = {}) {
    this.#decoded = new LruCache(options.blockCacheBytes ?? 16 * 2 ** 20, (entry) => entry.size);
    this.#transactions = new ShardedMap(options.shardCapacity);
  }

  /** Index of the last block; -1 while empty. */
  get height(): number {
    return this.#blocks.length - 1;
  }

  /** Committed transactions, coinbases included. */
  get transactionCount(): number {
    return this.#transactionCount;
  }

  /** Bytes of block messages kept (outside the V8 heap). */
  get storedBytes(): number {
    return this.#storedBytes;
  }

  /**
   * Appends the next canonical block; returns the sequence number of its first transaction. `wireBytes`, when
   * given, must be encodeBlock(block) (the message the Chain accepted it from): copied instead of re-encoding,
   * which measured a tenth of the auditor's replay time (bench/replay.ts).
   */
  append(block: Block, offset: number, wireBytes?: Uint8Array): number {
    if (block.index !== this.#blocks.length) {
      throw new Error(`block ${block.index} does not follow the indexed height ${this.height}`);
    }
    // A copy: the message may be a view into a large fetch buffer, which the index must not keep alive.
    const bytes = wireBytes === undefined ? encodeBlock(block) : Buffer.from(wireBytes);
    const firstSeq = this.#transactionCount;
    this.#blocks.push({
      index: block.index,
      hash: block.hash,
      offset,
      timestamp: block.timestamp,
      transactionCount: block.transactions.length,
      bytes,
      firstSeq,
    });
    block.transactions.forEach((transaction, position) => this.#transactions.set(transaction.id, firstSeq + position));
    this.#transactionCount += block.transactions.length;
    this.#storedBytes += bytes.length;
    this.#decoded.set(block.index, { block, size: bytes.length });
    return firstSeq;
  }

  summary(index: number): BlockSummary | undefined {
    const stored = this.#blocks[index];
    if (stored === undefined) return undefined;
    const { bytes: _bytes, firstSeq: _firstSeq, ...summary } = stored;
    return summary;
  }

  head(): BlockSummary | undefined {
    return this.summary(this.height);
  }

  /** The block at this height, decoded from its stored bytes (validated when it was accepted). */
  block(index: number): Block | undefined {
    const cached = this.#decoded.get(index);
    if (cached !== undefined) return cached.block;
    const stored = this.#blocks[index];
    if (stored === undefined) return undefined;
    const block = JSON.parse(stored.bytes.toString('utf8')) as Block;
    this.#decoded.set(index, { block, size: stored.bytes.length });
    return block;
  }

  /** The block's exact wire bytes. */
  blockBytes(index: number): Buffer | undefined {
    return this.#blocks[index]?.bytes;
  }

  hasTransaction(id: string): boolean {
    return this.#transactions.has(id);
  }

  locate(id: string): TransactionLocation | undefined {
    const seq = this.#transactions.get(id);
    return seq === undefined ? undefined : this.locateSeq(seq);
  }

  /** Where the transaction with this sequence number is. */
  locateSeq(seq: number): TransactionLocation | undefined {
    if (!Number.isSafeInteger(seq) || seq < 0 || seq >= this.#transactionCount) return undefined;
    // The last block whose firstSeq ≤ seq (blocks after genesis always hold at least their coinbase).
    let low = 0;
    let high = this.#blocks.length - 1;
    while (low < high) {
      const middle = Math.ceil((low + high) / 2);
      if ((this.#blocks[middle] as StoredBlock).firstSeq <= seq) low = middle;
      else high = middle - 1;
    }
    const block = this.#blocks[low] as StoredBlock;
    return { blockIndex: block.index, position: seq - block.firstSeq };
  }

  transactionAt(location: TransactionLocation): Transaction | undefined {
    return this.block(location.blockIndex)?.transactions[location.position];
  }
}
