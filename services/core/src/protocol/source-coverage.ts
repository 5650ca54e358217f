/**
 * Source coverage (docs/protocol.md §3.7): a block's claimed source ranges are bound to the records of
 * the transactions topic. Walking the ranges in block order and each range's visible records in offset
 * order, every record is either the block's next transaction (its stored form, byte for byte) or listed
 * in the range's `skipped` with exactly the reason every reader computes; no transaction is left over and
 * no skipped entry names an offset without a visible record.
 *
 * Records of a Kafka partition below its high watermark never change (the topic is never compacted or
 * truncated), so the verdict is a function of the block, the chain and those records: the same for every
 * reader at any time. A reader that has not yet read a claimed offset does not guess: it decides as soon
 * as the records it has read already contradict the block (a contradiction in a prefix is final), and
 * otherwise waits ('waiting') until it has read through the range's last offset. It never accepts a block
 * whose claimed offsets it has not seen.
 */
import { admitRecord, recordTransaction, type SkipReason, type SourceRecord } from './admission.js';
import type { Block, SourceRange } from './block.js';
import type { ConsensusParams } from './consensus.js';
import { replayWindowProblem } from './replay-window.js';
import { COINBASE_SENDER, isUserTransactionId } from './identifiers.js';
import { canonicalTransactionJson, type Transaction } from './transaction.js';
import { blockVersion, versionRules, type VersionRules } from './version.js';
import { authorizationProblem, enforcesLedger, fundsProblem, RunningBalances, type LedgerParams } from './ledger.js';

/** What a reader has read of the transactions topic. */
export interface SourceLog {
  /** The chain's transactions topic: sources on any other topic are rejected. */
  readonly topic: string;
  /** The visible records of the partition with offsets in [firstOffset, lastOffset], ascending. */
  records(partition: number, firstOffset: number, lastOffset: number): readonly SourceRecord[];
  /** The highest offset up to which this reader has been given every record of the partition (-1 when none). */
  readThrough(partition: number): number;
  /**
   * Optional, the same records as `records` without an object per record (a reader that keeps them packed):
   * calls `visit` for each in offset order, its value being `data[start, start + length)` (length -1: no
   * value), until `visit` returns false.
   */
  scan?(partition: number, firstOffset: number, lastOffset: number, visit: RecordVisitor): void;
}

export type RecordVisitor = (offset: number, timestamp: number, data: Uint8Array, start: number, length: number) => boolean;

const NO_BYTES = new Uint8Array(0);

/**
 * A record a covered block skipped for a reason other than `duplicate`, whose transaction could be read: its id,
 * so that a reader can answer a status lookup with the refusal (`duplicate` is left out: that id's status is its
 * first copy's). Records that are no transaction (empty, malformed, no timestamp) have no id but their derived one.
 */
export interface RefusedRecord {
  readonly partition: number;
  readonly offset: number;
  readonly reason: SkipReason;
  readonly id: string;
}

export type CoverageVerdict =
  | { readonly status: 'covered'; readonly refused: readonly RefusedRecord[] }
  | { readonly status: 'rejected'; readonly detail: string }
  /** Undecided until the reader has read the partition through `offset`. */
  | { readonly status: 'waiting'; readonly topic: string; readonly partition: number; readonly offset: number; readonly detail: string };

export interface CoverageContext {
  readonly block: Block;
  /** canonicalTransactionJson of each of the block's transactions, in block order. */
  readonly transactionJson: readonly string[];
  readonly params: ConsensusParams;
  /** Ids already committed: a skipped record's `duplicate` reason is checked against them. */
  hasTransaction(id: string): boolean;
  /** Balances as of the tip (ledger.ts): a skipped record's `insufficient-funds` is checked against them. */
  balance(account: string): bigint;
}

/** The source-coverage verdict of a block that passed every other rule. */
export function checkCoverage(context: CoverageContext, log: SourceLog): CoverageVerdict {
  const walk = new CoverageWalk(context);
  for (const [i, range] of context.block.sources.entries()) {
    const verdict = walk.range(range, `sources[${i}] (${range.topic}/${range.partition})`, log);
    if (verdict !== undefined) return verdict;
  }
  const next = walk.next;
  return next === context.block.transactions.length
    ? { status: 'covered', refused: walk.refused }
    : rejected(`transactions[${next}] (${context.block.transactions[next]?.id}) is not the stored form of any record of the sources`);
}

class CoverageWalk {
  /** Index of the block transaction the next admitted record must be (0 is the coinbase). */
  next = 1;
  /** The skipped records read as transactions, in walk order (see RefusedRecord). */
  readonly refused: RefusedRecord[] = [];
  #matchedIds: Set<string> | undefined;
  readonly #rules: VersionRules;
  /** With ledger rules: balances after the coinbase and the transactions matched so far. */
  readonly #running: RunningBalances | undefined;
  readonly #ledger: LedgerParams | undefined;

  readonly #context: CoverageContext;

  constructor(context: CoverageContext) {
    this.#context = context;
    this.#rules = versionRules(blockVersion(context.block));
    const { ledger } = context.params;
    if (enforcesLedger(ledger, context.block)) {
      this.#ledger = ledger;
      this.#running = new RunningBalances(context);
      const coinbase = context.block.transactions[0];
      if (coinbase !== undefined) this.#running.transfer(coinbase);
    }
  }

  /** The block's next transaction is the record's: move on (and move its amount). */
  #advance(transaction: Transaction): void {
    this.#matchedIds?.add(transaction.id);
    this.#running?.transfer(transaction);
    this.next++;
  }

  range(range: SourceRange, at: string, log: SourceLog): CoverageVerdict | undefined {
    const { topic, partition, firstOffset, lastOffset } = range;
    if (topic !== log.topic) return rejected(`${at} names topic ${topic}; the chain's transactions topic is ${log.topic}`);
    const through = log.readThrough(partition);
    const readable = Math.min(lastOffset, through);
    const skipped = range.skipped ?? [];
    let s = 0;
    let verdict: CoverageVerdict | undefined;
    // Each visible record in offset order: the block's next transaction byte for byte, or listed as skipped.
    const visit: RecordVisitor = (offset, timestamp, data, start, length) => {
      const skip = skipped[s];
      if (skip !== undefined && skip.offset < offset) {
        verdict = rejected(`${at} skips offset ${skip.offset}, which has no record`);
        return false;
      }
      let problem: string | undefined;
      if (skip?.offset === offset) {
        problem = this.#skippedProblem(sourceRecord(offset, timestamp, data, start, length), range, skip.reason);
        s++;
      } else if (this.#isStoredFormBytes(data, start, length)) {
        this.#advance(this.#context.block.transactions[this.next] as Transaction);
      } else {
        problem = this.#transactionProblem(sourceRecord(offset, timestamp, data, start, length), range);
      }
      if (problem === undefined) return true;
      verdict = rejected(`${at} offset ${offset}: ${problem}`);
      return false;
    };
    if (readable >= firstOffset) {
      if (log.scan !== undefined) log.scan(partition, firstOffset, readable, visit);
      else {
        for (const { offset, timestamp, value } of log.records(partition, firstOffset, readable)) {
          if (!visit(offset, timestamp, value ?? NO_BYTES, 0, value === null ? -1 : value.length)) break;
        }
      }
    }
    if (verdict !== undefined) return verdict;
    const pendingSkip = skipped[s];
    if (pendingSkip !== undefined && pendingSkip.offset <= readable) {
      return rejected(`${at} skips offset ${pendingSkip.offset}, which has no record`);
    }
    if (through < lastOffset) {
      return {
        status: 'waiting',
        topic,
        partition,
        offset: lastOffset,
        detail: `${at} claims offsets through ${lastOffset}; this reader has read the partition through ${through}`,
      };
    }
    return undefined;
  }

  /** Why the record (not its stored form byte for byte) is not the block's next transaction, or undefined when it is. */
  #transactionProblem(record: SourceRecord, range: SourceRange): string | undefined {
    const carried = recordTransaction(record, range, this.#rules);
    if (!carried.ok) return `the record is not a transaction (${carried.error.reason}: ${carried.error.detail}) but is not listed as skipped`;
    const expected = this.#context.transactionJson[this.next];
    if (expected === undefined) return `transaction ${carried.value.id} is missing from the block`;
    if (canonicalTransactionJson(carried.value) !== expected) {
      return `transactions[${this.next}] is not the record's transaction ${carried.value.id} byte for byte (missing or altered)`;
    }
    this.#advance(this.#context.block.transactions[this.next] as Transaction);
    return undefined;
  }

  /**
   * Whether the record's bytes (`data[start, start + length)`) are exactly the canonical JSON of the block's
   * next transaction, and that transaction's id is a user id and its sender not "0". Then decoding the record
   * (either version's JSON, §2.1) gives that transaction unchanged: canonical text has no byte-order mark,
   * duplicate key or fraction; a user id and a timestamp are kept by toTransaction; and the input form accepts
   * every stored transaction with a user id and another sender. So the record carries it, without parsing
   * anything. Ingest writes every record this way, so a replay compares bytes instead of decoding JSON.
   */
  #isStoredFormBytes(data: Uint8Array, start: number, length: number): boolean {
    const expected = this.#context.transactionJson[this.next];
    if (expected === undefined || length !== expected.length) return false;
    const transaction = this.#context.block.transactions[this.next] as Transaction;
    if (transaction.from === COINBASE_SENDER || !isUserTransactionId(transaction.id)) return false;
    // The canonical JSON of a stored transaction is printable ASCII: one byte per character. Read as latin1
    // (one character per byte, natively), the bytes give exactly that text iff each byte is its character's code.
    if (data instanceof Buffer) return data.toString('latin1', start, start + length) === expected;
    for (let i = 0; i < length; i++) if (data[start + i] !== expected.charCodeAt(i)) return false;
    return true;
  }

  /** Why the record may not be skipped for `reason`, or undefined when every reader refuses it for that. */
  #skippedProblem(record: SourceRecord, range: SourceRange, reason: SkipReason): string | undefined {
    const actual = this.#refusal(record, range);
    if (actual === undefined) return `listed as skipped (${reason}) but it is a valid transaction the block must carry`;
    if (actual !== reason) return `listed as skipped for ${reason}, but every reader refuses it for ${actual}`;
    if (reason !== 'duplicate') {
      // Decoded again, for skipped records only (rare): the id the refusal is looked up by.
      const carried = recordTransaction(record, range, this.#rules);
      if (carried.ok) this.refused.push({ partition: range.partition, offset: record.offset, reason, id: carried.value.id });
    }
    return undefined;
  }

  #refusal(record: SourceRecord, range: SourceRange): SkipReason | undefined {
    const admitted = admitRecord(record, range, this.#context.params, this.#rules);
    if (!admitted.ok) return admitted.error.reason;
    // The order of SKIP_REASONS: unauthorized, out-of-window, duplicate, insufficient-funds.
    const transaction = admitted.value;
    if (this.#ledger !== undefined && authorizationProblem(transaction, this.#ledger) !== undefined) return 'unauthorized';
    const { replayWindowMs } = this.#context.params;
    if (replayWindowMs !== undefined && replayWindowProblem(transaction, this.#context.block.timestamp, replayWindowMs) !== undefined) {
      return 'out-of-window';
    }
    const { id } = transaction;
    if (this.#context.hasTransaction(id) || this.#matched().has(id)) return 'duplicate';
    return this.#running !== undefined && fundsProblem(transaction, this.#running) !== undefined ? 'insufficient-funds' : undefined;
  }

  /** Ids of the transactions matched so far (built on the first `duplicate` to check). */
  #matched(): Set<string> {
    this.#matchedIds ??= new Set(this.#context.block.transactions.slice(1, this.next).map(({ id }) => id));
    return this.#matchedIds;
  }
}

/** A visited record as an object (only for the records that are not a transaction's stored form). */
function sourceRecord(offset: number, timestamp: number, data: Uint8Array, start: number, length: number): SourceRecord {
  return { offset, timestamp, value: length < 0 ? null : data.subarray(start, start + length) };
}

function rejected(detail: string): CoverageVerdict {
  return { status: 'rejected', detail };
}

/**
 * A complete, final log (a test fixture, an archive): the records of each partition and, optionally, its
 * end offset (default: one past its last record). No record will ever be added.
 */
export function finalSourceLog(
  topic: string,
  partitions: ReadonlyMap<number, readonly SourceRecord[]>,
  endOffsets: ReadonlyMap<number, number> = new Map(),
): SourceLog {
  return {
    topic,
    records: (partition, firstOffset, lastOffset) =>
      (partitions.get(partition) ?? []).filter(({ offset }) => offset >= firstOffset && offset <= lastOffset),
    readThrough: (partition) => (endOffsets.get(partition) ?? (partitions.get(partition)?.at(-1)?.offset ?? -1) + 1) - 1,
  };
}
