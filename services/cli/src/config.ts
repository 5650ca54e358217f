// The environment the CLI reads: defaults for the global flags. Flags always win over the environment.

export const DEFAULT_INGEST_URL = 'http://localhost:8080';
export const DEFAULT_AUDITOR_URL = 'http://localhost:8082';
export const DEFAULT_BROKERS = '127.0.0.1:9092';

/** The variables of core's readConsensusConfig: the CLI reads them as every service does. */
export const CONSENSUS_VARIABLES = [
  'DIFFICULTY',
  'BLOCK_REWARD',
  'ALLOWED_MINER_KEYS',
  'ALLOWED_MINER_KEYS_FILE',
  'REQUIRE_TRANSACTION_SIGNATURES',
  'CONSENSUS_MAX_BLOCK_TRANSACTIONS',
  'REPLAY_WINDOW_MS',
  // The ledger rules are consensus too: `chain verify` without them would accept an overdraft the miners refused.
  'ENFORCE_BALANCES',
  'ACCOUNT_KEYS',
  'ACCOUNT_KEYS_FILE',
  'GENESIS_ALLOCATIONS',
] as const;

export interface CliEnvironment {
  ingestUrl: string;
  auditorUrl: string;
  brokers: string;
  /** CHAINLOG_TOKEN: the bearer token for ingest and the auditor when they require one (AUTH_TOKENS). */
  token: string | undefined;
  /** CHAINLOG_KEY_FILE: the key `tx send` and `demo` sign with when --key is not given. */
  keyFile: string | undefined;
  /** The consensus settings (DIFFICULTY, ALLOWED_MINER_KEYS, ...) as the services read them. */
  consensusEnv: Record<string, string | undefined>;
  /** Colours in human output: off with NO_COLOR (https://no-color.org), forced on with FORCE_COLOR. */
  color: boolean | undefined;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

export function readConfig(env: Record<string, string | undefined> = process.env): CliEnvironment {
  const forceColor = nonEmpty(env['FORCE_COLOR']);
  return {
    ingestUrl: nonEmpty(env['CHAINLOG_INGEST_URL']) ?? DEFAULT_INGEST_URL,
    auditorUrl: nonEmpty(env['CHAINLOG_AUDITOR_URL']) ?? DEFAULT_AUDITOR_URL,
    brokers: nonEmpty(env['CHAINLOG_BROKERS']) ?? nonEmpty(env['KAFKA_BROKERS']) ?? DEFAULT_BROKERS,
    keyFile: nonEmpty(env['CHAINLOG_KEY_FILE']),
    token: nonEmpty(env['CHAINLOG_TOKEN']),
    consensusEnv: Object.fromEntries(CONSENSUS_VARIABLES.map((name) => [name, env[name]])),
    color: nonEmpty(env['NO_COLOR']) !== undefined ? false : forceColor !== undefined ? forceColor !== '0' : undefined,
  };
}
