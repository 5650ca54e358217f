// The environment the CLI reads: defaults for the global flags. Flags always win over the environment.

export const DEFAULT_INGEST_URL = 'http://localhost:8080';
export const DEFAULT_AUDITOR_URL = 'http://localhost:8082';
export const DEFAULT_BROKERS = '127.0.0.1:9092';

export interface CliEnvironment {
  ingestUrl: string;
  auditorUrl: string;
  brokers: string;
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
    color: nonEmpty(env['NO_COLOR']) !== undefined ? false : forceColor !== undefined ? forceColor !== '0' : undefined,
  };
}
