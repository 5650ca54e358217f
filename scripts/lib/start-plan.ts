// What `npm start` runs: one entry per process, with the settings it gets on top of the inherited
// environment. Pure, so the static checks can compare these names with what each service reads.
import { minerPorts, type StartOptions } from './start-options.js';

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
}

/** `keys` undefined: the article's open mode (no allow-list, unsigned transactions accepted). */
export function servicePlan(options: StartOptions, brokers: string, partitions: number, keys?: PlanKeys): PlannedService[] {
  const permissioned: Record<string, string> =
    keys === undefined
      ? {}
      : { ALLOWED_MINER_KEYS: keys.allowedMinerKeys.join(','), REQUIRE_TRANSACTION_SIGNATURES: 'true' };
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
        HTTP_PORT: String(options.ingestPort),
        AUDITOR_PUBLIC_URL: `http://localhost:${options.auditorPort}`,
        ...(keys === undefined ? {} : { REQUIRE_TRANSACTION_SIGNATURES: 'true' }),
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
    { name: 'auditor', service: 'auditor', port: options.auditorPort, env: { ...common, ...permissioned, HTTP_PORT: String(options.auditorPort) } },
  ];
}
