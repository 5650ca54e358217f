// The partition of a sender is the Java client's: murmur2 of the key, made positive, modulo the count.
import { describe, expect, it } from 'vitest';
import { messageOffsets } from '../src/domain/offsets.js';
import { partitionForKey } from '../src/domain/partitioning.js';

// org.apache.kafka.common.utils.UtilsTest#testMurmur2: Java's Utils.murmur2 of these keys.
const JAVA_MURMUR2: [string, number][] = [
  ['21', -973932308],
  ['foobar', -790332482],
  ['a-little-bit-long-string', -985981536],
  ['a-little-bit-longer-string', -1486304829],
  ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
  ['abc', 479470107],
];

describe('partitionForKey', () => {
  it.each(JAVA_MURMUR2)('puts %s where the Java client does', (key, hash) => {
    for (let count = 1; count <= 12; count++) {
      expect(partitionForKey(key, count)).toBe((hash & 0x7fffffff) % count);
    }
  });

  it('rejects impossible partition counts', () => {
    expect(() => partitionForKey('alice', 0)).toThrow(RangeError);
    expect(() => partitionForKey('alice', 1.5)).toThrow(RangeError);
  });
});

describe('messageOffsets', () => {
  it('counts from each partition’s base offset in send order', () => {
    expect(
      messageOffsets(
        [2, 0, 2, 2, 0],
        [
          { partition: 0, baseOffset: '10' },
          { partition: 2, baseOffset: '7' },
        ],
      ),
    ).toEqual([7, 10, 8, 9, 11]);
  });

  it('fails when a partition was not acknowledged or has no offset', () => {
    expect(() => messageOffsets([1], [{ partition: 0, baseOffset: '1' }])).toThrow(/did not acknowledge partition 1/);
    expect(() => messageOffsets([0], [{ partition: 0 }])).toThrow(/base offset/);
  });
});
