// The consensus parameters. Every node (miners, auditor, verify command) must read the same values:
// the canonical chain is a function of the log's order and these parameters only.
import type { ConsensusParams, LedgerParams } from '../protocol/index.js';
import type { EnvReader } from './env.js';

/**
 * Whether every user transaction must carry a valid signature: a consensus rule (miners dead-letter unsigned
 * transactions, the auditor rejects blocks with them) that ingest enforces at the door with the same setting,
 * so it never acknowledges a transaction the miners would then throw away.
 */
export function readSignaturePolicy(env: EnvReader): boolean {
  return env.boolean('REQUIRE_TRANSACTION_SIGNATURES', false);
}

/**
 * The replay window (docs/protocol.md §2.5), undefined when unset: a consensus rule that ingest also applies
 * at the door, so it never acknowledges a transaction whose timestamp the miners would refuse.
 */
export function readReplayWindow(env: EnvReader): number | undefined {
  // At least a second (clocks of clients and miners differ by that much), at most 30 days.
  return env.optionalInteger('REPLAY_WINDOW_MS', { min: 1000, max: 30 * 86_400_000 });
}

export function readConsensusConfig(env: EnvReader): ConsensusParams {
  // ALLOWED_MINER_KEYS, or ALLOWED_MINER_KEYS_FILE: a file with the keys separated by commas, spaces or newlines
  // (a mounted ConfigMap, Compose's keys-init volume).
  const allowedMiners = [...new Set((env.secret('ALLOWED_MINER_KEYS') ?? '').split(/[\s,]+/).filter((key) => key !== ''))];
  for (const key of allowedMiners) {
    if (!/^[0-9a-f]{64}$/.test(key)) env.problem(`ALLOWED_MINER_KEYS must list raw Ed25519 public keys as 64 lowercase hex digits, got "${key}"`);
  }
  const maxBlockTransactions = env.optionalInteger('CONSENSUS_MAX_BLOCK_TRANSACTIONS', { min: 2, max: 1_000_000 });
  const replayWindowMs = readReplayWindow(env);
  const ledger = readLedgerConfig(env, allowedMiners.length > 0);
  return {
    minDifficulty: env.integer('DIFFICULTY', 16, { min: 0, max: 64 }),
    blockReward: env.integer('BLOCK_REWARD', 50, { min: 1 }),
    ...(allowedMiners.length > 0 ? { allowedMiners } : {}),
    requireTransactionSignatures: readSignaturePolicy(env),
    ...(maxBlockTransactions === undefined ? {} : { maxBlockTransactions }),
    ...(replayWindowMs === undefined ? {} : { replayWindowMs }),
    ...(ledger === undefined ? {} : { ledger }),
  };
}

const ACCOUNT = /^[A-Za-z0-9._:@-]{1,64}$/;
const KEY = /^[0-9a-f]{64}$/;

/**
 * The permissioned ledger (docs/protocol.md §4.4): ENFORCE_BALANCES=true turns it on (with ALLOWED_MINER_KEYS);
 * ACCOUNT_KEYS binds named accounts to keys (`alice=<key>,alice=<other key>,bob=<key>`) and
 * GENESIS_ALLOCATIONS gives the initial balances (`alice=1000,bob=50`). Accounts named by a key need no entry.
 */
function readLedgerConfig(env: EnvReader, permissioned: boolean): LedgerParams | undefined {
  const enforced = env.boolean('ENFORCE_BALANCES', false);
  // ACCOUNT_KEYS, or ACCOUNT_KEYS_FILE: a file with the entries separated by commas, spaces or newlines (Compose's
  // keys-init writes one binding the sample accounts to the key it generated for the CLI).
  const bindings = (env.secret('ACCOUNT_KEYS') ?? '').split(/[\s,]+/).filter((entry) => entry !== '');
  const allocations = env.list('GENESIS_ALLOCATIONS', []);
  if (!enforced) {
    if (bindings.length > 0 || allocations.length > 0) env.problem('ACCOUNT_KEYS and GENESIS_ALLOCATIONS need ENFORCE_BALANCES=true');
    return undefined;
  }
  if (!permissioned) env.problem('ENFORCE_BALANCES=true needs a permissioned chain (ALLOWED_MINER_KEYS)');
  // Maps, then Object.fromEntries: an account named __proto__ becomes an own property like any other.
  const accountKeys = new Map<string, string[]>();
  for (const entry of bindings) {
    const [account = '', key = ''] = entry.split('=');
    if (!ACCOUNT.test(account) || account === '0' || !KEY.test(key)) {
      env.problem(`ACCOUNT_KEYS entries are <account>=<raw Ed25519 public key, 64 lowercase hex digits>, got "${entry}"`);
      continue;
    }
    if (KEY.test(account)) {
      env.problem(`ACCOUNT_KEYS cannot bind ${account}: an account named by 64 hex digits is a key account, bound to that key alone`);
      continue;
    }
    accountKeys.set(account, [...(accountKeys.get(account) ?? []), key]);
  }
  const balances = new Map<string, number>();
  for (const entry of allocations) {
    const [account = '', amount = ''] = entry.split('=');
    const value = /^(0|[1-9][0-9]*)$/.test(amount) ? Number(amount) : Number.NaN;
    if (!ACCOUNT.test(account) || account === '0' || !Number.isSafeInteger(value) || balances.has(account)) {
      env.problem(`GENESIS_ALLOCATIONS entries are <account>=<integer 0..${Number.MAX_SAFE_INTEGER}>, each account once, got "${entry}"`);
      continue;
    }
    balances.set(account, value);
  }
  return { accountKeys: Object.fromEntries(accountKeys), allocations: Object.fromEntries(balances) };
}
