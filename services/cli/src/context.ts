// What a command gets to work with; main.ts builds it from the process, tests build it from fakes.
import type { CommandSpec, GlobalOptions, OptionValues } from './args.js';
import type { JsonClient } from './http.js';
import type { Output } from './output.js';

export interface CommandContext {
  globals: GlobalOptions;
  out: Output;
  ingest: JsonClient;
  auditor: JsonClient;
  stdin: AsyncIterable<Buffer | string> & { isTTY?: boolean };
  readFile(path: string): Promise<string>;
  /** Aborted on Ctrl-C: long-running commands stop and report what they have. */
  signal: AbortSignal;
  /** Resolves after ms, or early when the signal is aborted. */
  sleep(ms: number): Promise<void>;
  now(): number;
  /** The environment (consensus parameters for chain verify). */
  env: Record<string, string | undefined>;
}

export interface Command {
  spec: CommandSpec;
  /** Resolves with the exit code. */
  run(context: CommandContext, options: OptionValues, positionals: string[]): Promise<number>;
}

export function abortableSleep(signal: AbortSignal): (ms: number) => Promise<void> {
  return (ms) =>
    new Promise((resolve) => {
      if (signal.aborted) {
        resolve();
        return;
      }
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      }
      signal.addEventListener('abort', done, { once: true });
    });
}
