import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chunkBytes, chunkIndexOf, chunkRecord, chunkSize, chunkTransferList, packRecords, type PackableRecord } from '../../src/kafka/record-chunk.js';

/** Ascending offsets with gaps (compaction, transaction markers), timestamps and values, some null or empty. */
const recordsArbitrary = fc
  .array(
    fc.record({
      gap: fc.integer({ min: 1, max: 1000 }),
      timestamp: fc.oneof(fc.constant(-1), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER })),
      value: fc.option(fc.uint8Array({ maxLength: 300 }), { nil: null }),
    }),
    { maxLength: 60 },
  )
  .chain((rows) =>
    fc.integer({ min: 0, max: 2 ** 40 }).map((base) => {
      let offset = base;
      return rows.map(({ gap, timestamp, value }) => ({ offset: (offset += gap), timestamp, value }));
    }),
  );

describe('record chunks', () => {
  it('give back every record as it was packed, from any start index, offsets and timestamps as kafkajs spells them', () => {
    fc.assert(
      fc.property(recordsArbitrary, fc.nat(70), fc.boolean(), (records, from, asStrings) => {
        const input: PackableRecord[] = asStrings ? records.map((r) => ({ ...r, offset: String(r.offset), timestamp: String(r.timestamp) })) : records;
        const chunk = packRecords(input, from);
        const expected = records.slice(from);
        expect(chunkSize(chunk)).toBe(expected.length);
        const unpacked = Array.from({ length: chunkSize(chunk) }, (_, i) => chunkRecord(chunk, i));
        expect(unpacked.map(({ offset, timestamp }) => ({ offset, timestamp }))).toEqual(expected.map(({ offset, timestamp }) => ({ offset, timestamp })));
        expect(unpacked.map(({ value }) => (value === null ? null : Buffer.from(value).toString('hex')))).toEqual(
          expected.map(({ value }) => (value === null ? null : Buffer.from(value).toString('hex'))),
        );
      }),
    );
  });

  it('find the first record at or after an offset, as a linear scan does', () => {
    fc.assert(
      fc.property(recordsArbitrary, fc.integer({ min: 0, max: 2 ** 41 }), fc.nat(70), (records, offset, from) => {
        const chunk = packRecords(records);
        const start = Math.min(from, records.length);
        const linear = records.findIndex((record, i) => i >= start && record.offset >= offset);
        expect(chunkIndexOf(chunk, offset, start)).toBe(linear === -1 ? records.length : linear);
      }),
    );
  });

  it('survive a transfer to another thread unchanged (the arrays own their buffers)', () => {
    const records = [
      { offset: 7, timestamp: 1700000000000, value: Buffer.from('{"amount":3}') },
      { offset: 9, timestamp: -1, value: null },
      { offset: 10, timestamp: 5, value: Buffer.alloc(0) },
    ];
    const chunk = packRecords(records);
    const copy = structuredClone(chunk, { transfer: chunkTransferList(chunk) });
    expect(chunkSize(chunk)).toBe(0); // moved, not copied
    expect([0, 1, 2].map((i) => chunkRecord(copy, i))).toEqual([
      { offset: 7, timestamp: 1700000000000, value: Buffer.from('{"amount":3}') },
      { offset: 9, timestamp: -1, value: null },
      { offset: 10, timestamp: 5, value: Buffer.alloc(0) },
    ]);
  });
});

describe('chunkBytes', () => {
  it('counts the arrays and the values of a chunk', () => {
    fc.assert(
      fc.property(recordsArbitrary, (records) => {
        const chunk = packRecords(records);
        const values = records.reduce((sum, record) => sum + (record.value?.length ?? 0), 0);
        expect(chunkBytes(chunk)).toBe(records.length * (8 + 8 + 4 + 4) + values);
      }),
    );
  });
});
