// What `npm start` runs: one entry per process, with the settings it gets on top of the inherited
// environment. Pure, so the static checks can compare these names with what each service reads.
import { join, resolve } from 'node:path';
import { minerPorts, type StartOptions } from './start-options.js';
import { DEFAULT_ACCOUNTS } from '../../services/cli/src/sample-accounts.js';

export interface PlannedService {
  /** Name in the logs and the state file: ingest, miner-0, miner-1, ..., auditor. */
  name: string;
  /** Workspace under services/. */
  service: 'ingest' | 'miner' | 'auditor';
  port: number;
  /** Environment set for this process (on top of the inherited one). */
  env: Record<string, string>;
}

/** Permissioned mode: the miners' key files (miner i reads only file i) and the allow-list made of them. */
export interface PlanKeys {
  minerKeyFiles: readonly string[];
  allowedMinerKeys: readonly string[];
  /** The CLI's key: the sample accounts below belong to it (the ledger rules, docs/protocol.md §4.4). */
  clientPublicKey?: string;
}

/**
 * The accounts of the README and of `chainlog demo`, bound to the CLI key npm start generated and funded at
 * genesis: a permissioned ledger enforces balances and bindings, and a local sandbox needs accounts to try it.
 */
export const SAMPLE_ACCOUNTS = DEFAULT_ACCOUNTS;
export const SAMPLE_ALLOCATION = 1_000_000;

/** The ledger rules' settings for the sample accounts (miners and auditor must share them: consensus). */
function ledgerSettings(clientPublicKey: string | undefined): Record<string, string> {
  if (clientPublicKey === undefined) return {};
  return {
    ENFORCE_BALANCES: 'true',
    ACCOUNT_KEYS: SAMPLE_ACCOUNTS.map((account) => `${account}=${clientPublicKey}`).join(','),
    GENESIS_ALLOCATIONS: SAMPLE_ACCOUNTS.map((account) => `${account}=${SAMPLE_ALLOCATION}`).join(','),
  };
}

/** `keys` undefined: the article's open mode (no allow-list, unsigned transactions accepted). */
export function servicePlan(options: StartOptions, brokers: string, partitions: number, keys?: PlanKeys): PlannedService[] {
  const permissioned: Record<string, string> =
    keys === undefined
      ? {}
      : { ALLOWED_MINER_KEYS: keys.allowedMinerKeys.join(','), REQUIRE_TRANSACTION_SIGNATURES: 'true', ...ledgerSettings(keys.clientPublicKey) };
  const common: Record<string, string> = {
    KAFKA_BROKERS: brokers,
    HTTP_HOST: options.host,
    LOG_LEVEL: options.logLevel,
    // kafkajs' one-off notice about its v2 partitioner change is noise here.
    KAFKAJS_NO_PARTITIONER_WARNING: '1',
    ...(options.difficulty === undefined ? {} : { DIFFICULTY: String(options.difficulty) }),
  };
  const ports = minerPorts({ ...options, partitions });
  return [
    {
      name: 'ingest',
      service: 'ingest',
      port: options.ingestPort,
      env: {
        ...common,
        // The consensus settings too: ingest refuses at the door what every block would refuse (unsigned,
        // and with the ledger rules a spend by a key not bound to its sender).
        ...permissioned,
        HTTP_PORT: String(options.ingestPort),
        AUDITOR_PUBLIC_URL: `http://localhost:${options.auditorPort}`,
      },
    },
    ...ports.map((port, ordinal) => {
      const keyFile = keys?.minerKeyFiles[ordinal];
      if (keys !== undefined && keyFile === undefined) throw new Error(`no key file for miner-${ordinal}`);
      return {
        name: `miner-${ordinal}`,
        service: 'miner' as const,
        port,
        env: {
          ...common,
          ...permissioned,
          HTTP_PORT: String(port),
          MINER_ID: `miner-${ordinal}`,
          MINER_ORDINAL: String(ordinal),
          MINER_REPLICAS: String(partitions),
          TRANSACTIONS_PARTITIONS: String(partitions),
          // The path, never the key: the key stays out of every process's environment.
          ...(keyFile === undefined ? {} : { MINER_PRIVATE_KEY_FILE: keyFile }),
        },
      };
    }),
    {
      name: 'auditor',
      service: 'auditor',
      port: options.auditorPort,
      // Its transaction index on disk, kept across restarts (checked against the chain on start).
      env: { ...common, ...permissioned, HTTP_PORT: String(options.auditorPort), DATA_DIR: join(resolve(options.dataDir), 'auditor') },
    },
  ];
}
