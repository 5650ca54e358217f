// The parts of `npm start` that do not need Kafka: its options, the log one-liners and the supervisor
// (with real child processes: restarts with backoff, configuration errors, SIGTERM then SIGKILL).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { eventually } from './support/kafka.js';
import { createLineFormatter, formatValue, LineSplitter } from '../scripts/lib/log-format.js';
import { minerPorts, parseStartOptions, StartUsageError } from '../scripts/lib/start-options.js';
import { backoffDelay, isAlive, Supervisor, type ServiceSpec } from '../scripts/lib/supervisor.js';

describe('npm start options', () => {
  it('has defaults that match the README and the services', () => {
    expect(parseStartOptions([], {})).toMatchObject({
      dataDir: '.data',
      fresh: false,
      kafkaPort: 9092,
      controllerPort: 9093,
      externalBrokers: undefined,
      ingestPort: 8080,
      auditorPort: 8082,
      minerPort: 8081,
      partitions: 2,
      difficulty: undefined,
      source: false,
      build: true,
      logLevel: 'info',
    });
  });

  it('takes flags over environment variables', () => {
    const env = { CHAINLOG_DATA_DIR: '/tmp/a', KAFKA_PORT: '29092', TRANSACTIONS_PARTITIONS: '3', DIFFICULTY: '10', CHAINLOG_INGEST_PORT: '9080' };
    expect(parseStartOptions([], env)).toMatchObject({ dataDir: '/tmp/a', kafkaPort: 29092, partitions: 3, difficulty: 10, ingestPort: 9080 });
    expect(parseStartOptions(['--data-dir', '/tmp/b', '--kafka-port', '39092', '--partitions', '4', '--difficulty', '0', '--fresh', '--source'], env)).toMatchObject({
      dataDir: '/tmp/b',
      kafkaPort: 39092,
      partitions: 4,
      difficulty: 0,
      fresh: true,
      source: true,
    });
    expect(parseStartOptions(['--help'], {})).toBe('help');
    expect(parseStartOptions(['--no-color'], {})).toMatchObject({ colours: false });
    expect(parseStartOptions(['--brokers', 'k1:9092,k2:9092'], {})).toMatchObject({ externalBrokers: 'k1:9092,k2:9092' });
  });

  it('refuses contradictions and bad values', () => {
    const refused = (argv: string[], env: Record<string, string> = {}): string => {
      try {
        parseStartOptions(argv, env);
      } catch (error) {
        expect(error).toBeInstanceOf(StartUsageError);
        return (error as Error).message;
      }
      throw new Error('accepted');
    };
    expect(refused(['--kafka-port', '99999'])).toMatch(/--kafka-port \(KAFKA_PORT\) must be an integer from 1 to 65535/);
    expect(refused([], { TRANSACTIONS_PARTITIONS: 'two' })).toMatch(/--partitions/);
    expect(refused(['--ingest-port', '8082'])).toMatch(/must differ/);
    expect(refused(['--kafka-port', '8081'])).toMatch(/port 8081 is given to Kafka and to a service/);
    expect(refused(['--fresh', '--brokers', 'k:1'])).toMatch(/cannot be combined/);
    expect(refused(['--brokers', 'nope'])).toMatch(/host:port/);
    expect(refused(['--frsh'])).toMatch(/Unknown option '--frsh'/);
  });

  it('gives miners consecutive ports around ingest and the auditor', () => {
    expect(minerPorts({ minerPort: 8081, partitions: 3, ingestPort: 8080, auditorPort: 8082 })).toEqual([8081, 8083, 8084]);
    expect(minerPorts({ minerPort: 9000, partitions: 2, ingestPort: 8080, auditorPort: 8082 })).toEqual([9000, 9001]);
  });
});

describe('log one-liners', () => {
  const format = createLineFormatter({ name: 'miner-0', width: 8, colour: 36, colours: false });

  it('turns pino JSON into time, service, level, message and the other fields', () => {
    const line = JSON.stringify({
      level: 'info',
      time: '2025-01-01T12:34:56.789Z',
      service: 'miner',
      name: 'chainlog-miner',
      msg: 'mined block',
      index: 12,
      hash: 'ab'.repeat(32),
      sources: [{ partition: 0 }],
      note: 'two words',
    });
    const formatted = format(line, 'stdout');
    expect(formatted).toMatch(/^\d\d:\d\d:\d\d\.789 miner-0 {2}INFO {2}mined block {2}index=12 hash=abababababab… sources=\[\{"partition":0\}\] note="two words"$/);
  });

  it('shows levels, errors and kafkajs lines compactly', () => {
    expect(format(JSON.stringify({ level: 50, time: 0, msg: 'failed', err: { type: 'Error', message: 'boom', stack: 'Error: boom\n    at f (x.js:1:2)' } }), 'stdout')).toMatch(
      / miner-0 {2}ERROR failed {2}err="boom \(at f \(x\.js:1:2\)\)"$/,
    );
    expect(format(JSON.stringify({ level: 'warn', time: 0, msg: 'retrying', component: 'kafkajs', logger: 'kafkajs', timestamp: 'x', broker: 'b:1' }), 'stdout')).toMatch(
      / miner-0 {2}WARN {2}kafkajs: retrying {2}broker=b:1$/,
    );
  });

  it('passes other lines through, stderr marked', () => {
    expect(format('plain text', 'stdout')).toMatch(/^\d\d:\d\d:\d\d\.\d{3} miner-0 {2}plain text$/);
    expect(format('{"not":"pino"}', 'stdout')).toMatch(/ miner-0 {2}\{"not":"pino"\}$/);
    const coloured = createLineFormatter({ name: 'ingest', width: 6, colour: 35, colours: true });
    expect(coloured('oops', 'stderr')).toContain('\u001b[31moops\u001b[0m');
    expect(coloured('{"level":"info","msg":"hi","time":0}', 'stdout')).toContain('\u001b[35mingest\u001b[0m');
  });

  it('shortens long values and splits streams into lines', () => {
    expect(formatValue('x'.repeat(500))).toHaveLength(160);
    const splitter = new LineSplitter();
    expect(splitter.push('a\nb')).toEqual(['a']);
    expect(splitter.push('c\r\nd\n')).toEqual(['bc', 'd']);
    expect(splitter.push('e')).toEqual([]);
    expect(splitter.end()).toEqual(['e']);
  });
});

describe('the supervisor', () => {
  const dir = mkdtempSync(join(tmpdir(), 'chainlog-supervisor-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const node = (name: string, script: string, extra: Partial<ServiceSpec> = {}): ServiceSpec => ({
    name,
    command: process.execPath,
    args: ['-e', script],
    env: { PATH: process.env.PATH ?? '' },
    cwd: dir,
    ...extra,
  });

  it('doubles the backoff up to the cap', () => {
    const backoff = { initialMs: 100, maxMs: 1000, resetAfterMs: 5000 };
    expect([1, 2, 3, 4, 5, 6].map((failures) => backoffDelay(failures, backoff))).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it('restarts a crashing service with backoff, gives up on exit code 2, and keeps the raw log', async () => {
    const lines: string[] = [];
    const supervisor = new Supervisor(
      [
        node('crasher', 'console.log(JSON.stringify({level:"info",time:Date.now(),msg:"up"})); setTimeout(() => process.exit(3), 50)'),
        node('misconfigured', 'console.error("invalid configuration: X"); process.exit(2)'),
      ],
      { write: (line) => lines.push(line), colours: false, logDir: join(dir, 'logs'), backoff: { initialMs: 100, maxMs: 400, resetAfterMs: 60_000 } },
    );
    supervisor.start();
    await eventually(() => expect(lines.filter((line) => /crasher +INFO {2}up/.test(line)).length).toBeGreaterThanOrEqual(3), 20_000);
    expect(lines).toContainEqual(expect.stringMatching(/crasher +WARN {2}\[supervisor\] exited with code 3 after .* s; restarting in 0\.1 s \(restart 1\)/));
    expect(lines).toContainEqual(expect.stringMatching(/restarting in 0\.2 s \(restart 2\)/));
    expect(lines).toContainEqual(expect.stringMatching(/misconfigured +invalid configuration: X/));
    expect(lines).toContainEqual(expect.stringMatching(/its configuration is invalid \(see above\); not restarting it/));
    expect(supervisor.failed()).toEqual(['misconfigured']);
    await supervisor.stop();
    expect(readFileSync(join(dir, 'logs', 'crasher.log'), 'utf8')).toContain('"msg":"up"');
  });

  it('stops services with SIGTERM, and kills those that ignore it after the grace period', async () => {
    const lines: string[] = [];
    const supervisor = new Supervisor(
      [
        node('polite', 'process.on("SIGTERM", () => { console.log("bye"); process.exit(0); }); setInterval(() => {}, 1000); console.log("ready")'),
        node('stubborn', 'process.on("SIGTERM", () => console.log("no")); setInterval(() => {}, 1000); console.log("ready")'),
      ],
      { write: (line) => lines.push(line), colours: false, graceMs: 1500 },
    );
    supervisor.start();
    await eventually(() => expect(lines.filter((line) => line.endsWith('ready'))).toHaveLength(2), 20_000);
    const pids = Object.values(supervisor.pids()) as number[];
    expect(pids).toHaveLength(2);
    const started = Date.now();
    await supervisor.stop();
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
    expect(pids.filter(isAlive)).toEqual([]);
    expect(lines).toContainEqual(expect.stringMatching(/polite +bye/));
    expect(lines).toContainEqual(expect.stringMatching(/stubborn +WARN {2}\[supervisor\] did not stop within 1\.5 s; killing it/));
    expect(lines).toContainEqual(expect.stringMatching(/stubborn +WARN {2}\[supervisor\] stopped \(was killed by SIGKILL\)/));
    expect(supervisor.pids()).toEqual({ polite: undefined, stubborn: undefined });
  });
});
