/**
 * How the LevelDB index store (level-store.ts) lays out its keys and values. Keys: a one-letter table, then the
 * key's parts (numbers big-endian, so that a table's keys sort, and written in order, sit together in LevelDB's
 * files). Values: JSON for records, raw bytes for blocks and proof data, a 6-byte big-endian integer for sequence
 * numbers.
 */
export const META = key('M');
export const RESUME = key('R');
/** The held blocks' ranges, kept by the store itself (blockIndexAtSeq searches them; the meta record is the caller's). */
export const HELD = key('H');

/** The key of `table`'s entry for these parts (a string is length-prefixed, a number 6 bytes big-endian). */
export function key(table: string, ...parts: (string | number)[]): Buffer {
  const chunks: Buffer[] = [Buffer.from(table, 'latin1')];
  for (const part of parts) {
    if (typeof part === 'number') chunks.push(uint48(part));
    else {
      // Length-prefixed: no account or list name is a prefix of another's key.
      const text = Buffer.from(part, 'utf8');
      const length = Buffer.allocUnsafe(4);
      length.writeUInt32BE(text.length);
      chunks.push(length, text);
    }
  }
  return Buffer.concat(chunks);
}

export function uint48(value: number): Buffer {
  const bytes = Buffer.allocUnsafe(6);
  bytes.writeUIntBE(value, 0, 6);
  return bytes;
}

export const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value), 'utf8');
export const parse = <T>(bytes: Buffer | undefined): T | undefined => (bytes === undefined ? undefined : (JSON.parse(bytes.toString('utf8')) as T));
