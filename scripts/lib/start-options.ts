// The options of `npm start` (scripts/start.ts): flags win over environment variables, which win over
// the defaults. Pure, so it is unit-tested.
import { parseArgs } from 'node:util';

export interface StartOptions {
  /** Root of the local state: the broker in <dataDir>/kafka, logs and pids in <dataDir>/run. */
  dataDir: string;
  /** Delete the broker's data (so every topic starts empty) before starting. */
  fresh: boolean;
  kafkaPort: number;
  controllerPort: number;
  /** Use this Kafka instead of starting one. */
  externalBrokers: string | undefined;
  ingestPort: number;
  auditorPort: number;
  /** The first miner's port; miner i gets the i-th free port from here (skipping ingest and auditor). */
  minerPort: number;
  partitions: number;
  /** Passed to miners and auditor as DIFFICULTY when set (the services' default otherwise). */
  difficulty: number | undefined;
  /** Run the TypeScript sources with tsx instead of building and running dist. */
  source: boolean;
  build: boolean;
  logLevel: string;
  /** undefined: colours when stdout is a terminal. */
  colours: boolean | undefined;
  /**
   * The article's open mode: no miner keys, no allow-list, unsigned transactions accepted. Off by default:
   * `npm start` generates miner keys under <dataDir>/keys and runs permissioned with signed transactions.
   */
  open: boolean;
  /** Address every service's HTTP server binds (127.0.0.1: reachable from this machine only). */
  host: string;
  /** How long to wait for every service to report ready before giving up. */
  readyTimeoutMs: number;
}

export const START_USAGE = `usage: npm start -- [options]

Builds the services, starts a local Kafka broker (or uses --brokers), creates the topics and runs ingest,
one miner per transactions partition and the auditor, restarting any that crash. Ctrl-C stops everything.

options (environment variable in parentheses):
  --fresh                 delete the broker's data first: every topic starts empty
  --data-dir DIR          local state (CHAINLOG_DATA_DIR, default .data): broker in DIR/kafka, logs in DIR/run/logs
  --kafka-port N          broker port (KAFKA_PORT, default 9092)
  --controller-port N     KRaft controller port (KAFKA_CONTROLLER_PORT, default 9093)
  --brokers HOST:PORT     use this Kafka instead of starting one (CHAINLOG_BROKERS)
  --ingest-port N         (CHAINLOG_INGEST_PORT, default 8080)
  --auditor-port N        (CHAINLOG_AUDITOR_PORT, default 8082)
  --miner-port N          first miner's port (CHAINLOG_MINER_PORT, default 8081; then 8083, 8084, ...)
  --partitions N          transactions partitions = miners (TRANSACTIONS_PARTITIONS, default 2)
  --difficulty N          proof-of-work difficulty in bits (DIFFICULTY, default: the services' 16)
  --log-level LEVEL       services' log level (LOG_LEVEL, default info)
  --open                  the article's open mode: no miner keys, unsigned transactions accepted
                          (default: permissioned, miner keys generated in DIR/keys, signed transactions only)
  --host ADDRESS          address the services' HTTP APIs bind (CHAINLOG_HOST, default 127.0.0.1;
                          0.0.0.0 exposes them to the network)
  --source                run the TypeScript sources with tsx instead of building dist
  --no-build              run dist as it is, without tsc -b first
  --no-color              plain output (also NO_COLOR=1)
  -h, --help              this help
`;

export class StartUsageError extends Error {}

/** The environment variables this script reads for itself (never passed on to the services). */
export const START_VARIABLES = [
  'CHAINLOG_DATA_DIR',
  'CHAINLOG_BROKERS',
  'CHAINLOG_INGEST_PORT',
  'CHAINLOG_AUDITOR_PORT',
  'CHAINLOG_MINER_PORT',
  'KAFKA_PORT',
  'KAFKA_CONTROLLER_PORT',
  'CHAINLOG_HOST',
] as const;

function integer(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || value < min || value > max) throw new StartUsageError(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  return value;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

export function parseStartOptions(argv: readonly string[], env: Record<string, string | undefined>): StartOptions | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        fresh: { type: 'boolean' },
        'data-dir': { type: 'string' },
        'kafka-port': { type: 'string' },
        'controller-port': { type: 'string' },
        brokers: { type: 'string' },
        'ingest-port': { type: 'string' },
        'auditor-port': { type: 'string' },
        'miner-port': { type: 'string' },
        partitions: { type: 'string' },
        difficulty: { type: 'string' },
        'log-level': { type: 'string' },
        source: { type: 'boolean' },
        open: { type: 'boolean' },
        host: { type: 'string' },
        'no-build': { type: 'boolean' },
        'no-color': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    throw new StartUsageError((error as Error).message.split('. ')[0] ?? 'invalid arguments');
  }
  if (values.help === true) return 'help';
  const port = (flag: string, variable: string, fallback: number): number =>
    integer(`--${flag} (${variable})`, values[flag as keyof typeof values] as string | undefined ?? env[variable], fallback, 1, 65535);
  const difficultyRaw = (values.difficulty as string | undefined) ?? nonEmpty(env['DIFFICULTY']);
  const options: StartOptions = {
    dataDir: nonEmpty(values['data-dir'] as string | undefined) ?? nonEmpty(env['CHAINLOG_DATA_DIR']) ?? '.data',
    fresh: values.fresh === true,
    kafkaPort: port('kafka-port', 'KAFKA_PORT', 9092),
    controllerPort: port('controller-port', 'KAFKA_CONTROLLER_PORT', 9093),
    externalBrokers: nonEmpty(values.brokers as string | undefined) ?? nonEmpty(env['CHAINLOG_BROKERS']),
    ingestPort: port('ingest-port', 'CHAINLOG_INGEST_PORT', 8080),
    auditorPort: port('auditor-port', 'CHAINLOG_AUDITOR_PORT', 8082),
    minerPort: port('miner-port', 'CHAINLOG_MINER_PORT', 8081),
    partitions: integer('--partitions (TRANSACTIONS_PARTITIONS)', (values.partitions as string | undefined) ?? env['TRANSACTIONS_PARTITIONS'], 2, 1, 64),
    difficulty: difficultyRaw === undefined ? undefined : integer('--difficulty (DIFFICULTY)', difficultyRaw, 0, 0, 64),
    source: values.source === true,
    build: values['no-build'] !== true,
    logLevel: nonEmpty(values['log-level'] as string | undefined) ?? nonEmpty(env['LOG_LEVEL']) ?? 'info',
    colours: values['no-color'] === true || nonEmpty(env['NO_COLOR']) !== undefined ? false : undefined,
    open: values.open === true,
    host: nonEmpty(values.host as string | undefined) ?? nonEmpty(env['CHAINLOG_HOST']) ?? '127.0.0.1',
    readyTimeoutMs: 120_000,
  };
  if (!/^(?:[A-Za-z0-9.-]{1,253}|[0-9A-Fa-f:.]{2,45})$/.test(options.host)) {
    throw new StartUsageError(`--host must be an IP address or host name, got "${options.host}"`);
  }
  if (options.externalBrokers !== undefined && !/^[^\s:,]+:\d{1,5}(,[^\s:,]+:\d{1,5})*$/.test(options.externalBrokers)) {
    throw new StartUsageError(`--brokers must be host:port[,host:port...], got "${options.externalBrokers}"`);
  }
  if (options.externalBrokers !== undefined && options.fresh) {
    throw new StartUsageError('--fresh deletes the local broker\'s data; it cannot be combined with --brokers');
  }
  const fixed = [options.ingestPort, options.auditorPort];
  if (options.ingestPort === options.auditorPort) throw new StartUsageError('--ingest-port and --auditor-port must differ');
  if (options.externalBrokers === undefined) {
    const kafkaPorts = [options.kafkaPort, options.controllerPort];
    if (options.kafkaPort === options.controllerPort) throw new StartUsageError('--kafka-port and --controller-port must differ');
    const clash = [...fixed, ...minerPorts(options)].find((candidate) => kafkaPorts.includes(candidate));
    if (clash !== undefined) throw new StartUsageError(`port ${clash} is given to Kafka and to a service`);
  }
  return options;
}

/** Miner i's port: the i-th port from minerPort on that is not ingest's or the auditor's. */
export function minerPorts(options: Pick<StartOptions, 'minerPort' | 'partitions' | 'ingestPort' | 'auditorPort'>): number[] {
  const ports: number[] = [];
  for (let port = options.minerPort; ports.length < options.partitions; port++) {
    if (port > 65535) throw new StartUsageError(`not enough ports above --miner-port ${options.minerPort} for ${options.partitions} miners`);
    if (port !== options.ingestPort && port !== options.auditorPort) ports.push(port);
  }
  return ports;
}
