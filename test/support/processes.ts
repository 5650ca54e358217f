// The one way tests start a Chainlog program as a separate OS process: `ServiceProcess`, started the way
// developers run it from source (`node --conditions=@chainlog/source --import tsx services/<service>/src/main.ts`,
// or another script), with a clean environment (PATH, HOME, LOG_LEVEL=info and what the test gives). It keeps
// every line of output (raw, for secret checks, and parsed as pino JSON), waits for log lines and for /readyz,
// stops, kills and restarts with the same environment, optionally supervises (restarts a process that exits on
// its own, as Kubernetes would, and counts it), and reads the process's resident memory. `runToExit` runs one
// to its end (a bad configuration's exit status and message).
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const SOURCE_NODE_ARGS = ['--conditions=@chainlog/source', '--import', 'tsx'];

export type ServiceName = 'ingest' | 'miner' | 'auditor' | 'operator';

export interface LogLine {
  level: string;
  msg: string;
  [field: string]: unknown;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ServiceProcessOptions {
  /** The script to run instead of services/<service>/src/main.ts. */
  script?: string;
  /** Restart the process when it exits without being asked to (after restartDelayMs). */
  supervise?: boolean;
  restartDelayMs?: number;
  /** Parsed log lines kept in memory (the oldest are dropped); raw output is kept whole. */
  maxLogLines?: number;
}

export class ServiceProcess {
  readonly logs: LogLine[] = [];
  /** Every run: pid, how it ended, and whether the test asked for it. */
  readonly runs: { pid: number; exit?: Exit; requested: boolean; startedAt: number; endedAt?: number; lastLines?: string[] }[] = [];
  #raw: string[] = [];
  /** Per line of #raw: whether it came from stderr. */
  #fromStderr: boolean[] = [];
  #child: ChildProcess | undefined;
  #exited: Promise<Exit> = Promise.resolve({ code: null, signal: null });
  #listeners = new Set<() => void>();
  #requested = false;
  #restartTimer: NodeJS.Timeout | undefined;
  #disposed = false;
  readonly #options: Required<Omit<ServiceProcessOptions, 'script'>> & { script: string };

  constructor(
    readonly name: string,
    /** Which service's src/main.ts runs; 'fixture' with options.script for a test's own program. */
    readonly service: ServiceName | 'fixture',
    public env: Record<string, string>,
    options: ServiceProcessOptions = {},
  ) {
    this.#options = {
      script: options.script ?? `services/${service}/src/main.ts`,
      supervise: options.supervise ?? false,
      restartDelayMs: options.restartDelayMs ?? 1000,
      maxLogLines: options.maxLogLines ?? 20_000,
    };
  }

  /** Starts a new run (the previous one must have exited). */
  start(): this {
    if (this.alive) throw new Error(`${this.name} is already running (pid ${this.pid})`);
    if (this.#disposed) throw new Error(`${this.name} was disposed`);
    this.#requested = false;
    const child = spawn(process.execPath, [...SOURCE_NODE_ARGS, this.#options.script], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'info', ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#child = child;
    const run: ServiceProcess['runs'][number] = { pid: child.pid ?? -1, requested: false, startedAt: Date.now() };
    this.runs.push(run);
    // CHAINLOG_SERVICE_LOGS=<dir> keeps each run's output whole in <dir>/<name>-<pid>.log (for diagnosing a run).
    const logDir = process.env.CHAINLOG_SERVICE_LOGS;
    let file: WriteStream | undefined;
    if (logDir !== undefined && logDir !== '') {
      mkdirSync(logDir, { recursive: true });
      file = createWriteStream(join(logDir, `${this.name}-${run.pid}.log`), { flags: 'a' });
    }
    const onLine = (line: string, stderr = false): void => {
      file?.write(`${line}\n`);
      this.#raw.push(line);
      this.#fromStderr.push(stderr);
      let parsed: LogLine;
      try {
        const value = JSON.parse(line) as unknown;
        parsed = typeof value === 'object' && value !== null && 'msg' in value ? (value as LogLine) : { level: 'raw', msg: line };
      } catch {
        parsed = { level: 'raw', msg: line };
      }
      this.logs.push(parsed);
      if (this.logs.length > this.#options.maxLogLines) this.logs.splice(0, this.logs.length - this.#options.maxLogLines);
      for (const listener of this.#listeners) listener();
    };
    if (child.stdout) createInterface({ input: child.stdout }).on('line', onLine);
    if (child.stderr) createInterface({ input: child.stderr }).on('line', (line) => onLine(line, true));
    // 'close', not 'exit': by then every line the process wrote has been read.
    this.#exited = new Promise((resolve) =>
      child.once('close', (code, signal) => {
        file?.end();
        run.exit = { code, signal };
        run.endedAt = Date.now();
        run.requested = this.#requested;
        run.lastLines = this.#raw.slice(-8).map((line) => line.slice(0, 500));
        if (this.#child === child) this.#child = undefined;
        for (const listener of this.#listeners) listener();
        resolve({ code, signal });
        if (!this.#requested && this.#options.supervise && !this.#disposed) {
          this.#restartTimer = setTimeout(() => {
            this.#restartTimer = undefined;
            if (!this.#disposed && !this.alive) this.start();
          }, this.#options.restartDelayMs);
        }
      }),
    );
    return this;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  get alive(): boolean {
    return this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  get exited(): Promise<Exit> {
    return this.#exited;
  }

  /** Runs that ended without the test asking (crashes, fatal errors): what a supervisor had to restart. */
  get unexpectedExits(): number {
    return this.runs.filter((run) => run.exit !== undefined && !run.requested).length;
  }

  /** One line per unplanned exit: pid, how long it ran, how it ended, the last error it logged. */
  crashes(): string[] {
    return this.runs
      .filter((run) => run.exit !== undefined && !run.requested)
      .map((run) => `${this.name} pid ${run.pid} ran ${Math.round(((run.endedAt ?? run.startedAt) - run.startedAt) / 1000)} s, ${JSON.stringify(run.exit)}: ${lastError(run.lastLines)}`);
  }

  /** Everything the process printed, every run, as one string (for "no secret in the logs" checks). */
  output(): string {
    return this.#raw.join('\n');
  }

  /** What the process wrote to stdout (its pino log), every run. */
  stdout(): string {
    return this.#raw.filter((_, i) => !this.#fromStderr[i]).join('\n');
  }

  /** What the process wrote to stderr, every run (a bad configuration's message goes there). */
  stderr(): string {
    return this.#raw.filter((_, i) => this.#fromStderr[i]).join('\n');
  }

  /** http://127.0.0.1:<HTTP_PORT>, for a process given a fixed HTTP_PORT. */
  get url(): string {
    const port = Number(this.env.HTTP_PORT);
    if (!Number.isInteger(port) || port <= 0) throw new Error(`${this.name} has no fixed HTTP_PORT (${this.env.HTTP_PORT ?? 'unset'})`);
    return `http://127.0.0.1:${port}`;
  }

  /** Resolves once /readyz answers 200; fails at once (with the output) when an unsupervised process exits. */
  async ready(timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!this.alive && !this.#options.supervise) throw new Error(`${this.name} exited before it was ready (${JSON.stringify(this.runs.at(-1)?.exit)}):\n${this.tail()}`);
      try {
        const response = await fetch(`${this.url}/readyz`, { signal: AbortSignal.timeout(3000) });
        await response.arrayBuffer();
        if (response.status === 200) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`${this.name} not ready within ${timeoutMs} ms:\n${this.tail()}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  /** The Prometheus exposition at /metrics. */
  async metrics(): Promise<string> {
    return (await fetch(`${this.url}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
  }

  /** SIGTERM, SIGKILL after graceMs: the graceful stop a test asks for. */
  stop(graceMs = 15_000): Promise<Exit | undefined> {
    return this.kill('SIGTERM', graceMs);
  }

  /** Resolves with the first log line at or after `since` (an index into logs) that matches. */
  waitForLog(predicate: (line: LogLine) => boolean, timeoutMs: number, what = 'log line', since = 0): Promise<LogLine> {
    return new Promise((resolve, reject) => {
      let done = false;
      const check = (): void => {
        if (done) return;
        const found = this.logs.slice(since).find(predicate);
        if (found !== undefined) {
          finish();
          resolve(found);
        }
      };
      const finish = (): void => {
        done = true;
        clearTimeout(timer);
        this.#listeners.delete(check);
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`${this.name}: no ${what} within ${timeoutMs} ms; last lines:\n${this.tail()}`));
      }, timeoutMs);
      this.#listeners.add(check);
      check();
    });
  }

  tail(lines = 20): string {
    return this.#raw
      .slice(-lines)
      .map((line) => line.slice(0, 400))
      .join('\n');
  }

  /** Sends the signal and waits for the exit (SIGKILL after graceMs for anything else). */
  async kill(signal: NodeJS.Signals = 'SIGTERM', graceMs = 30_000): Promise<Exit | undefined> {
    const child = this.#child;
    if (child === undefined || !this.alive) return undefined;
    this.#requested = true;
    const exited = this.#exited;
    child.kill(signal);
    if (signal !== 'SIGKILL') {
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const exit = await exited;
      clearTimeout(timer);
      return exit;
    }
    return exited;
  }

  /** Stops the current run (with `signal`) and starts a new one with the same environment. */
  async restart(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await this.kill(signal);
    this.start();
  }

  /** Resident set size of the current run in KiB (Linux /proc), undefined when not running. */
  rssKib(): number | undefined {
    const pid = this.pid;
    if (pid === undefined) return undefined;
    try {
      const match = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      return match ? Number(match[1]) : undefined;
    } catch {
      return undefined;
    }
  }

  /** Kills the process for good (no supervisor restart); safe to call twice. */
  async dispose(): Promise<void> {
    this.#disposed = true;
    if (this.#restartTimer !== undefined) clearTimeout(this.#restartTimer);
    await this.kill('SIGKILL');
    this.#listeners.clear();
  }
}

/** Runs a program once until it exits by itself (SIGKILL after timeoutMs): how it ended and what it printed. */
export async function runToExit(
  service: ServiceName,
  env: Record<string, string>,
  options: { script?: string; timeoutMs?: number } = {},
): Promise<Exit & { stdout: string; stderr: string; output: string; logs: LogLine[] }> {
  const run = new ServiceProcess(service, service, env, { script: options.script }).start();
  const timer = setTimeout(() => void run.kill('SIGKILL'), options.timeoutMs ?? 60_000);
  const exit = await run.exited;
  clearTimeout(timer);
  return { ...exit, stdout: run.stdout(), stderr: run.stderr(), output: run.output(), logs: run.logs };
}

/** The last error a process logged (its msg and err.message), from its last lines. */
function lastError(lines: string[] | undefined): string {
  for (const line of [...(lines ?? [])].reverse()) {
    try {
      const parsed = JSON.parse(line) as { level?: string; msg?: string; err?: { message?: string } };
      if (parsed.level === 'error' || parsed.level === 'fatal') return `${parsed.msg ?? ''}${parsed.err?.message ? `: ${parsed.err.message}` : ''}`.slice(0, 200);
    } catch {
      if (line.trim() !== '') return line.slice(0, 200);
    }
  }
  return 'no error logged';
}

/** GET a URL and parse JSON, with a timeout; undefined body when it is not JSON. */
export async function getJson<T = unknown>(url: string, timeoutMs = 10_000): Promise<{ status: number; body: T }> {
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: response.status, body: body as T };
}

/** Polls until GET url answers `status`, failing early when the process died without a supervisor. */
export async function waitForHttp(url: string, options: { status?: number; timeoutMs?: number; process?: ServiceProcess } = {}): Promise<void> {
  const { status = 200, timeoutMs = 120_000 } = options;
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  for (;;) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(3000) });
      await response.arrayBuffer();
      if (response.status === status) return;
      last = `status ${response.status}`;
    } catch (error) {
      last = (error as Error).message;
    }
    if (Date.now() > deadline) {
      throw new Error(`${url} did not answer ${status} within ${timeoutMs} ms (last: ${last})${options.process ? `; ${options.process.name} output:\n${options.process.tail()}` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
