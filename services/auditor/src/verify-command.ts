/**
 * `chainlog-verify`: validates a blockchain topic or a kcat dump of it with the protocol's fork choice and
 * exits 0 when no block was rejected except lost races (stale, fork), 1 when any other was, 2 when it could not run (usage errors,
 * bad consensus parameters, an unreadable source). The bin entry point is verify-cli.ts.
 */
import { createReadStream } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError, EnvReader, readCommonConfig, readConsensusConfig } from '@chainlog/core/config';
import { createKafka } from '@chainlog/core/kafka';
import { createLogger } from '@chainlog/core/logging';
import type { ConsensusParams } from '@chainlog/core/protocol';
import { readDumpLines, verifyTopic, VerifySourceError } from './verify/sources.js';
import { formatVerifyReport, verifyMessages, type VerifyReport } from './verify/verifier.js';

export const VERIFY_USAGE = `Usage:
  chainlog-verify --topic NAME [--brokers HOST:PORT[,HOST:PORT...]] [options]
  chainlog-verify --file PATH  [options]      (PATH "-" reads standard input)

Validates every block of the blockchain, in order, with the protocol's fork-choice rule: from a topic (read
from offset 0 to the end offset it has when the command starts) or from a file dumped with
\`kcat -C -e -t blockchain\` (one block per line; blank lines are ignored).

Options:
  --topic NAME                       blockchain topic to read
  --brokers LIST                     Kafka bootstrap servers (default: KAFKA_BROKERS, else 127.0.0.1:9092);
                                     KAFKA_SSL*, KAFKA_SASL* and the other KAFKA_* variables apply as for the services
  --transactions-topic NAME          transactions topic the blocks' source ranges are checked against
                                     (default: TOPIC_TRANSACTIONS, else transactions)
  --file PATH                        kcat dump to read instead of a topic (source ranges are then not
                                     checked against the transactions topic: the report says so)
  --json                             print the report as JSON
  --timeout SECONDS                  give up reading the topic after this long (default 300)
Consensus parameters (each overrides the environment variable of the services, in parentheses):
  --difficulty N                     minimum difficulty (DIFFICULTY)
  --block-reward N                   coinbase amount (BLOCK_REWARD)
  --allowed-miner-keys HEX[,HEX...]  permissioned mode: allowed miner public keys (ALLOWED_MINER_KEYS)
  --require-transaction-signatures   every transaction must be signed (REQUIRE_TRANSACTION_SIGNATURES)
  --max-block-transactions N         transactions per block, coinbase included (CONSENSUS_MAX_BLOCK_TRANSACTIONS)
  -h, --help                         this help

Exit status: 0 every block accepted, 1 some block rejected, 2 the verification could not run.
`;

/** Flags that override the consensus environment variables of the same meaning. */
const CONSENSUS_FLAGS = {
  difficulty: 'DIFFICULTY',
  'block-reward': 'BLOCK_REWARD',
  'allowed-miner-keys': 'ALLOWED_MINER_KEYS',
  'max-block-transactions': 'CONSENSUS_MAX_BLOCK_TRANSACTIONS',
} as const;

export interface VerifyCommandIo {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
  /** Read when --file is "-". */
  readonly stdin?: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>;
  readonly env?: Record<string, string | undefined>;
}

class UsageError extends Error {}

interface VerifyCommand {
  readonly json: boolean;
  readonly run: () => Promise<VerifyReport>;
}

/** Runs the command and returns its exit status. Never throws. */
export async function runVerifyCommand(argv: readonly string[], io: VerifyCommandIo): Promise<number> {
  let command: VerifyCommand | 'help';
  try {
    command = parseCommand(argv, io);
  } catch (error) {
    const message = error instanceof ConfigError ? error.problems.join('\n') : (error as Error).message;
    io.stderr.write(`chainlog-verify: ${message.replaceAll('\n', '\nchainlog-verify: ')}\n\n${VERIFY_USAGE}`);
    return 2;
  }
  if (command === 'help') {
    io.stdout.write(VERIFY_USAGE);
    return 0;
  }
  let report: VerifyReport;
  try {
    report = await command.run();
  } catch (error) {
    const reason = error instanceof VerifySourceError ? error.message : `could not read the blocks: ${(error as Error).message}`;
    io.stderr.write(`chainlog-verify: ${reason}\n`);
    return 2;
  }
  io.stdout.write(command.json ? `${JSON.stringify(report, null, 2)}\n` : formatVerifyReport(report));
  return report.ok ? 0 : 1;
}

function parseCommand(argv: readonly string[], io: VerifyCommandIo): VerifyCommand | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        topic: { type: 'string' },
        'transactions-topic': { type: 'string' },
        brokers: { type: 'string' },
        file: { type: 'string' },
        json: { type: 'boolean', default: false },
        timeout: { type: 'string' },
        difficulty: { type: 'string' },
        'block-reward': { type: 'string' },
        'allowed-miner-keys': { type: 'string' },
        'require-transaction-signatures': { type: 'boolean' },
        'max-block-transactions': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values } = parsed;
  if (values.help === true) return 'help';
  if ((values.topic === undefined) === (values.file === undefined)) throw new UsageError('give exactly one of --topic and --file');
  if (values.file !== undefined && values.brokers !== undefined) throw new UsageError('--brokers applies to --topic only');

  const env: Record<string, string | undefined> = { ...(io.env ?? process.env) };
  for (const [flag, name] of Object.entries(CONSENSUS_FLAGS)) {
    const value = values[flag as keyof typeof CONSENSUS_FLAGS];
    if (value !== undefined) env[name] = value;
  }
  if (values['require-transaction-signatures'] === true) env.REQUIRE_TRANSACTION_SIGNATURES = 'true';
  if (values.brokers !== undefined) env.KAFKA_BROKERS = values.brokers;
  const reader = new EnvReader(env);
  const params: ConsensusParams = readConsensusConfig(reader);
  let timeoutSeconds = 300;
  if (values.timeout !== undefined) {
    if (/^\d{1,5}$/.test(values.timeout) && Number(values.timeout) >= 1) timeoutSeconds = Number(values.timeout);
    else reader.problem(`--timeout must be a whole number of seconds from 1 to 99999, got "${values.timeout}"`);
  }
  const common = values.topic === undefined ? undefined : readCommonConfig(reader, 'verify', 0);
  try {
    reader.done();
  } catch (error) {
    // Name the flag when the bad value came from one rather than from the environment.
    if (!(error instanceof ConfigError)) throw error;
    const given: Array<[string, string]> = Object.entries(CONSENSUS_FLAGS).filter(([flag]) => values[flag as keyof typeof CONSENSUS_FLAGS] !== undefined);
    if (values.brokers !== undefined) given.push(['brokers', 'KAFKA_BROKERS']);
    throw new ConfigError(
      error.problems.map((problem) => {
        const match = given.find(([, name]) => problem.startsWith(`${name} `));
        return match === undefined ? problem : `--${match[0]} (${match[1]})${problem.slice(match[1].length)}`;
      }),
    );
  }

  const json = values.json === true;
  const file = values.file;
  if (file !== undefined) {
    const name = file;
    return {
      json,
      run: () => {
        const chunks = name === '-' ? (io.stdin ?? process.stdin) : openFile(name);
        return verifyMessages(params, { kind: 'file', name, positionName: 'line' }, readDumpLines(chunks));
      },
    };
  }
  const topic = values.topic as string;
  if (!/^[A-Za-z0-9._-]{1,249}$/.test(topic)) throw new UsageError(`--topic must be a Kafka topic name, got "${topic}"`);
  const transactionsTopic = values['transactions-topic'] ?? env.TOPIC_TRANSACTIONS ?? 'transactions';
  if (!/^[A-Za-z0-9._-]{1,249}$/.test(transactionsTopic)) {
    throw new UsageError(`--transactions-topic must be a Kafka topic name, got "${transactionsTopic}"`);
  }
  return {
    json,
    run: () => {
      const logger = createLogger('verify', 'silent');
      const kafka = createKafka((common as NonNullable<typeof common>).kafka, logger, 2);
      return verifyTopic({ kafka, topic, transactionsTopic, params, logger, timeoutMs: timeoutSeconds * 1000 });
    },
  };
}

async function* openFile(path: string): AsyncGenerator<Uint8Array> {
  const stream = createReadStream(path);
  try {
    for await (const chunk of stream) yield chunk as Buffer;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new VerifySourceError(`cannot read ${path}: ${code ?? (error as Error).message}`);
  }
}
