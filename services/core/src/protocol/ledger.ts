/**
 * The permissioned ledger (docs/protocol.md §4.4): which keys may spend from an account, and balances as
 * part of consensus. The chain state this adds is `Balances` (one exact integer per account); the
 * bindings are consensus parameters and never change, so there is nothing else to keep or checkpoint.
 *
 * Bindings. An account is bound to keys in one of two ways, and to nothing else:
 * - a key account: an id of exactly 64 lowercase hex digits is the raw Ed25519 public key that owns it
 *   (self-certifying: anyone makes one with `chainlog key new`, no registration, nothing to trust);
 * - a named account (`alice`, `treasury`): bound to the keys `LedgerParams.accountKeys` lists for it, fixed
 *   when the chain is created, like the allowed miners.
 * A transaction may spend from an account only when it is signed by a key bound to it (`unauthorized`
 * otherwise); an account bound to no key can receive but never spend.
 *
 * Balances start at `LedgerParams.allocations`, every coinbase credits its miner, every transaction moves its
 * amount; a transaction that would take its sender's balance below zero is refused (`insufficient-funds`),
 * judged in block order after every earlier transaction of the chain and of its block. Amounts are exact
 * (bigint): sums may exceed 2^53.
 */
import type { Block } from './block.js';
import { COINBASE_SENDER } from './identifiers.js';
import type { Transaction } from './transaction.js';
import { blockVersion } from './version.js';

export interface LedgerParams {
  /** Named accounts and the raw Ed25519 public keys (hex) that may spend from them. */
  readonly accountKeys?: Readonly<Record<string, readonly string[]>>;
  /** Balances before the first block, in minor units. */
  readonly allocations?: Readonly<Record<string, number>>;
}

const KEY_ACCOUNT = /^[0-9a-f]{64}$/;

/** An account named by its own public key. */
export function isKeyAccount(account: string): boolean {
  return KEY_ACCOUNT.test(account);
}

/** Whether a block is judged by the ledger rules: the chain has them and the block is version 2 or later. */
export function enforcesLedger(ledger: LedgerParams | undefined, block: { readonly version?: number }): ledger is LedgerParams {
  return ledger !== undefined && blockVersion(block) >= 2;
}

/** Why `transaction` may not spend from its sender (`unauthorized`), or undefined when it may. */
export function authorizationProblem(transaction: Pick<Transaction, 'from' | 'publicKey' | 'signature'>, ledger: LedgerParams): string | undefined {
  const { from, publicKey, signature } = transaction;
  if (publicKey === undefined || signature === undefined) return `is not signed, and only a key bound to ${from} may spend from it`;
  if (publicKey === from) return undefined;
  if (ledger.accountKeys?.[from]?.includes(publicKey) === true) return undefined;
  return isKeyAccount(from) || ledger.accountKeys?.[from] !== undefined
    ? `is signed by ${publicKey}, which is not bound to ${from}`
    : `sends from ${from}, which no key is bound to`;
}

/** What the rules read of balances. */
export interface BalanceView {
  /** The account's balance in minor units (0 for an account never seen, unless allocated). */
  balance(account: string): bigint;
}

/** Why `transaction` would overdraw its sender (`insufficient-funds`), or undefined when it would not. */
export function fundsProblem(transaction: Transaction, balances: BalanceView): string | undefined {
  const balance = balances.balance(transaction.from);
  return BigInt(transaction.amount) > balance ? `sends ${transaction.amount} from ${transaction.from}, whose balance is ${balance}` : undefined;
}

/** Every account's balance, as of the chain's tip: the chain state the ledger adds. */
export class Balances implements BalanceView {
  readonly #balances = new Map<string, bigint>();

  constructor(allocations: Readonly<Record<string, number>> = {}) {
    for (const [account, amount] of Object.entries(allocations)) this.#balances.set(account, BigInt(amount));
  }

  /** From entries() of another instance (a checkpoint). */
  static fromEntries(entries: Iterable<readonly [string, string]>): Balances {
    const balances = new Balances();
    for (const [account, amount] of entries) balances.#balances.set(account, BigInt(amount));
    return balances;
  }

  balance(account: string): bigint {
    return this.#balances.get(account) ?? 0n;
  }

  /** Accounts and balances (decimal strings, exact at any size), sorted by account: what a checkpoint keeps. */
  entries(): Array<[string, string]> {
    return [...this.#balances]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([account, amount]) => [account, amount.toString()]);
  }

  get size(): number {
    return this.#balances.size;
  }

  /** Applies every transaction of an accepted block, coinbase included (balances may be negative only for "0"). */
  commit(block: Pick<Block, 'transactions'>): void {
    for (const transaction of block.transactions) this.transfer(transaction);
  }

  transfer({ from, to, amount }: Pick<Transaction, 'from' | 'to' | 'amount'>): void {
    const value = BigInt(amount);
    this.#balances.set(from, this.balance(from) - value);
    this.#balances.set(to, this.balance(to) + value);
  }
}

/** Balances inside a block being judged: the chain's, plus what the block's transactions so far moved. */
export class RunningBalances implements BalanceView {
  readonly #base: BalanceView;
  readonly #changes = new Map<string, bigint>();

  constructor(base: BalanceView) {
    this.#base = base;
  }

  balance(account: string): bigint {
    return this.#changes.get(account) ?? this.#base.balance(account);
  }

  transfer({ from, to, amount }: Pick<Transaction, 'from' | 'to' | 'amount'>): void {
    const value = BigInt(amount);
    this.#changes.set(from, this.balance(from) - value);
    this.#changes.set(to, this.balance(to) + value);
  }
}

/**
 * The ledger rules on a block's transactions (the block rule; the miner and source coverage apply the same
 * checks record by record): the first user transaction, in block order, that is unauthorized or overdraws.
 */
export function ledgerRefusal(
  transactions: readonly Transaction[],
  ledger: LedgerParams,
  balances: BalanceView,
): { readonly reason: 'unauthorized' | 'insufficient-funds'; readonly index: number; readonly detail: string } | undefined {
  const running = new RunningBalances(balances);
  for (const [index, transaction] of transactions.entries()) {
    if (index > 0 || transaction.from !== COINBASE_SENDER) {
      const unauthorized = authorizationProblem(transaction, ledger);
      if (unauthorized !== undefined) return { reason: 'unauthorized', index, detail: unauthorized };
      const overdraft = fundsProblem(transaction, running);
      if (overdraft !== undefined) return { reason: 'insufficient-funds', index, detail: overdraft };
    }
    running.transfer(transaction);
  }
  return undefined;
}
