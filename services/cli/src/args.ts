// Command-line parsing with node:util parseArgs: `chainlog [global flags] <group> <command> [flags] [args]`.
// Pure: takes argv and the environment's defaults, returns what to run or throws a UsageError (exit 2).
import { parseArgs } from 'node:util';
import type { CliEnvironment } from './config.js';

export class UsageError extends Error {
  readonly exitCode = 2;
  constructor(
    message: string,
    /** The command whose usage line goes with the message. */
    readonly command?: CommandSpec,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

/** An operation that failed (exit 1): the message is one line, meant for people. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** Placeholder in help, e.g. ACCOUNT. */
  value?: string;
  description: string;
}

export interface CommandSpec {
  /** Words that select the command, e.g. ['tx', 'send']. */
  path: readonly string[];
  summary: string;
  /** Arguments after the command words, e.g. '<id>'. */
  args?: string;
  positionals: { min: number; max: number };
  options: Readonly<Record<string, OptionSpec>>;
  /** Extra help text: examples and details. */
  details?: string;
}

export const GLOBAL_OPTIONS = {
  'ingest-url': { type: 'string', value: 'URL', description: 'ingest API (env CHAINLOG_INGEST_URL, default http://localhost:8080)' },
  'auditor-url': { type: 'string', value: 'URL', description: 'auditor API (env CHAINLOG_AUDITOR_URL, default http://localhost:8082)' },
  brokers: { type: 'string', value: 'HOST:PORT,...', description: 'Kafka brokers (env CHAINLOG_BROKERS, default 127.0.0.1:9092)' },
  config: { type: 'string', value: 'FILE', description: 'NAME=value settings under the environment (env CHAINLOG_CONFIG, default .data/chainlog.env if present)' },
  json: { type: 'boolean', description: 'machine-readable JSON on stdout' },
  'no-color': { type: 'boolean', description: 'no colours in human output (also NO_COLOR=1)' },
  help: { type: 'boolean', short: 'h', description: 'show help' },
} as const satisfies Record<string, OptionSpec>;

export interface GlobalOptions {
  ingestUrl: string;
  auditorUrl: string;
  brokers: string[];
  /** CHAINLOG_KEY_FILE, the default of --key. */
  keyFile: string | undefined;
  /** The consensus variables from the environment (and configuration file), as the services read them. */
  consensusEnv: Readonly<Record<string, string | undefined>>;
  json: boolean;
  /** undefined: colour when stdout is a terminal. */
  color: boolean | undefined;
}

export type OptionValues = Readonly<Record<string, string | boolean | undefined>>;

export type Invocation =
  | { kind: 'help'; text: string }
  | { kind: 'version' }
  | { kind: 'run'; command: CommandSpec; options: OptionValues; positionals: string[]; globals: GlobalOptions };

type ParseArgsOptions = Record<string, { type: 'string' | 'boolean'; short?: string }>;

function toParseArgs(specs: Readonly<Record<string, OptionSpec>>): ParseArgsOptions {
  const options: ParseArgsOptions = {};
  for (const [name, spec] of Object.entries(specs)) {
    options[name] = spec.short === undefined ? { type: spec.type } : { type: spec.type, short: spec.short };
  }
  return options;
}

/** Every option any command knows, so the first pass can tell option values from command words. */
function allOptions(commands: readonly CommandSpec[]): ParseArgsOptions {
  const merged: ParseArgsOptions = toParseArgs(GLOBAL_OPTIONS);
  for (const command of commands) {
    for (const [name, option] of Object.entries(toParseArgs(command.options))) {
      const known = merged[name];
      if (known !== undefined && known.type !== option.type) {
        throw new Error(`option --${name} has two types (${known.type}, ${option.type}): a bug in the command table`);
      }
      merged[name] = { ...known, ...option };
    }
  }
  return merged;
}

export function parseCommandLine(argv: readonly string[], commands: readonly CommandSpec[], env: CliEnvironment): Invocation {
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) return { kind: 'version' };
  // First pass: find the command words among the positionals, whatever options surround them.
  let firstPass;
  try {
    firstPass = parseArgs({ args: [...argv], options: allOptions(commands), strict: false, allowPositionals: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const words = firstPass.positionals.filter((word) => typeof word === 'string');
  const wantsHelp = firstPass.values.help === true || words[0] === 'help';
  const commandWords = words[0] === 'help' ? words.slice(1) : words;
  const command = commands.find((candidate) => candidate.path.every((word, i) => commandWords[i] === word));

  if (command === undefined) {
    const group = commandWords[0];
    const inGroup = commands.filter((candidate) => candidate.path[0] === group);
    if (wantsHelp || commandWords.length === 0) {
      return { kind: 'help', text: inGroup.length > 0 ? groupHelp(group as string, inGroup) : mainHelp(commands) };
    }
    if (inGroup.length > 0) {
      const sub = commandWords[1];
      throw new UsageError(
        sub === undefined
          ? `${group} needs a command: ${inGroup.map((c) => c.path.slice(1).join(' ')).join(', ')}`
          : `unknown command "${group} ${sub}" (try: ${inGroup.map((c) => c.path.join(' ')).join(', ')})`,
      );
    }
    throw new UsageError(`unknown command "${commandWords.join(' ')}" (see chainlog --help)`);
  }
  if (wantsHelp) return { kind: 'help', text: commandHelp(command) };

  // Second pass, strict: only the global options and this command's.
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: { ...toParseArgs(GLOBAL_OPTIONS), ...toParseArgs(command.options) },
      strict: true,
      allowPositionals: true,
    });
  } catch (error) {
    throw new UsageError(cleanParseArgsMessage((error as Error).message), command);
  }
  const positionals = parsed.positionals.slice(command.path.length);
  const { min, max } = command.positionals;
  if (positionals.length < min) {
    throw new UsageError(`${command.path.join(' ')} needs ${command.args ?? `${min} argument(s)`}`, command);
  }
  if (positionals.length > max) {
    throw new UsageError(`unexpected argument "${positionals[max]}" for ${command.path.join(' ')}`, command);
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  return { kind: 'run', command, options: values, positionals, globals: globalOptions(values, env) };
}

function cleanParseArgsMessage(message: string): string {
  const ambiguous = /^Option '(-\w, )?(--[\w-]+)[^']*' argument is ambiguous/.exec(message);
  if (ambiguous !== null) return `${ambiguous[2]} needs a value (for a value starting with -, write ${ambiguous[2]}=VALUE)`;
  const missing = /^Option '(-\w, )?(--[\w-]+)[^']*' argument missing/.exec(message);
  if (missing !== null) return `${missing[2]} needs a value`;
  // Other parseArgs messages end with advice about '--'; keep the first sentence.
  return (message.split('. ')[0] ?? message).replace(/^Unknown option '([^']+)'.*$/, 'unknown option $1');
}

function globalOptions(values: Record<string, string | boolean | undefined>, env: CliEnvironment): GlobalOptions {
  const ingestUrl = baseUrl('--ingest-url', stringValue(values['ingest-url']) ?? env.ingestUrl);
  const auditorUrl = baseUrl('--auditor-url', stringValue(values['auditor-url']) ?? env.auditorUrl);
  const brokers = brokerList(stringValue(values.brokers) ?? env.brokers);
  return {
    ingestUrl,
    auditorUrl,
    brokers,
    keyFile: env.keyFile,
    consensusEnv: env.consensusEnv,
    json: values.json === true,
    color: values['no-color'] === true ? false : env.color,
  };
}

function stringValue(value: string | boolean | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** An absolute http(s) URL without a trailing slash. */
export function baseUrl(name: string, raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`${name} must be an http(s) URL, got "${raw}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`${name} must be an http(s) URL, got "${raw}"`);
  return url.href.replace(/\/+$/, '');
}

export function brokerList(raw: string): string[] {
  const brokers = raw
    .split(',')
    .map((broker) => broker.trim())
    .filter((broker) => broker !== '');
  if (brokers.length === 0) throw new UsageError('--brokers must name at least one host:port');
  for (const broker of brokers) {
    if (!/^[^\s:]+:\d{1,5}$/.test(broker)) throw new UsageError(`--brokers must be host:port[,host:port...], got "${broker}"`);
  }
  return brokers;
}

// ---- typed access to a command's option values (each throws a UsageError naming the flag) ----

export function optionalString(options: OptionValues, name: string): string | undefined {
  const value = options[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') throw new UsageError(`--${name} needs a value`);
  return value;
}

export function flag(options: OptionValues, name: string): boolean {
  return options[name] === true;
}

export function integerOption(options: OptionValues, name: string, fallback: number, range: { min: number; max: number }): number;
export function integerOption(options: OptionValues, name: string, fallback: undefined, range: { min: number; max: number }): number | undefined;
export function integerOption(
  options: OptionValues,
  name: string,
  fallback: number | undefined,
  range: { min: number; max: number },
): number | undefined {
  const raw = optionalString(options, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(value) || value < range.min || value > range.max) {
    throw new UsageError(`--${name} must be an integer from ${range.min} to ${range.max}, got "${raw}"`);
  }
  return value;
}

export function numberOption(options: OptionValues, name: string, fallback: number, range: { min: number; max: number }): number {
  const raw = optionalString(options, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!/^\d+(\.\d+)?$/.test(raw) || value < range.min || value > range.max) {
    throw new UsageError(`--${name} must be a number from ${range.min} to ${range.max}, got "${raw}"`);
  }
  return value;
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A duration like 500ms, 30s, 2m, 1h; a bare number is seconds. Returns milliseconds. */
export function parseDuration(name: string, raw: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(raw.trim());
  if (match === null) throw new UsageError(`--${name} must be a duration like 500ms, 30s or 2m, got "${raw}"`);
  return Math.round(Number(match[1]) * (DURATION_UNITS[match[2] ?? 's'] ?? 1000));
}

export function durationOption(options: OptionValues, name: string, fallbackMs: number): number {
  const raw = optionalString(options, name);
  return raw === undefined ? fallbackMs : parseDuration(name, raw);
}

// ---- help ----

function optionLines(specs: Readonly<Record<string, OptionSpec>>): string[] {
  const rows = Object.entries(specs).map(([name, spec]) => {
    const short = spec.short === undefined ? '    ' : `-${spec.short}, `;
    const value = spec.type === 'string' ? ` ${spec.value ?? 'VALUE'}` : '';
    return [`${short}--${name}${value}`, spec.description] as const;
  });
  const width = Math.max(0, ...rows.map(([left]) => left.length));
  return rows.map(([left, right]) => `  ${left.padEnd(width)}  ${right}`);
}

export function mainHelp(commands: readonly CommandSpec[]): string {
  const width = Math.max(...commands.map((command) => (command.path.join(' ') + (command.args ? ` ${command.args}` : '')).length));
  return [
    'chainlog: the Chainlog ledger from the command line',
    '',
    'usage: chainlog [global flags] <command> [flags] [arguments]',
    '',
    'commands:',
    ...commands.map((command) => `  ${(command.path.join(' ') + (command.args ? ` ${command.args}` : '')).padEnd(width)}  ${command.summary}`),
    '',
    'global flags:',
    ...optionLines(GLOBAL_OPTIONS),
    '',
    'Run `chainlog <command> --help` for a command\'s flags. Exit codes: 0 ok, 1 failed, 2 usage error.',
  ].join('\n');
}

function groupHelp(group: string, commands: readonly CommandSpec[]): string {
  return [
    `usage: chainlog ${group} <command> [flags]`,
    '',
    ...commands.map((command) => `  ${command.path.join(' ')}${command.args ? ` ${command.args}` : ''}  ${command.summary}`),
  ].join('\n');
}

export function commandUsage(command: CommandSpec): string {
  return `usage: chainlog ${command.path.join(' ')}${command.args ? ` ${command.args}` : ''}${Object.keys(command.options).length > 0 ? ' [flags]' : ''}`;
}

export function commandHelp(command: CommandSpec): string {
  const lines = [commandUsage(command), '', command.summary];
  if (Object.keys(command.options).length > 0) lines.push('', 'flags:', ...optionLines(command.options));
  if (command.details !== undefined) lines.push('', command.details);
  lines.push('', 'global flags:', ...optionLines(GLOBAL_OPTIONS));
  return lines.join('\n');
}
