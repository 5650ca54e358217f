// A miner as a separate process, started the way developers run it from source:
// `node --conditions=@chainlog/source --import tsx services/miner/src/main.ts`.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
export const SOURCE_NODE_ARGS = ['--conditions=@chainlog/source', '--import', 'tsx'];

export interface LogLine {
  level: string;
  msg: string;
  [field: string]: unknown;
}

export class MinerProcess {
  readonly logs: LogLine[] = [];
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  #listeners: (() => void)[] = [];

  constructor(env: Record<string, string>) {
    this.child = spawn(process.execPath, [...SOURCE_NODE_ARGS, 'services/miner/src/main.ts'], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const onLine = (line: string): void => {
      try {
        this.logs.push(JSON.parse(line) as LogLine);
      } catch {
        this.logs.push({ level: 'raw', msg: line });
      }
      for (const listener of this.#listeners) listener();
    };
    if (this.child.stdout) createInterface({ input: this.child.stdout }).on('line', onLine);
    if (this.child.stderr) createInterface({ input: this.child.stderr }).on('line', onLine);
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  /** Resolves with the first log line (already logged or to come) that matches. */
  waitForLog(predicate: (line: LogLine) => boolean, timeoutMs: number, what = 'log line'): Promise<LogLine> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const found = this.logs.find(predicate);
        if (found === undefined) return false;
        clearTimeout(timer);
        this.#listeners = this.#listeners.filter((listener) => listener !== onChange);
        resolve(found);
        return true;
      };
      const onChange = (): void => void check();
      const timer = setTimeout(() => {
        this.#listeners = this.#listeners.filter((listener) => listener !== onChange);
        reject(new Error(`no ${what} within ${timeoutMs} ms; last lines:\n${this.tail()}`));
      }, timeoutMs);
      if (!check()) this.#listeners.push(onChange);
    });
  }

  tail(lines = 15): string {
    return this.logs
      .slice(-lines)
      .map((line) => JSON.stringify(line).slice(0, 300))
      .join('\n');
  }

  async kill(signal: NodeJS.Signals): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    await this.exited;
  }
}
