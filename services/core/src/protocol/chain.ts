/**
 * The canonical chain as computed by every reader of the blockchain topic.
 *
 * Fork choice on a totally ordered log: reading the topic in offset order, a block joins the chain iff it
 * is valid and extends the current tip (index = tip index + 1, previousHash = tip hash); the first block
 * must be the genesis constant. Anything else is rejected with a reason. The outcome depends only on the
 * order of the log and the consensus parameters, so readers that share the parameters agree on the chain
 * block for block, whenever and wherever they read it. There is no longest-chain reorganisation: the log
 * already decided which of two competing blocks came first.
 *
 * Memory: the chain keeps the tip block, the last offset of every source partition and the committed
 * transaction ids needed to reject duplicates (every id, or with a replay window only the window's); it does
 * not keep blocks. See docs/protocol.md §5.
 */
import type { Block } from './block.js';
import { decodeBlockWithTransactionJson, parseBlock, type BlockDecodeError } from './block-codec.js';
import { checkBlockRules, type ChainView, type DecodingByProducts } from './block-rules.js';
import type { ConsensusParams, RejectionReason } from './consensus.js';
import { isPlainObject, parseJsonBytes } from './encoding.js';
import { COINBASE_SENDER, isAccountId, isSafeNonNegativeInteger } from './identifiers.js';
import { Balances, isKeyAccount, type LedgerParams } from './ledger.js';
import { MAX_DIFFICULTY } from './proof-of-work.js';
import type { Result } from './result.js';
import { PUBLIC_KEY_HEX_PATTERN } from './signatures.js';
import { checkCoverage, type RefusedRecord, type SourceLog } from './source-coverage.js';
import { canonicalTransactionJson } from './transaction.js';
import { AllIds, WindowedIds, type CommittedIds } from './committed-ids.js';
import type { RecentId } from './replay-window.js';

export interface ChainTip {
  readonly index: number;
  readonly hash: string;
  readonly block: Block;
}

export interface SourceOffset {
  readonly topic: string;
  readonly partition: number;
  /** The last offset of this partition some block of the chain consumed. */
  readonly lastOffset: number;
}

export type ApplyResult =
  | {
      readonly accepted: true;
      readonly block: Block;
      /** What source coverage found the block refusing (absent when it was not checked against records, or refused none). */
      readonly refused?: readonly RefusedRecord[];
    }
  | {
      readonly accepted: false;
      readonly reason: RejectionReason;
      readonly detail: string;
      /** The block's own index and miner, when they could be read: for logs and metrics only. */
      readonly claimedIndex?: number;
      readonly claimedMiner?: string;
    };

/** The outcome of Chain.evaluate: decided, or waiting for the reader to read a partition further. */
export type Evaluation =
  | { readonly status: 'decided'; readonly result: ApplyResult }
  | {
      readonly status: 'waiting';
      readonly topic: string;
      readonly partition: number;
      /** The offset through which the partition must be read before the block can be decided. */
      readonly offset: number;
      readonly detail: string;
      readonly claimedIndex: number;
      readonly claimedMiner: string;
    };

/**
 * Everything a reader needs to continue the chain at its tip without replaying it (a checkpoint's content,
 * docs/protocol.md §5.1). Only chains with a replay window have one: without it the state is every id ever.
 */
export interface ChainState {
  /** The tip block (a checkpoint names it; the reader takes it from the blockchain topic). */
  readonly tip: Block;
  /** Committed transactions, coinbases included. */
  readonly transactionCount: number;
  /** Sorted by topic, then partition. */
  readonly sourceOffsets: readonly SourceOffset[];
  /** The replay window's ids, sorted by id. */
  readonly recentIds: readonly RecentId[];
  /** With ledger rules: every account's balance (Balances.entries: decimal strings, sorted by account). */
  readonly balances?: ReadonlyArray<readonly [string, string]>;
}

function unreachable(): never {
  throw new Error('a block cannot wait for the transactions topic when coverage is not checked');
}

export class Chain implements ChainView {
  readonly params: ConsensusParams;
  #tip: ChainTip | undefined;
  #ids: CommittedIds;
  #transactionCount = 0;
  readonly #sourceOffsets = new Map<string, Map<number, number>>();
  /** Blocks committed so far: a check() result holds for as long as this is unchanged. */
  #commits = 0;
  /** The last message evaluate() left waiting, decoded and past every rule but coverage at #commits. */
  #waiting: { readonly input: Block | Uint8Array; readonly commits: number; readonly block: Block; readonly transactionJson: readonly string[] } | undefined;
  /** Only with ledger rules (params.ledger): balances are then consensus. */
  #balances: Balances | undefined;

  /** Throws on parameters no chain could use (a configuration error, caught at startup). */
  constructor(params: ConsensusParams) {
    this.params = validatedParams(params);
    const windowMs = this.params.replayWindowMs;
    this.#ids = windowMs === undefined ? new AllIds() : new WindowedIds(windowMs);
    const { ledger } = this.params;
    if (ledger !== undefined) this.#balances = new Balances(ledger.allocations);
  }

  /** The account's balance as of the tip; always 0 on a chain without ledger rules (it keeps none). */
  balance(account: string): bigint {
    return this.#balances?.balance(account) ?? 0n;
  }

  /**
   * Continues this empty chain at a state some reader computed (a verified checkpoint, checkpoint.ts): the
   * next block it accepts extends `state.tip`. The caller vouches for the state: this checks its shape, not
   * that replaying the chain would give it.
   */
  continueFrom(state: ChainState): void {
    const windowMs = this.params.replayWindowMs;
    if (windowMs === undefined) throw new RangeError('only a chain with a replay window can continue from a state');
    if (this.#tip !== undefined) throw new Error('the chain is not empty');
    this.#ids = new WindowedIds(windowMs, state.recentIds, state.tip.timestamp);
    this.#transactionCount = state.transactionCount;
    for (const { topic, partition, lastOffset } of state.sourceOffsets) this.#setSourceOffset(topic, partition, lastOffset);
    if (this.#balances !== undefined) {
      if (state.balances === undefined) throw new RangeError('a chain with ledger rules needs the balances of the state it continues from');
      this.#balances = Balances.fromEntries(state.balances);
    }
    this.#tip = { index: state.tip.index, hash: state.tip.hash, block: state.tip };
    this.#commits += 1;
  }

  /** The state to continue from (see ChainState); undefined while empty or without a replay window. */
  state(): ChainState | undefined {
    const tip = this.#tip;
    if (tip === undefined || !(this.#ids instanceof WindowedIds)) return undefined;
    const sourceOffsets = this.sourceOffsets().sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition));
    const balances = this.#balances?.entries();
    return {
      tip: tip.block,
      transactionCount: this.#transactionCount,
      sourceOffsets,
      recentIds: this.#ids.live(),
      ...(balances === undefined ? {} : { balances }),
    };
  }

  /** Transaction ids held to reject duplicates: all of them, or (replay window) only the window's. */
  get keptTransactionIds(): number {
    return this.#ids.size;
  }

  get tip(): ChainTip | undefined {
    return this.#tip;
  }

  get tipBlock(): Block | undefined {
    return this.#tip?.block;
  }

  /** Index of the tip block; -1 while the chain is empty. */
  get height(): number {
    return this.#tip?.index ?? -1;
  }

  /**
   * Identifies the chain's state for applyChecked: it changes with every committed block, and check() is
   * a function of the block, this state and the consensus parameters only.
   */
  get version(): number {
    return this.#commits;
  }

  /** Committed transactions, coinbases included. */
  get transactionCount(): number {
    return this.#transactionCount;
  }

  /** Whether a transaction with this id would now be a duplicate (with a replay window: committed within it). */
  hasTransaction(id: string): boolean {
    return this.#ids.has(id);
  }

  /** Miners resume consuming a partition at this + 1 (at 0 when undefined). */
  lastSourceOffset(topic: string, partition: number): number | undefined {
    return this.#sourceOffsets.get(topic)?.get(partition);
  }

  sourceOffsets(): SourceOffset[] {
    return [...this.#sourceOffsets].flatMap(([topic, partitions]) =>
      [...partitions].map(([partition, lastOffset]) => ({ topic, partition, lastOffset })),
    );
  }

  /**
   * Whether the block (decoded, or the raw message bytes) would be accepted now by every rule except
   * source coverage (which needs the transactions topic: see evaluate); changes nothing. `known`: what the
   * caller already computed about a decoded block's transactions (a miner checking the block it has just
   * assembled passes the transaction hashes of its Merkle root), which must be exact.
   */
  check(input: Block | Uint8Array, known: DecodingByProducts = {}): ApplyResult {
    const outcome = this.#evaluate(input, known, undefined);
    return outcome.status === 'waiting' ? unreachable() : outcome.result;
  }

  /**
   * The full verdict on the block, source coverage included (docs/protocol.md §3.7), against what this
   * reader has read of the transactions topic: accepted or rejected with a reason, or 'waiting' when the
   * block claims offsets the reader has not read yet and nothing read so far contradicts it. Changes nothing.
   */
  evaluate(input: Block | Uint8Array, log: SourceLog, known: DecodingByProducts = {}): Evaluation {
    return this.#evaluate(input, known, log);
  }

  /**
   * Reads the next block of the blockchain topic: it extends the chain if it is valid. Coverage is
   * checked against `log`, which must be final (finalSourceLog): a block it cannot decide is rejected as
   * claiming offsets past the partition's end. Without a log, coverage is not checked: only for offline
   * tools that say so (a kcat dump of the blockchain topic alone); live readers use ChainFollower.
   */
  apply(input: Block | Uint8Array, log?: SourceLog): ApplyResult {
    const outcome = this.#evaluate(input, {}, log);
    if (outcome.status === 'waiting') {
      const { detail, claimedIndex, claimedMiner } = outcome;
      return { accepted: false, reason: 'bad-source-coverage', detail: `${detail}, the end of the log`, claimedIndex, claimedMiner };
    }
    if (outcome.result.accepted) this.#commit(outcome.result.block);
    return outcome.result;
  }

  #evaluate(input: Block | Uint8Array, known: DecodingByProducts, log: SourceLog | undefined): Evaluation {
    // A reader waiting for a block's source records evaluates the same message again and again: every rule
    // but coverage passed already on this chain state, so only coverage is checked again (a replay waits on
    // most blocks, and decoding and the Merkle root were then half of its CPU time).
    const waited = this.#waiting;
    if (waited !== undefined && waited.input === input && waited.commits === this.#commits && log !== undefined) {
      return this.#coverage(waited.block, waited.transactionJson, log);
    }
    this.#waiting = undefined;
    const decoded = decodeInput(input, known);
    if (!decoded.ok) {
      const { field, problem } = decoded.error;
      return {
        status: 'decided',
        result: {
          accepted: false,
          reason: decoded.error.reason,
          detail: `${field} ${problem}`,
          ...claims(input),
        },
      };
    }
    const { block } = decoded.value;
    const claimed = { claimedIndex: block.index, claimedMiner: block.miner };
    const rejection = checkBlockRules(block, this, this.params, decoded.value);
    if (rejection !== undefined) return { status: 'decided', result: { accepted: false, ...rejection, ...claimed } };
    if (log === undefined || block.sources.length === 0) return { status: 'decided', result: { accepted: true, block } };
    const transactionJson = decoded.value.transactionJson ?? block.transactions.map(canonicalTransactionJson);
    const evaluation = this.#coverage(block, transactionJson, log);
    if (evaluation.status === 'waiting') this.#waiting = { input, commits: this.#commits, block, transactionJson };
    return evaluation;
  }

  /** The source-coverage part of #evaluate, for a block that passed every other rule. */
  #coverage(block: Block, transactionJson: readonly string[], log: SourceLog): Evaluation {
    const claimed = { claimedIndex: block.index, claimedMiner: block.miner };
    const verdict = checkCoverage(
      { block, transactionJson, params: this.params, hasTransaction: (id) => this.hasTransaction(id), balance: (account) => this.balance(account) },
      log,
    );
    switch (verdict.status) {
      case 'covered':
        return { status: 'decided', result: { accepted: true, block, ...(verdict.refused.length === 0 ? {} : { refused: verdict.refused }) } };
      case 'rejected':
        return { status: 'decided', result: { accepted: false, reason: 'bad-source-coverage', detail: verdict.detail, ...claimed } };
      case 'waiting':
        return { ...verdict, ...claimed };
    }
  }

  /**
   * Applies a block that check() accepted while the chain was at `checkedAtVersion`. When nothing was
   * committed since, the verdict still holds and the block is committed without validating it again (a
   * miner reading back the block it has just checked and published); otherwise it is validated as usual.
   */
  applyChecked(block: Block, checkedAtVersion: number, log?: SourceLog): ApplyResult {
    if (checkedAtVersion !== this.#commits) return this.apply(block, log);
    this.#commit(block);
    return { accepted: true, block };
  }

  #commit(block: Block): void {
    this.#commits += 1;
    this.#ids.commit(block);
    this.#transactionCount += block.transactions.length;
    this.#balances?.commit(block);
    for (const { topic, partition, lastOffset } of block.sources) this.#setSourceOffset(topic, partition, lastOffset);
    this.#tip = { index: block.index, hash: block.hash, block };
  }

  #setSourceOffset(topic: string, partition: number, lastOffset: number): void {
    let partitions = this.#sourceOffsets.get(topic);
    if (partitions === undefined) this.#sourceOffsets.set(topic, (partitions = new Map()));
    partitions.set(partition, lastOffset);
  }
}

function validatedParams(params: ConsensusParams): ConsensusParams {
  const { minDifficulty, blockReward, allowedMiners, maxBlockTransactions, replayWindowMs } = params;
  if (!Number.isInteger(minDifficulty) || minDifficulty < 0 || minDifficulty > MAX_DIFFICULTY) {
    throw new RangeError(`minDifficulty must be an integer 0..${MAX_DIFFICULTY}`);
  }
  if (!Number.isSafeInteger(blockReward) || blockReward < 1) throw new RangeError('blockReward must be a positive integer');
  if (allowedMiners?.some((key) => !new RegExp(PUBLIC_KEY_HEX_PATTERN).test(key)) === true) {
    throw new RangeError('allowedMiners must be raw Ed25519 public keys as 64 lowercase hex digits');
  }
  if (maxBlockTransactions !== undefined && (!Number.isSafeInteger(maxBlockTransactions) || maxBlockTransactions < 1)) {
    throw new RangeError('maxBlockTransactions must be a positive integer');
  }
  if (replayWindowMs !== undefined && (!Number.isSafeInteger(replayWindowMs) || replayWindowMs < 1)) {
    throw new RangeError('replayWindowMs must be a positive integer');
  }
  if (params.ledger !== undefined) ledgerParamsProblem(params.ledger, allowedMiners);
  return Object.freeze({ ...params, ...(allowedMiners === undefined ? {} : { allowedMiners: Object.freeze([...allowedMiners]) }) });
}

function ledgerParamsProblem(ledger: LedgerParams, allowedMiners: readonly string[] | undefined): void {
  if (allowedMiners === undefined) throw new RangeError('ledger rules need a permissioned chain (allowedMiners)');
  for (const [account, keys] of Object.entries(ledger.accountKeys ?? {})) {
    if (!isAccountId(account) || account === COINBASE_SENDER) throw new RangeError(`ledger.accountKeys: "${account}" is not an account id`);
    // A key account is bound by its name, to that key alone (docs/protocol.md §4.4): listing it would bind more.
    if (isKeyAccount(account)) throw new RangeError(`ledger.accountKeys: "${account}" is a key account, bound to that key alone`);
    if (keys.some((key) => !new RegExp(PUBLIC_KEY_HEX_PATTERN).test(key))) {
      throw new RangeError(`ledger.accountKeys.${account} must list raw Ed25519 public keys as 64 lowercase hex digits`);
    }
  }
  for (const [account, amount] of Object.entries(ledger.allocations ?? {})) {
    if (!isAccountId(account) || account === COINBASE_SENDER) throw new RangeError(`ledger.allocations: "${account}" is not an account id`);
    if (!Number.isSafeInteger(amount) || amount < 0) throw new RangeError(`ledger.allocations.${account} must be a non-negative integer`);
  }
}

/** The block, and what decoding it computed that the rules can reuse (from bytes: transaction JSON). */
function decodeInput(
  input: Block | Uint8Array,
  known: DecodingByProducts,
): Result<{ readonly block: Block } & DecodingByProducts, BlockDecodeError> {
  if (input instanceof Uint8Array) return decodeBlockWithTransactionJson(input);
  const parsed = parseBlock(input);
  return parsed.ok ? { ok: true, value: { ...known, block: parsed.value } } : parsed;
}

/** Best-effort index and miner of a block that failed to decode. */
function claims(input: unknown): { claimedIndex?: number; claimedMiner?: string } {
  const value = input instanceof Uint8Array ? parseJsonBytes(input) : { ok: true as const, value: input };
  if (!value.ok || !isPlainObject(value.value)) return {};
  const { index, miner } = value.value;
  return {
    ...(isSafeNonNegativeInteger(index) ? { claimedIndex: index } : {}),
    ...(typeof miner === 'string' ? { claimedMiner: miner.slice(0, 64) } : {}),
  };
}
