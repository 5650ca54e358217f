// Runs one command line: parse, build the context, run, turn every failure into a one-line message and
// an exit code (0 ok, 1 failed, 2 usage). Separate from main.ts so tests can run it in-process.
import { readFile } from 'node:fs/promises';
import { CliError, commandUsage, parseCommandLine, UsageError } from './args.js';
import { readConfig } from './config.js';
import { COMMANDS } from './commands/index.js';
import { abortableSleep, type CommandContext } from './context.js';
import { HttpError, JsonClient } from './http.js';
import { Output, type Writable } from './output.js';

export const VERSION = '0.1.0';

export interface CliIo {
  argv: readonly string[];
  env: Record<string, string | undefined>;
  stdout: Writable;
  stderr: Writable;
  stdin: CommandContext['stdin'];
  signal: AbortSignal;
  fetch?: typeof fetch;
  readFile?: (path: string) => Promise<string>;
  now?: () => number;
}

export async function runCli(io: CliIo): Promise<number> {
  const env = readConfig(io.env);
  const jsonRequested = io.argv.includes('--json');
  const fallbackOut = new Output({ json: jsonRequested, color: false, stdout: io.stdout, stderr: io.stderr });
  let invocation;
  try {
    invocation = parseCommandLine(io.argv, COMMANDS.map((command) => command.spec), env);
  } catch (error) {
    if (error instanceof UsageError) {
      fallbackOut.error(`${error.message}${error.command ? ` (${commandUsage(error.command)})` : ''}`);
      return 2;
    }
    throw error;
  }
  if (invocation.kind === 'version') {
    io.stdout.write(`chainlog ${VERSION}\n`);
    return 0;
  }
  if (invocation.kind === 'help') {
    io.stdout.write(`${invocation.text}\n`);
    return 0;
  }
  const { command, globals, options, positionals } = invocation;
  const out = new Output({ json: globals.json, color: globals.color, stdout: io.stdout, stderr: io.stderr, ...(io.now ? { now: io.now } : {}) });
  const fetchImpl = io.fetch === undefined ? {} : { fetch: io.fetch };
  const token = env.token === undefined ? {} : { token: env.token };
  const context: CommandContext = {
    globals,
    out,
    ingest: new JsonClient({ name: 'ingest', baseUrl: globals.ingestUrl, ...fetchImpl, ...token }),
    auditor: new JsonClient({ name: 'the auditor', baseUrl: globals.auditorUrl, ...fetchImpl, ...token }),
    stdin: io.stdin,
    readFile: io.readFile ?? ((path) => readFile(path, 'utf8')),
    signal: io.signal,
    sleep: abortableSleep(io.signal),
    now: io.now ?? Date.now,
    env: io.env,
  };
  const implementation = COMMANDS.find((candidate) => candidate.spec === command);
  if (implementation === undefined) throw new Error(`no implementation for ${command.path.join(' ')}`);
  try {
    return await implementation.run(context, options, positionals);
  } catch (error) {
    if (io.signal.aborted && !(error instanceof CliError)) {
      out.error('interrupted');
      return 130;
    }
    if (error instanceof UsageError) {
      out.error(`${error.message} (${commandUsage(error.command ?? command)})`);
      return 2;
    }
    if (error instanceof HttpError || error instanceof CliError) {
      out.error(error.message);
      return error.exitCode;
    }
    out.error(`unexpected error: ${(error as Error).message ?? String(error)}`);
    return 1;
  }
}
