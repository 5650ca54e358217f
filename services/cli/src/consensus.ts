// The consensus parameters of the commands that judge blocks themselves (chain verify, chain tail
// --kafka): core's readConsensusConfig over the same variables the miners and the auditor read (from the
// environment or the configuration file), each overridable by a flag. Never a laxer default of the
// CLI's own: a reader with other parameters computes another chain.
import { ConfigError, EnvReader, readConsensusConfig } from '@chainlog/core/config';
import type { ConsensusParams } from '@chainlog/core/protocol';
import { flag, optionalString, UsageError, type OptionSpec, type OptionValues } from './args.js';

/** Flags that override the consensus environment variables the services read. */
const CONSENSUS_FLAGS = {
  difficulty: 'DIFFICULTY',
  'block-reward': 'BLOCK_REWARD',
  'allowed-miner-keys': 'ALLOWED_MINER_KEYS',
  'max-block-transactions': 'CONSENSUS_MAX_BLOCK_TRANSACTIONS',
  'replay-window-ms': 'REPLAY_WINDOW_MS',
} as const;

export const CONSENSUS_OPTIONS = {
  difficulty: { type: 'string', value: 'BITS', description: 'minimum difficulty (env DIFFICULTY, default 16)' },
  'block-reward': { type: 'string', value: 'N', description: 'coinbase amount (env BLOCK_REWARD, default 50)' },
  'allowed-miner-keys': { type: 'string', value: 'HEX,...', description: 'permissioned chain: allowed miner keys (env ALLOWED_MINER_KEYS)' },
  'require-transaction-signatures': { type: 'boolean', description: 'every transaction must be signed (env REQUIRE_TRANSACTION_SIGNATURES)' },
  'max-block-transactions': { type: 'string', value: 'N', description: 'transactions per block (env CONSENSUS_MAX_BLOCK_TRANSACTIONS)' },
  'replay-window-ms': { type: 'string', value: 'MS', description: 'replay window of client-chosen ids (env REPLAY_WINDOW_MS)' },
} as const satisfies Record<string, OptionSpec>;

export function consensusParams(env: Readonly<Record<string, string | undefined>>, options: OptionValues): ConsensusParams {
  const merged: Record<string, string | undefined> = { ...env };
  for (const [name, variable] of Object.entries(CONSENSUS_FLAGS)) {
    const value = optionalString(options, name);
    if (value !== undefined) merged[variable] = value;
  }
  if (flag(options, 'require-transaction-signatures')) merged['REQUIRE_TRANSACTION_SIGNATURES'] = 'true';
  const reader = new EnvReader(merged);
  const params = readConsensusConfig(reader);
  doneOrUsageError(reader);
  return params;
}

/** Bad settings (from the environment, a configuration file or a flag) are a usage error, exit 2. */
export function doneOrUsageError(reader: EnvReader): void {
  try {
    reader.done();
  } catch (error) {
    if (error instanceof ConfigError) throw new UsageError(error.problems.join('; '));
    throw error;
  }
}

/** The transactions topic the chain's blocks draw from (source coverage), named as the services name it. */
export function transactionsTopic(env: Readonly<Record<string, string | undefined>>): string {
  const name = env['TOPIC_TRANSACTIONS']?.trim();
  return name === undefined || name === '' ? 'transactions' : name;
}
