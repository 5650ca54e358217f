// Supervises the services `npm start` runs: each is a child process in its own process group (so a
// terminal's Ctrl-C reaches only the supervisor, which then stops them in order), restarted with
// exponential backoff when it exits on its own, its output pretty-printed with a coloured prefix and
// kept raw in a log file.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { colourFor, createLineFormatter, LineSplitter, type LineFormatter } from './log-format.js';

export interface ServiceSpec {
  name: string;
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Exit codes after which a restart cannot help (2: invalid configuration). */
  fatalExitCodes?: number[];
}

export interface Backoff {
  initialMs: number;
  maxMs: number;
  /** A run at least this long resets the backoff. */
  resetAfterMs: number;
}

export interface SupervisorOptions {
  /** Where formatted lines go (the terminal). */
  write: (line: string) => void;
  colours: boolean;
  /** Raw output of each service goes to <logDir>/<name>.log when set. */
  logDir?: string;
  backoff?: Backoff;
  /** How long a service gets to stop after SIGTERM before SIGKILL. */
  graceMs?: number;
  /** Called whenever a pid changes (start, restart, exit). */
  onChange?: () => void;
  /** Width of the name column (defaults to the longest name). */
  nameWidth?: number;
}

interface Managed {
  spec: ServiceSpec;
  format: LineFormatter;
  log: WriteStream | undefined;
  child: ChildProcess | undefined;
  startedAt: number;
  failures: number;
  restartTimer: NodeJS.Timeout | undefined;
  exited: Promise<void> | undefined;
  gaveUp: boolean;
}

export const DEFAULT_BACKOFF: Backoff = { initialMs: 1000, maxMs: 30_000, resetAfterMs: 60_000 };

/** The delay before restart number `failures` (1, 2, …): doubling from initialMs, capped at maxMs. */
export function backoffDelay(failures: number, backoff: Backoff = DEFAULT_BACKOFF): number {
  return Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.max(0, failures - 1));
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Signals a whole process group (the service and anything it started); false when none is left. */
export function signalGroup(pid: number, signal: NodeJS.Signals): boolean {
  try {
    // Every service is started as the leader of its own group, so -pid names exactly its group.
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}

export class Supervisor {
  readonly #services: Managed[];
  readonly #options: SupervisorOptions;
  readonly #backoff: Backoff;
  #stopping = false;

  constructor(specs: readonly ServiceSpec[], options: SupervisorOptions) {
    this.#options = options;
    this.#backoff = options.backoff ?? DEFAULT_BACKOFF;
    const width = options.nameWidth ?? Math.max(...specs.map((spec) => spec.name.length));
    if (options.logDir !== undefined) mkdirSync(options.logDir, { recursive: true });
    this.#services = specs.map((spec, index) => ({
      spec,
      format: createLineFormatter({ name: spec.name, width, colour: colourFor(index), colours: options.colours }),
      log: options.logDir === undefined ? undefined : createWriteStream(join(options.logDir, `${spec.name}.log`), { flags: 'a' }),
      child: undefined,
      startedAt: 0,
      failures: 0,
      restartTimer: undefined,
      exited: undefined,
      gaveUp: false,
    }));
  }

  get stopping(): boolean {
    return this.#stopping;
  }

  start(): void {
    for (const service of this.#services) this.#spawn(service);
  }

  /** The pid of each service's current process (undefined while it is down). */
  pids(): Record<string, number | undefined> {
    return Object.fromEntries(this.#services.map((service) => [service.spec.name, service.child?.pid]));
  }

  /** Names of the services that are not running and will not be restarted. */
  failed(): string[] {
    return this.#services.filter((service) => service.gaveUp).map((service) => service.spec.name);
  }

  #spawn(service: Managed): void {
    const { spec } = service;
    const child = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: spec.env,
      // Its own process group: Ctrl-C in the terminal does not reach it, the supervisor stops it in order.
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    service.child = child;
    service.startedAt = Date.now();
    service.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    for (const [stream, name] of [
      [child.stdout, 'stdout'],
      [child.stderr, 'stderr'],
    ] as const) {
      const splitter = new LineSplitter();
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        service.log?.write(chunk);
        for (const line of splitter.push(chunk)) this.#options.write(service.format(line, name));
      });
      stream.on('end', () => {
        for (const line of splitter.end()) this.#options.write(service.format(line, name));
      });
    }
    child.once('error', (error) => {
      this.#say(service, `could not start: ${error.message}`);
    });
    child.once('exit', (code, signal) => this.#exited(service, child, code, signal));
    this.#options.onChange?.();
  }

  #exited(service: Managed, child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (service.child !== child) return;
    service.child = undefined;
    // Anything the service left in its group goes with it.
    if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
    this.#options.onChange?.();
    const how = signal === null ? `exited with code ${code}` : `was killed by ${signal}`;
    if (this.#stopping) {
      this.#say(service, `stopped (${how})`);
      return;
    }
    if (code !== null && (service.spec.fatalExitCodes ?? [2]).includes(code)) {
      service.gaveUp = true;
      this.#say(service, `${how}: its configuration is invalid (see above); not restarting it`);
      return;
    }
    const ranFor = Date.now() - service.startedAt;
    service.failures = ranFor >= this.#backoff.resetAfterMs ? 1 : service.failures + 1;
    const delay = backoffDelay(service.failures, this.#backoff);
    this.#say(service, `${how} after ${(ranFor / 1000).toFixed(1)} s; restarting in ${(delay / 1000).toFixed(1)} s (restart ${service.failures})`);
    service.restartTimer = setTimeout(() => {
      service.restartTimer = undefined;
      if (!this.#stopping) this.#spawn(service);
    }, delay);
  }

  #say(service: Managed, message: string): void {
    const line = JSON.stringify({ level: 'warn', time: new Date().toISOString(), msg: `[supervisor] ${message}` });
    this.#options.write(service.format(line, 'stdout'));
  }

  /**
   * Stops every service: SIGTERM to each process group at once, then SIGKILL for those still running
   * after the grace period. Resolves when every process has exited.
   */
  async stop(): Promise<void> {
    this.#stopping = true;
    const graceMs = this.#options.graceMs ?? 20_000;
    await Promise.all(
      this.#services.map(async (service) => {
        if (service.restartTimer !== undefined) clearTimeout(service.restartTimer);
        const child = service.child;
        if (child?.pid === undefined) return;
        signalGroup(child.pid, 'SIGTERM');
        const exited = service.exited ?? Promise.resolve();
        let timer: NodeJS.Timeout | undefined;
        const timedOut = await Promise.race([
          exited.then(() => false),
          new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), graceMs))),
        ]);
        clearTimeout(timer);
        if (timedOut) {
          this.#say(service, `did not stop within ${graceMs / 1000} s; killing it`);
          signalGroup(child.pid, 'SIGKILL');
          await exited;
        }
      }),
    );
    await Promise.all(this.#services.map((service) => new Promise<void>((resolve) => (service.log ? service.log.end(resolve) : resolve()))));
  }

  /** SIGKILL for everything, now (a second Ctrl-C, or the supervisor itself failing). Synchronous. */
  killAll(): void {
    this.#stopping = true;
    for (const service of this.#services) {
      if (service.restartTimer !== undefined) clearTimeout(service.restartTimer);
      const pid = service.child?.pid;
      if (pid !== undefined) signalGroup(pid, 'SIGKILL');
    }
  }
}
