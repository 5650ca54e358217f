/**
 * `npm start` as a user runs it, on free ports and a temporary data dir (it never meets a developer's
 * stack), permissioned as by default: its miners sign blocks with the keys it generates and the CLI signs
 * transactions with the client key named in <data dir>/chainlog.env, so the browser has Ed25519 signatures
 * to check. Stopped with SIGINT to its process group, as Ctrl-C does.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { allocatePort, allocatePorts } from '../../../../scripts/lib/ports.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
const CLI = join(ROOT, 'services/cli/bin/chainlog.js');

export interface Ledger {
  /** The explorer's URL as npm start prints it. */
  readonly explorerUrl: string;
  readonly auditorUrl: string;
  readonly ingestUrl: string;
  /** The miners' public keys (ALLOWED_MINER_KEYS). */
  readonly minerPublicKeys: readonly string[];
  /** Runs the chainlog CLI against this stack; rejects on a non-zero exit. */
  cli(args: string[], timeoutMs?: number): Promise<string>;
  output(): string;
  stop(): Promise<void>;
}

function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  for (const name of Object.keys(env)) {
    if (/^(CHAINLOG_|KAFKA_|TOPIC_|DIFFICULTY$|TRANSACTIONS_PARTITIONS$|LOG_LEVEL$|ALLOWED_MINER_KEYS$|MINER_PRIVATE_KEY)/.test(name)) delete env[name];
  }
  return env;
}

function tail(text: string, lines = 60): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

export async function startLedger(): Promise<Ledger> {
  const dataDir = mkdtempSync(join(tmpdir(), 'chainlog-explorer-e2e-'));
  const ports = { kafka: await allocatePort(), controller: await allocatePort(), ingest: await allocatePort(), auditor: await allocatePort() };
  // npm start gives miner i the port --miner-port + i: the whole block is claimed.
  const [minerPort] = await allocatePorts(2, { consecutive: true });
  const env = cleanEnv();
  const args = [
    'start', '--',
    '--data-dir', dataDir,
    '--kafka-port', String(ports.kafka),
    '--controller-port', String(ports.controller),
    '--ingest-port', String(ports.ingest),
    '--auditor-port', String(ports.auditor),
    '--miner-port', String(minerPort),
    '--partitions', '2',
    '--difficulty', '8',
    '--no-color',
  ];
  let output = '';
  const child: ChildProcess = spawn('npm', args, { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
  let ended = false;
  void exited.then(() => (ended = true));

  const stop = async (): Promise<void> => {
    if (!ended && child.pid !== undefined) {
      try {
        process.kill(-child.pid, 'SIGINT');
      } catch {
        // already gone
      }
      await Promise.race([exited, new Promise((resolveWait) => setTimeout(resolveWait, 90_000))]);
      if (!ended) process.kill(-child.pid, 'SIGKILL');
    }
    rmSync(dataDir, { recursive: true, force: true });
  };

  const deadline = Date.now() + 540_000;
  let match: RegExpExecArray | null;
  while ((match = /explorer\s+(http:\/\/\S+)/.exec(output)) === null || !/Chainlog is running/.test(output)) {
    if (ended || Date.now() > deadline) {
      await stop();
      throw new Error(`npm start did not come up:\n${tail(output)}`);
    }
    await new Promise((resolveWait) => setTimeout(resolveWait, 250));
  }
  const configFile = join(dataDir, 'chainlog.env');
  const allowed = /^ALLOWED_MINER_KEYS=(.*)$/m.exec(readFileSync(configFile, 'utf8'))?.[1] ?? '';
  return {
    explorerUrl: (match[1] as string).replace('localhost', '127.0.0.1'),
    auditorUrl: `http://127.0.0.1:${ports.auditor}`,
    ingestUrl: `http://127.0.0.1:${ports.ingest}`,
    minerPublicKeys: allowed.split(',').filter((key) => key !== ''),
    output: () => output,
    stop,
    cli: (cliArgs, timeoutMs = 120_000) => runCli(['--config', configFile, ...cliArgs], timeoutMs),
  };
}

function runCli(args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolveRun(stdout);
      else reject(new Error(`chainlog ${args.join(' ')} exited with ${code}:\n${stdout}\n${stderr}`));
    });
  });
}
