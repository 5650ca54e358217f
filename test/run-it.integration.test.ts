// The real thing: `npm start` on its own ports and data dir (so it never meets a developer's stack), a
// transaction sent with the chainlog CLI gets committed and its inclusion proof verifies, then Ctrl-C
// (SIGINT to the process group, as a terminal sends it) stops everything: no process left, ports free.
// Then `npm start` again over the same data: the ledger is still there; the broker is restarted by hand
// and SIGTERM to the npm process alone stops the stack, leaving that broker running with its pid file.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { allocatePort, allocatePorts, portIsFree } from '../scripts/lib/ports.js';
import { startBroker, stopBrokerInDir } from '../scripts/lib/kafka-broker.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'services/cli/bin/chainlog.js');

interface Started {
  child: ChildProcess;
  output: () => string;
  /** The exit code, or the signal that ended the process. */
  exited: Promise<number | NodeJS.Signals | null>;
}

function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  for (const name of Object.keys(env)) {
    // The Kafka release under test stays: the broker this test restarts by hand on npm start's data dir runs
    // that release, and a KRaft log written by 4.x cannot be read by 3.9.
    if (name === 'CHAINLOG_KAFKA_VERSION') continue;
    if (/^(CHAINLOG_|KAFKA_|TOPIC_|DIFFICULTY$|TRANSACTIONS_PARTITIONS$|LOG_LEVEL$)/.test(name)) delete env[name];
  }
  return env;
}

function startLedger(args: string[]): Started {
  let output = '';
  // Its own process group, like a terminal's foreground job: SIGINT to the group is Ctrl-C.
  const child = spawn('npm', ['start', '--', ...args], { cwd: ROOT, env: cleanEnv(), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | NodeJS.Signals | null>((resolveExit) => child.once('exit', (code, signal) => resolveExit(code ?? signal)));
  return { child, output: () => output, exited };
}

function tail(text: string, lines = 60): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

async function waitForOutput(started: Started, pattern: RegExp, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exitCode: number | NodeJS.Signals | null | undefined;
  void started.exited.then((code) => (exitCode = code));
  while (!pattern.test(started.output())) {
    if (exitCode !== undefined) throw new Error(`npm start exited with ${exitCode} before ${pattern}:\n${tail(started.output())}`);
    if (Date.now() > deadline) throw new Error(`no ${pattern} within ${timeoutMs} ms:\n${tail(started.output())}`);
    await new Promise((resolveWait) => setTimeout(resolveWait, 250));
  }
}

function cli(args: string[], timeoutMs = 180_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`chainlog ${args.join(' ')} did not finish within ${timeoutMs} ms:\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolveRun({ code, stdout, stderr });
    });
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

interface State {
  supervisorPid: number;
  brokerPid: number;
  children: Record<string, number>;
  ports: Record<string, number>;
}

/** Ctrl-C, then: exit 0, every recorded process gone, every port free. */
async function interruptAndCheck(started: Started, state: State, ports: number[]): Promise<void> {
  process.kill(-(started.child.pid as number), 'SIGINT');
  const code = await Promise.race([started.exited, new Promise<string>((resolveWait) => setTimeout(() => resolveWait('timeout'), 120_000))]);
  // npm re-raises the SIGINT it got once its script has exited; the script itself must have stopped cleanly.
  expect([0, 'SIGINT'], tail(started.output())).toContain(code);
  expect(started.output()).toMatch(/chainlog stopped; data kept in/);
  expect(started.output()).toMatch(/SIGINT: stopping the services/);
  expect(started.output()).toMatch(/stopping Kafka/);
  const pids = [state.supervisorPid, state.brokerPid, ...Object.values(state.children)];
  expect(pids.filter(alive), `still running after Ctrl-C:\n${tail(started.output())}`).toEqual([]);
  const busy = [];
  for (const port of ports) if (!(await portIsFree(port))) busy.push(port);
  expect(busy).toEqual([]);
}

/**
 * The defaults are permissioned: miner keys generated under the data dir (owner-only files), each miner's
 * environment naming only its own key file, no private key in any service's environment.
 */
function expectPermissioned(dataDir: string, state: State, output: string): void {
  expect(output).toMatch(/permissioned: 2 miner key\(s\) allowed, transactions must be signed/);
  const keysDir = join(dataDir, 'keys');
  expect(statSync(keysDir).mode & 0o777).toBe(0o700);
  for (const name of ['miner-0.key', 'miner-1.key', 'client.key']) expect(statSync(join(keysDir, name)).mode & 0o777).toBe(0o600);
  for (const [name, pid] of Object.entries(state.children)) {
    const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
    expect(environ.filter((entry) => entry.startsWith('MINER_PRIVATE_KEY=')), name).toEqual([]);
    const keyFiles = environ.filter((entry) => entry.startsWith('MINER_PRIVATE_KEY_FILE='));
    expect(keyFiles, name).toEqual(name.startsWith('miner-') ? [`MINER_PRIVATE_KEY_FILE=${join(keysDir, `${name}.key`)}`] : []);
    expect(environ, name).toContain('HTTP_HOST=127.0.0.1');
  }
}

describe('npm start: from one command to a committed, verified transaction and back', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'chainlog-run-it-'));
  let running: Started | undefined;

  afterAll(async () => {
    // Only when an assertion failed half-way: never leave the ledger running.
    if (running?.child.pid !== undefined && running.child.exitCode === null && running.child.signalCode === null) {
      try {
        process.kill(-running.child.pid, 'SIGINT');
      } catch {
        // already gone
      }
      await Promise.race([running.exited, new Promise((resolveWait) => setTimeout(resolveWait, 60_000))]);
    }
    const stateFile = join(dataDir, 'run', 'state.json');
    try {
      const state = JSON.parse(readFileSync(stateFile, 'utf8')) as State;
      for (const pid of [state.brokerPid, ...Object.values(state.children)]) if (alive(pid)) process.kill(pid, 'SIGKILL');
    } catch {
      // no state left: everything stopped
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('runs the ledger, commits a transaction sent with the CLI, and stops cleanly twice', async () => {
    const ports = {
      kafka: await allocatePort(),
      controller: await allocatePort(),
      ingest: await allocatePort(),
      auditor: await allocatePort(),
      // npm start gives miner i the port --miner-port + i: the test owns the whole block.
      miner: (await allocatePorts(2, { consecutive: true }))[0] as number,
    };
    const args = [
      '--data-dir', dataDir,
      '--kafka-port', String(ports.kafka),
      '--controller-port', String(ports.controller),
      '--ingest-port', String(ports.ingest),
      '--auditor-port', String(ports.auditor),
      '--miner-port', String(ports.miner),
      '--partitions', '2',
      '--difficulty', '4',
      '--no-color',
    ];
    const allPorts = [ports.kafka, ports.controller, ports.ingest, ports.auditor, ports.miner, ports.miner + 1];
    // What npm start writes for the CLI: the URLs, the brokers, the client key's path and the consensus settings.
    const urls = ['--config', join(dataDir, 'chainlog.env')];

    // First run: build, broker, topics, services.
    running = startLedger(args);
    await waitForOutput(running, /Chainlog is running/, 300_000);
    expect(running.output()).toMatch(/created transactions with 2 partition\(s\)/);
    const state = JSON.parse(readFileSync(join(dataDir, 'run', 'state.json'), 'utf8')) as State;
    expect(Object.keys(state.children)).toEqual(['ingest', 'miner-0', 'miner-1', 'auditor']);
    expect(state.ports).toMatchObject({ ingest: ports.ingest, auditor: ports.auditor, 'miner-0': ports.miner, 'miner-1': ports.miner + 1 });
    expectPermissioned(dataDir, state, running.output());

    // Permissioned by default: an unsigned transaction is refused, and the CLI says how to sign.
    const unsigned = await cli(['--config', '/dev/null', '--ingest-url', `http://127.0.0.1:${ports.ingest}`, 'tx', 'send', '--from', 'alice', '--to', 'bob', '--amount', '3'], 30_000);
    expect(unsigned.code, unsigned.stderr).toBe(1);
    expect(unsigned.stderr).toMatch(/signature.*--key FILE/);

    // Signed with the key chainlog.env names (CHAINLOG_KEY_FILE): the README's one command.
    const sent = await cli([...urls, 'tx', 'send', '--from', 'alice', '--to', 'bob', '--amount', '3', '--json']);
    expect(sent.code, sent.stderr).toBe(0);
    const { id } = JSON.parse(sent.stdout) as { id: string };

    const status = await cli([...urls, 'tx', 'status', id, '--proof', '--wait', '--timeout', '120s']);
    expect(status.code, `${status.stdout}\n${status.stderr}\n${tail(running.output())}`).toBe(0);
    expect(status.stdout).toMatch(new RegExp(`^${id}  committed in block #\\d+`));
    expect(status.stdout.trimEnd().split('\n').at(-1)).toBe('  verified');
    const asJson = await cli([...urls, 'tx', 'status', id, '--proof', '--json']);
    const verified = JSON.parse(asJson.stdout) as { status: string; blockIndex: number; verification: { verified: boolean } };
    expect(verified).toMatchObject({ status: 'committed', verification: { verified: true } });

    // The rest of the CLI against the real services and the real topic.
    // demo signs with the key chainlog.env names (CHAINLOG_KEY_FILE).
    const demo = await cli([...urls, 'demo', '--count', '5', '--rate', '20', '--json']);
    expect(demo.code, demo.stderr).toBe(0);
    expect(JSON.parse(demo.stdout)).toMatchObject({ sent: 5, committed: 5, notCommitted: [] });
    const head = await cli([...urls, 'chain', 'head', '--json']);
    const { height } = JSON.parse(head.stdout) as { height: number };
    expect(height).toBeGreaterThanOrEqual(2);
    const tailed = await cli([...urls, 'chain', 'tail', '-n', '2', '--json']);
    expect(tailed.stdout.trimEnd().split('\n').map((line) => (JSON.parse(line) as { index: number }).index)).toEqual([height - 1, height]);
    // The consensus settings (difficulty 4, the allowed miner keys) come from chainlog.env, as the services'.
    const fromKafka = await cli([...urls, 'chain', 'tail', '-n', '1', '--kafka', '--json']);
    expect(JSON.parse(fromKafka.stdout.trimEnd().split('\n').at(-1) as string)).toMatchObject({ index: height });
    // A reader with another allow-list computes another chain: it must reject every block of this one.
    const otherKeys = await cli([...urls, 'chain', 'verify', '--allowed-miner-keys', 'ab'.repeat(32), '--json']);
    expect(otherKeys.code).toBe(1);
    const verify = await cli([...urls, 'chain', 'verify', '--json']);
    const report = JSON.parse(verify.stdout) as { height: number; accepted: number; rejections: Array<{ reason: string }> };
    expect(report.height).toBeGreaterThanOrEqual(height);
    expect(report.accepted).toBe(report.height + 1);
    // Only lost races may be rejected (should both miners publish the genesis block, the second copy is stale).
    expect(report.rejections.filter((rejection) => !['stale', 'fork'].includes(rejection.reason))).toEqual([]);
    expect(verify.code).toBe(0);

    // The miners' and services' lines come through the supervisor as readable one-liners.
    expect(running.output()).toMatch(/^\d\d:\d\d:\d\d\.\d{3} miner-\d +INFO /m);

    // A fresh ledger's genesis block is not reported as a rejected block (found on the way in #22).
    expect(running.output()).not.toMatch(/block rejected/);
    await interruptAndCheck(running, state, allPorts);

    // Second run over the same data: no build, the broker's log is reused, the transaction is still committed.
    running = startLedger([...args, '--no-build']);
    await waitForOutput(running, /Chainlog is running/, 300_000);
    expect(running.output()).toMatch(/topics already there/);
    const again = await cli([...urls, 'tx', 'status', id, '--proof', '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ status: 'committed', blockIndex: verified.blockIndex, verification: { verified: true } });
    const secondState = JSON.parse(readFileSync(join(dataDir, 'run', 'state.json'), 'utf8')) as State;

    // The broker restarted by hand meanwhile (npm run kafka:stop, kafka:start) is not this run's to stop:
    // SIGTERM to the npm process alone (not its group) stops the stack and leaves that broker running,
    // its pid file in place.
    const kafkaDir = join(dataDir, 'kafka');
    await stopBrokerInDir(kafkaDir);
    const restarted = await startBroker({ dataDir: kafkaDir, port: ports.kafka, controllerPort: ports.controller, heapMb: 256 });
    try {
      process.kill(running.child.pid as number, 'SIGTERM');
      const code = await Promise.race([running.exited, new Promise<string>((resolveWait) => setTimeout(() => resolveWait('timeout'), 120_000))]);
      expect([0, 'SIGTERM', 143], tail(running.output())).toContain(code);
      expect(running.output()).toMatch(/SIGTERM: stopping the services/);
      expect(running.output()).toMatch(new RegExp(`the broker was restarted by hand \\(pid ${restarted.pid}\\); leaving it running`));
      expect(running.output()).toMatch(/chainlog stopped; data kept in/);
      const pids = [secondState.supervisorPid, ...Object.values(secondState.children)];
      expect(pids.filter(alive), `still running after SIGTERM to npm:\n${tail(running.output())}`).toEqual([]);
      expect(alive(restarted.pid)).toBe(true);
      expect(readFileSync(join(kafkaDir, 'broker.pid'), 'utf8').trim()).toBe(String(restarted.pid));
    } finally {
      await restarted.stop();
    }
    const busy = [];
    for (const port of allPorts) if (!(await portIsFree(port))) busy.push(port);
    expect(busy).toEqual([]);
  }, 900_000);
});
