// The records of one fetched batch of a partition, packed into a few flat arrays instead of one object and
// one Buffer view per record. A replay keeps tens of thousands of transactions-topic records per partition
// until the block that covers them is decided; as objects they filled the old generation and the garbage
// collector's time grew with them. Packed, a batch is five allocations whatever its size, and it crosses a
// thread boundary by transfer (postMessage with a transfer list), without copying or cloning.
import type { RecordVisitor, SourceRecord } from '../protocol/index.js';

export interface RecordChunk {
  /** Ascending Kafka offsets. */
  readonly offsets: Float64Array;
  /** Kafka record timestamps (ms since the epoch), one per record. */
  readonly timestamps: Float64Array;
  /** Where each record's value starts in `data`. */
  readonly starts: Uint32Array;
  /** Each record's value length in bytes; -1 for a record without a value (a tombstone). */
  readonly lengths: Int32Array;
  /** The values, back to back. */
  readonly data: Uint8Array;
}

/** What the packer needs of a record: a kafkajs message (offset and timestamp in decimal) or a SourceRecord. */
export interface PackableRecord {
  readonly offset: string | number;
  readonly timestamp: string | number;
  readonly value: Uint8Array | null;
}

/** Packs `records[from..]`. */
export function packRecords(records: readonly PackableRecord[], from = 0): RecordChunk {
  const count = Math.max(0, records.length - from);
  let size = 0;
  for (let i = from; i < records.length; i++) size += (records[i] as PackableRecord).value?.length ?? 0;
  const chunk: RecordChunk = {
    offsets: new Float64Array(count),
    timestamps: new Float64Array(count),
    starts: new Uint32Array(count),
    lengths: new Int32Array(count),
    data: new Uint8Array(size),
  };
  let at = 0;
  for (let i = 0; i < count; i++) {
    const { offset, timestamp, value } = records[from + i] as PackableRecord;
    chunk.offsets[i] = Number(offset);
    chunk.timestamps[i] = Number(timestamp);
    chunk.starts[i] = at;
    chunk.lengths[i] = value === null ? -1 : value.length;
    if (value !== null) {
      chunk.data.set(value, at);
      at += value.length;
    }
  }
  return chunk;
}

export function chunkSize(chunk: RecordChunk): number {
  return chunk.offsets.length;
}

/**
 * The chunk with its values as a Buffer (one view of the same memory; a transferred chunk arrives as plain
 * typed arrays): the coverage walk then compares a record with its transaction's text natively.
 */
export function asBufferData(chunk: RecordChunk): RecordChunk {
  const { data } = chunk;
  return data instanceof Buffer ? chunk : { ...chunk, data: Buffer.from(data.buffer, data.byteOffset, data.byteLength) };
}

/** The records from `from` on: views of the same arrays (`starts` index the whole `data`), nothing copied. */
export function sliceChunk(chunk: RecordChunk, from: number): RecordChunk {
  if (from <= 0) return chunk;
  return {
    offsets: chunk.offsets.subarray(from),
    timestamps: chunk.timestamps.subarray(from),
    starts: chunk.starts.subarray(from),
    lengths: chunk.lengths.subarray(from),
    data: chunk.data,
  };
}

/** The record at `index` (its value a view of the chunk's data, not a copy). */
export function chunkRecord(chunk: RecordChunk, index: number): SourceRecord {
  const length = chunk.lengths[index] as number;
  const start = chunk.starts[index] as number;
  const { data } = chunk;
  return {
    offset: chunk.offsets[index] as number,
    timestamp: chunk.timestamps[index] as number,
    value: length < 0 ? null : Buffer.from(data.buffer, data.byteOffset + start, length),
  };
}

/**
 * Visits the records with offsets in [firstOffset, lastOffset] of ascending chunks (the first one from index
 * `head` on), in offset order, until `visit` returns false: SourceLog.scan over packed records.
 */
export function scanChunks(chunks: readonly RecordChunk[], head: number, firstOffset: number, lastOffset: number, visit: RecordVisitor): void {
  for (const [c, chunk] of chunks.entries()) {
    const size = chunkSize(chunk);
    const { offsets, timestamps, starts, lengths, data } = chunk;
    if (size === 0 || (offsets[size - 1] as number) < firstOffset) continue;
    for (let i = chunkIndexOf(chunk, firstOffset, c === 0 ? head : 0); i < size; i++) {
      const offset = offsets[i] as number;
      if (offset > lastOffset) return;
      if (!visit(offset, timestamps[i] as number, data, starts[i] as number, lengths[i] as number)) return;
    }
  }
}

/** The first index whose offset is at least `offset` (the chunk's size when there is none). */
export function chunkIndexOf(chunk: RecordChunk, offset: number, from = 0): number {
  const { offsets } = chunk;
  let low = from;
  let high = offsets.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if ((offsets[mid] as number) < offset) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** The buffers to hand to postMessage's transfer list, so the chunk moves instead of being copied. */
export function chunkTransferList(chunk: RecordChunk): ArrayBuffer[] {
  return [chunk.offsets.buffer, chunk.timestamps.buffer, chunk.starts.buffer, chunk.lengths.buffer, chunk.data.buffer] as ArrayBuffer[];
}

/** The bytes a chunk holds (its arrays and its values): what it costs while it is kept or on its way. */
export function chunkBytes(chunk: RecordChunk): number {
  return chunk.offsets.byteLength + chunk.timestamps.byteLength + chunk.starts.byteLength + chunk.lengths.byteLength + chunk.data.byteLength;
}
