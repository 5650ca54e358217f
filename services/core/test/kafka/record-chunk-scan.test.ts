// Source coverage over packed records (SourceReader.scan: scanChunks) must decide exactly as over record
// objects (SourceLog.records): the committed coverage and ledger vectors, every block, same verdict and detail,
// with the partitions' records split into chunks at every possible place and the first chunk partly consumed.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { packRecords, scanChunks } from '../../src/kafka/record-chunk.js';
import { Chain, finalSourceLog, type ApplyResult, type ConsensusParams, type SourceLog, type SourceRecord } from '../../src/protocol/index.js';

interface LogVector {
  consensus: ConsensusParams;
  partitions: Record<string, Array<{ offset: number; value: string | null; timestamp: number }>>;
  log: Array<{ encoded: string }>;
}

const readVector = (name: string): LogVector => JSON.parse(readFileSync(new URL(`../vectors/${name}`, import.meta.url), 'utf8')) as LogVector;

/** The records of each partition packed into chunks cut at `cut` (and a consumed record ahead of the first). */
function packedLog(topic: string, partitions: ReadonlyMap<number, SourceRecord[]>, cut: number): SourceLog {
  const base = finalSourceLog(topic, partitions);
  const packed = new Map(
    [...partitions].map(([partition, records]) => {
      const consumed: SourceRecord = { offset: -1, timestamp: 0, value: Buffer.from('consumed') };
      const head = [consumed, ...records.slice(0, cut)];
      return [partition, [packRecords(head, 0), packRecords(records.slice(cut))]] as const;
    }),
  );
  return {
    topic,
    records: () => {
      throw new Error('the walk must use scan when the log has it');
    },
    readThrough: (partition) => base.readThrough(partition),
    scan: (partition, first, last, visit) => scanChunks(packed.get(partition) ?? [], 1, first, last, visit),
  };
}

const outcome = (result: ApplyResult) => (result.accepted ? { hash: result.block.hash } : { reason: result.reason, detail: result.detail });

describe('source coverage over packed records (scanChunks)', () => {
  it.each(['coverage.json', 'ledger.json'])('decides every block of %s as over record objects, wherever the chunks are cut', (name) => {
    const vector = readVector(name);
    const partitions = new Map(
      Object.entries(vector.partitions).map(([partition, records]) => [
        Number(partition),
        records.map(({ offset, value, timestamp }) => ({ offset, timestamp, value: value === null ? null : Buffer.from(value, 'utf8') })),
      ]),
    );
    const apply = (log: () => SourceLog) => {
      const chain = new Chain(vector.consensus);
      return vector.log.map(({ encoded }) => outcome(chain.apply(Buffer.from(encoded, 'utf8'), log())));
    };
    const expected = apply(() => finalSourceLog('transactions', partitions));
    expect(expected.filter((result) => 'reason' in result && result.reason === 'bad-source-coverage').length).toBeGreaterThan(0);
    const longest = Math.max(...[...partitions.values()].map((records) => records.length));
    for (let cut = 0; cut <= longest; cut++) expect(apply(() => packedLog('transactions', partitions, cut))).toEqual(expected);
  });
});
