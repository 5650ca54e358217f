/**
 * Account balances and histories, from the canonical chain's transactions in order: every transaction moves
 * `amount` from `from` to `to` (docs/protocol.md §4.4: credits minus debits per account, "0" included).
 * Coinbases send from "0", the mint: its balance is minus the coins issued so far, and it is never flagged.
 *
 * Overspending policy (§4.4): the protocol does not check balances, so a balance may go negative. The
 * ledger never rejects; it flags every transaction whose amount exceeds its sender's balance at that point
 * (an overdraft) and keeps the set of accounts that are negative now.
 *
 * Balances are BigInts: single amounts are at most 2^53 - 1, sums of them need not be.
 *
 * Memory: the accounts (balance, counts) stay in the heap, one small entry per account (they grow with the
 * number of users, not with the chain's age); each account's history, one entry per transaction, is kept in
 * the IndexStore when it keeps the ledger (on disk with DATA_DIR), else in the account's entry here. Blocks
 * must be applied in chain order: the caller (AuditorState) applies each block once, after the one before it.
 */
import { ShardedMap } from '@chainlog/core/collections';
import { type Block, COINBASE_SENDER } from '@chainlog/core/protocol';
import type { AccountRecord, IndexStore } from '../store/index-store.js';
import { RecentList } from './lru.js';

interface AccountState {
  balance: bigint;
  /** Transactions of the account; its history (sequence numbers, see ChainIndex) is in the store or below. */
  transactionCount: number;
  overdrafts: number;
  /** The history itself, oldest first, when the store does not keep the ledger (IndexStore.persistent). */
  readonly history?: number[];
}

export interface OverdraftRecord {
  readonly account: string;
  readonly transactionId: string;
  readonly blockIndex: number;
  readonly position: number;
  readonly amount: number;
  readonly balanceBefore: bigint;
  readonly balanceAfter: bigint;
}

export interface AccountView {
  readonly account: string;
  readonly balance: bigint;
  readonly transactionCount: number;
  /** Transactions of this account that spent more than its balance at the time. */
  readonly overdrafts: number;
}

export class Ledger {
  readonly #accounts = new ShardedMap<string, AccountState>();
  readonly #negative = new ShardedMap<string, true>();
  readonly #overdrafts: RecentList<OverdraftRecord>;
  readonly #store: IndexStore;

  /**
   * Starts from `accounts` (a persisted ledger, IndexStore.accounts()) with `overdraftTotal` overdrafts so far,
   * the newest of them read back from the store (a restart shows the overdrafts found before it).
   */
  constructor(options: { store: IndexStore; recentOverdrafts?: number; accounts?: Iterable<[string, AccountRecord]>; overdraftTotal?: number }) {
    this.#store = options.store;
    const kept = options.overdraftTotal === undefined ? [] : options.store.recent('overdrafts').map((entry) => overdraftFromStore(entry as StoredOverdraft));
    this.#overdrafts = new RecentList(options.recentOverdrafts ?? 1000, options.overdraftTotal ?? 0, kept);
    for (const [id, record] of options.accounts ?? []) {
      this.#accounts.set(id, { balance: record.balance, transactionCount: record.transactionCount, overdrafts: record.overdrafts });
      this.#setBalance(id, record.balance);
    }
  }

  get accountCount(): number {
    return this.#accounts.size;
  }

  /** Accounts whose balance is below zero now ("0", the mint, excepted). */
  get overdrawnCount(): number {
    return this.#negative.size;
  }

  /** Transactions that overdrew their sender, since the start of the chain. */
  get overdraftCount(): number {
    return this.#overdrafts.total;
  }

  /**
   * Applies a canonical block whose first transaction has sequence number firstSeq; returns its overdrafts.
   * Call inside the store's batch: the accounts it changed are written to the store with it.
   */
  applyBlock(block: Block, firstSeq: number): OverdraftRecord[] {
    const overdrafts: OverdraftRecord[] = [];
    // Only a store that keeps the ledger gets its accounts and overdrafts (a memory store's ledger is this one).
    const keeps = this.#store.persistent;
    const touched = keeps ? new Set<string>() : undefined;
    block.transactions.forEach((transaction, position) => {
      const seq = firstSeq + position;
      const amount = BigInt(transaction.amount);
      const sender = this.#account(transaction.from);
      const receiver = this.#account(transaction.to);
      const balanceBefore = sender.balance;
      if (amount > balanceBefore && transaction.from !== COINBASE_SENDER) {
        sender.overdrafts++;
        const record: OverdraftRecord = {
          account: transaction.from,
          transactionId: transaction.id,
          blockIndex: block.index,
          position,
          amount: transaction.amount,
          balanceBefore,
          balanceAfter: transaction.from === transaction.to ? balanceBefore : balanceBefore - amount,
        };
        overdrafts.push(record);
        this.#overdrafts.push(record);
        if (keeps) this.#store.putRecent('overdrafts', this.#overdrafts.total - 1, overdraftToStore(record), this.#overdrafts.capacity);
      }
      this.#addHistory(transaction.from, sender, seq);
      touched?.add(transaction.from);
      if (sender === receiver) return;
      sender.balance -= amount;
      receiver.balance += amount;
      this.#setBalance(transaction.from, sender.balance);
      this.#setBalance(transaction.to, receiver.balance);
      this.#addHistory(transaction.to, receiver, seq);
      touched?.add(transaction.to);
    });
    for (const id of touched ?? []) this.#store.putAccount(id, this.#accounts.get(id) as AccountState);
    return overdrafts;
  }

  account(id: string): AccountView | undefined {
    const state = this.#accounts.get(id);
    if (state === undefined) return undefined;
    return { account: id, balance: state.balance, transactionCount: state.transactionCount, overdrafts: state.overdrafts };
  }

  /** Sequence numbers of the account's transactions [from, from + limit), oldest first. */
  history(id: string, from: number, limit: number): number[] {
    const state = this.#accounts.get(id);
    if (state === undefined || from >= state.transactionCount) return [];
    if (state.history !== undefined) return state.history.slice(from, from + limit);
    return this.#store.history(id, from, Math.min(limit, state.transactionCount - from));
  }

  /** Accounts with a negative balance now: the `limit` most negative (ties by account id). One pass, no full sort. */
  overdrawnAccounts(limit: number): AccountView[] {
    const chosen: AccountView[] = [];
    for (const id of this.#negative.keys()) {
      const view = this.account(id);
      if (view === undefined) continue;
      const last = chosen[chosen.length - 1];
      if (chosen.length >= limit && (last === undefined || compareOverdrawn(view, last) >= 0)) continue;
      let at = chosen.length;
      while (at > 0 && compareOverdrawn(view, chosen[at - 1] as AccountView) < 0) at--;
      chosen.splice(at, 0, view);
      if (chosen.length > limit) chosen.pop();
    }
    return chosen;
  }

  /** The most recent overdrafts, newest first. */
  recentOverdrafts(limit: number): OverdraftRecord[] {
    return this.#overdrafts.newestFirst(limit);
  }

  #account(id: string): AccountState {
    let state = this.#accounts.get(id);
    if (state === undefined) {
      state = { balance: 0n, transactionCount: 0, overdrafts: 0, ...(this.#store.persistent ? {} : { history: [] }) };
      this.#accounts.set(id, state);
    }
    return state;
  }

  /** Appends `seq` to the account's history: in the store, or in the account itself (IndexStore.persistent). */
  #addHistory(id: string, state: AccountState, seq: number): void {
    if (state.history !== undefined) state.history.push(seq);
    else this.#store.putHistory(id, state.transactionCount, seq);
    state.transactionCount++;
  }

  /** Keeps the set of overdrawn accounts up to date. */
  #setBalance(id: string, balance: bigint): void {
    if (balance < 0n && id !== COINBASE_SENDER) this.#negative.set(id, true);
    else this.#negative.delete(id);
  }
}

/** An overdraft as the store keeps it: balances as decimal strings (they may exceed 64 bits). */
type StoredOverdraft = Omit<OverdraftRecord, 'balanceBefore' | 'balanceAfter'> & { balanceBefore: string; balanceAfter: string };

function overdraftToStore(record: OverdraftRecord): StoredOverdraft {
  return { ...record, balanceBefore: record.balanceBefore.toString(), balanceAfter: record.balanceAfter.toString() };
}

function overdraftFromStore(stored: StoredOverdraft): OverdraftRecord {
  return { ...stored, balanceBefore: BigInt(stored.balanceBefore), balanceAfter: BigInt(stored.balanceAfter) };
}

function compareOverdrawn(a: AccountView, b: AccountView): number {
  if (a.balance !== b.balance) return a.balance < b.balance ? -1 : 1;
  return a.account < b.account ? -1 : a.account > b.account ? 1 : 0;
}

/** A ledger amount as JSON: a number while exactly representable, a decimal string beyond ±(2^53 - 1). */
export function amountJson(value: bigint): number | string {
  return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= -BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value.toString();
}
