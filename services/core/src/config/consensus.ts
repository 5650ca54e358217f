// The consensus parameters. Every node (miners, auditor, verify command) must read the same values:
// the canonical chain is a function of the log's order and these parameters only.
import type { ConsensusParams } from '../protocol/index.js';
import type { EnvReader } from './env.js';

/**
 * Whether every user transaction must carry a valid signature: a consensus rule (miners dead-letter unsigned
 * transactions, the auditor rejects blocks with them) that ingest enforces at the door with the same setting,
 * so it never acknowledges a transaction the miners would then throw away.
 */
export function readSignaturePolicy(env: EnvReader): boolean {
  return env.boolean('REQUIRE_TRANSACTION_SIGNATURES', false);
}

export function readConsensusConfig(env: EnvReader): ConsensusParams {
  // ALLOWED_MINER_KEYS, or ALLOWED_MINER_KEYS_FILE: a file with the keys separated by commas, spaces or newlines
  // (a mounted ConfigMap, Compose's keys-init volume).
  const allowedMiners = [...new Set((env.secret('ALLOWED_MINER_KEYS') ?? '').split(/[\s,]+/).filter((key) => key !== ''))];
  for (const key of allowedMiners) {
    if (!/^[0-9a-f]{64}$/.test(key)) env.problem(`ALLOWED_MINER_KEYS must list raw Ed25519 public keys as 64 lowercase hex digits, got "${key}"`);
  }
  const maxBlockTransactions = env.optionalInteger('CONSENSUS_MAX_BLOCK_TRANSACTIONS', { min: 2, max: 1_000_000 });
  // At least a second (clocks of clients and miners differ by that much), at most 30 days.
  const replayWindowMs = env.optionalInteger('REPLAY_WINDOW_MS', { min: 1000, max: 30 * 86_400_000 });
  return {
    minDifficulty: env.integer('DIFFICULTY', 16, { min: 0, max: 64 }),
    blockReward: env.integer('BLOCK_REWARD', 50, { min: 1 }),
    ...(allowedMiners.length > 0 ? { allowedMiners } : {}),
    requireTransactionSignatures: readSignaturePolicy(env),
    ...(maxBlockTransactions === undefined ? {} : { maxBlockTransactions }),
    ...(replayWindowMs === undefined ? {} : { replayWindowMs }),
  };
}
