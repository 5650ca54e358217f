// Source coverage over packed records (SourceReader.scan: scanChunks) must decide exactly as over record
// objects (SourceLog.records): the committed coverage and ledger vectors, every block, same verdict and detail,
// with the partitions' records split into chunks at every possible place and the first chunk partly consumed.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { asBufferData, packRecords, scanChunks } from '../../src/kafka/record-chunk.js';
import {
  assembleBlock,
  canonicalTransactionJson,
  Chain,
  checkCoverage,
  finalSourceLog,
  GENESIS_BLOCK,
  sealBlock,
  type ApplyResult,
  type ConsensusParams,
  type SourceLog,
  type SourceRecord,
  type Transaction,
} from '../../src/protocol/index.js';

interface LogVector {
  consensus: ConsensusParams;
  partitions: Record<string, Array<{ offset: number; value: string | null; timestamp: number }>>;
  log: Array<{ encoded: string }>;
}

const readVector = (name: string): LogVector => JSON.parse(readFileSync(new URL(`../vectors/${name}`, import.meta.url), 'utf8')) as LogVector;

/** The records of each partition packed into chunks cut at `cut` (and a consumed record ahead of the first). */
function packedLog(topic: string, partitions: ReadonlyMap<number, SourceRecord[]>, cut: number, buffers: boolean): SourceLog {
  const base = finalSourceLog(topic, partitions);
  const packed = new Map(
    [...partitions].map(([partition, records]) => {
      const consumed: SourceRecord = { offset: -1, timestamp: 0, value: Buffer.from('consumed') };
      const head = [consumed, ...records.slice(0, cut)];
      const chunks = [packRecords(head, 0), packRecords(records.slice(cut))];
      // As a transferred chunk arrives (plain typed arrays), and as the source reader keeps it (a Buffer).
      return [partition, buffers ? chunks.map(asBufferData) : chunks] as const;
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
    for (let cut = 0; cut <= longest; cut++) {
      for (const buffers of [false, true]) expect(apply(() => packedLog('transactions', partitions, cut, buffers))).toEqual(expected);
    }
  });

  it('matches records written as the stored form byte for byte without parsing them, and not one byte more', () => {
    const transactions: Transaction[] = Array.from({ length: 5 }, (_, i) => ({
      id: `tx-${i}`,
      from: `payer-${i}`,
      to: 'bob',
      amount: i + 1,
      timestamp: 1_700_000_000_000 + i,
    }));
    const block = sealBlock(
      assembleBlock({
        previous: GENESIS_BLOCK,
        transactions,
        sources: [{ topic: 'transactions', partition: 0, firstOffset: 0, lastOffset: 4 }],
        miner: 'miner-a',
        timestamp: 1_700_000_001_000,
        difficulty: 0,
        reward: 50,
      }),
      0,
    );
    const transactionJson = block.transactions.map(canonicalTransactionJson);
    const context = { block, transactionJson, params: { minDifficulty: 0, blockReward: 50 }, hasTransaction: () => false, balance: () => 0n };
    const verdicts = (values: string[]) => {
      const records = new Map([[0, values.map((value, offset) => ({ offset, timestamp: 0, value: Buffer.from(value, 'latin1') }))]]);
      return [finalSourceLog('transactions', records), packedLog('transactions', records, 2, false), packedLog('transactions', records, 2, true)].map(
        (log) => checkCoverage(context, log),
      );
    };
    const stored = transactionJson.slice(1);
    expect(verdicts(stored)).toEqual([{ status: 'covered', refused: [] }, { status: 'covered', refused: [] }, { status: 'covered', refused: [] }]);
    // The same length, one byte different (a digit, and a byte beyond ASCII): never the block's transaction.
    for (const altered of [stored[3]?.replace('"amount":4', '"amount":5'), stored[3]?.replace('bob', 'b\xe9b')]) {
      const outcome = verdicts(stored.map((value, i) => (i === 3 ? (altered as string) : value)));
      expect(outcome.map((verdict) => verdict.status)).toEqual(['rejected', 'rejected', 'rejected']);
      expect(new Set(outcome.map((verdict) => JSON.stringify(verdict))).size).toBe(1);
    }
  });
});
