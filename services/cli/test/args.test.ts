import { describe, expect, it } from 'vitest';
import { GLOBAL_OPTIONS, parseCommandLine, parseDuration, UsageError, type CommandSpec } from '../src/args.js';
import { COMMANDS } from '../src/commands/index.js';
import { readConfig } from '../src/config.js';

const specs: CommandSpec[] = COMMANDS.map((command) => command.spec);
const env = readConfig({});

function parse(argv: string[], environment = env) {
  return parseCommandLine(argv, specs, environment);
}

function usageError(argv: string[]): string {
  try {
    parse(argv);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error(`no usage error for ${argv.join(' ')}`);
}

describe('command-line parsing', () => {
  it('finds the command and its options wherever the global flags are', () => {
    for (const argv of [
      ['--json', 'tx', 'status', 'abc', '--proof'],
      ['tx', '--json', 'status', 'abc', '--proof'],
      ['tx', 'status', '--proof', 'abc', '--json'],
      ['--auditor-url', 'http://localhost:8082', 'tx', 'status', 'abc', '--proof', '--json'],
    ]) {
      const parsed = parse(argv);
      expect(parsed.kind).toBe('run');
      if (parsed.kind !== 'run') continue;
      expect(parsed.command.path).toEqual(['tx', 'status']);
      expect(parsed.positionals).toEqual(['abc']);
      expect(parsed.options.proof).toBe(true);
      expect(parsed.globals.json).toBe(true);
    }
  });

  it('takes defaults from the environment, and flags over the environment', () => {
    const fromEnv = readConfig({
      CHAINLOG_INGEST_URL: 'http://ingest.example:9000/',
      CHAINLOG_AUDITOR_URL: 'https://auditor.example',
      CHAINLOG_BROKERS: 'kafka-1:9092,kafka-2:9092',
    });
    const parsed = parse(['chain', 'head'], fromEnv);
    expect(parsed.kind === 'run' && parsed.globals).toMatchObject({
      ingestUrl: 'http://ingest.example:9000',
      auditorUrl: 'https://auditor.example',
      brokers: ['kafka-1:9092', 'kafka-2:9092'],
      json: false,
    });
    const flagged = parse(['chain', 'head', '--auditor-url', 'http://127.0.0.1:18082', '--brokers', 'localhost:19092'], fromEnv);
    expect(flagged.kind === 'run' && flagged.globals).toMatchObject({ auditorUrl: 'http://127.0.0.1:18082', brokers: ['localhost:19092'] });
    const defaults = parse(['chain', 'head']);
    expect(defaults.kind === 'run' && defaults.globals).toMatchObject({
      ingestUrl: 'http://localhost:8080',
      auditorUrl: 'http://localhost:8082',
      brokers: ['127.0.0.1:9092'],
    });
  });

  it('falls back to KAFKA_BROKERS and honours NO_COLOR and FORCE_COLOR', () => {
    expect(readConfig({ KAFKA_BROKERS: 'k:1' }).brokers).toBe('k:1');
    expect(readConfig({ NO_COLOR: '1', FORCE_COLOR: '1' }).color).toBe(false);
    expect(readConfig({ FORCE_COLOR: '1' }).color).toBe(true);
    expect(readConfig({ FORCE_COLOR: '0' }).color).toBe(false);
    expect(readConfig({}).color).toBeUndefined();
    const parsed = parse(['chain', 'head', '--no-color'], readConfig({ FORCE_COLOR: '1' }));
    expect(parsed.kind === 'run' && parsed.globals.color).toBe(false);
  });

  it('parses short flags of the command', () => {
    const parsed = parse(['chain', 'tail', '-f', '-n', '3', '-t']);
    expect(parsed.kind === 'run' && parsed.options).toMatchObject({ follow: true, lines: '3', transactions: true });
  });

  it('answers help and version', () => {
    const main = parse(['--help']);
    expect(main.kind === 'help' && main.text).toContain('tx send');
    expect(parse([]).kind).toBe('help');
    const group = parse(['chain', '--help']);
    expect(group.kind === 'help' && group.text).toMatch(/chain verify/);
    const command = parse(['help', 'tx', 'send']);
    expect(command.kind === 'help' && command.text).toContain('--amount N');
    const commandFlag = parse(['tx', 'send', '-h']);
    expect(commandFlag.kind === 'help' && commandFlag.text).toContain('--batch-size');
    expect(parse(['--version']).kind).toBe('version');
  });

  it('rejects what it does not understand with a usage error', () => {
    expect(usageError(['launch'])).toMatch(/unknown command "launch"/);
    expect(usageError(['tx'])).toMatch(/tx needs a command: send, status/);
    expect(usageError(['tx', 'resend'])).toMatch(/unknown command "tx resend"/);
    expect(usageError(['tx', 'status'])).toMatch(/needs <id>/);
    expect(usageError(['tx', 'status', 'a', 'b'])).toMatch(/unexpected argument "b"/);
    expect(usageError(['chain', 'head', '--proof'])).toMatch(/unknown option '?--proof/i);
    expect(usageError(['tx', 'send', '--amount'])).toMatch(/--amount/);
    expect(usageError(['chain', 'head', '--auditor-url', 'ftp://x'])).toMatch(/--auditor-url must be an http\(s\) URL/);
    expect(usageError(['chain', 'head', '--ingest-url', 'not a url'])).toMatch(/--ingest-url must be an http\(s\) URL/);
    expect(usageError(['chain', 'head', '--brokers', 'nohost'])).toMatch(/--brokers must be host:port/);
  });

  it('gives every short flag one meaning across all commands (the first pass relies on it)', () => {
    const shorts = new Map<string, string>();
    for (const [name, spec] of [...Object.entries(GLOBAL_OPTIONS), ...specs.flatMap((command) => Object.entries(command.options))]) {
      if (!('short' in spec) || spec.short === undefined) continue;
      const known = shorts.get(spec.short);
      expect(known === undefined || known === name, `-${spec.short} means --${known} and --${name}`).toBe(true);
      shorts.set(spec.short, name);
    }
  });

  it('parses durations', () => {
    expect(parseDuration('timeout', '500ms')).toBe(500);
    expect(parseDuration('timeout', '30s')).toBe(30_000);
    expect(parseDuration('timeout', '2m')).toBe(120_000);
    expect(parseDuration('timeout', '1h')).toBe(3_600_000);
    expect(parseDuration('timeout', '1.5')).toBe(1500);
    expect(() => parseDuration('timeout', 'soon')).toThrow(/--timeout must be a duration/);
  });
});
