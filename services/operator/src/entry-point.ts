// The operator package's one-shot programs (provision-topics.js, miner-keys.js) run when executed directly
// (`node services/operator/dist/<program>.js`) and stay side-effect free when imported by tests.
import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, type LogLevel } from '@chainlog/core/config';
import type { Logger } from '@chainlog/core/logging';

/** True when the module at moduleUrl (its import.meta.url) is the script node was started with. */
export function isEntryPoint(moduleUrl: string): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(resolve(script)) === realpathSync(fileURLToPath(moduleUrl));
  } catch {
    return false;
  }
}

/** Runs the program and exits with its code (1 when it throws). */
export function runAsProgram(run: () => Promise<number>): void {
  run().then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}

export interface OneShot<C extends { readonly logLevel: LogLevel }> {
  /** Reads and validates the environment; throws ConfigError naming every problem. */
  readonly read: () => C;
  readonly makeLogger: (level: LogLevel) => Logger;
  readonly work: (config: C, logger: Logger) => Promise<unknown>;
  /** Logs why the work failed (the exit code is 1 either way). */
  readonly logFailure: (error: unknown, config: C, logger: Logger) => void;
}

/** The Secret-writing hook Jobs' shape: a bad configuration exits 2 with every problem logged, a failure 1, success 0. */
export async function runOneShot<C extends { readonly logLevel: LogLevel }>(program: OneShot<C>): Promise<number> {
  let config: C;
  try {
    config = program.read();
  } catch (error) {
    program.makeLogger('info').error(error instanceof ConfigError ? { problems: error.problems } : { err: error }, (error as Error).message);
    return 2;
  }
  const logger = program.makeLogger(config.logLevel);
  try {
    await program.work(config, logger);
    return 0;
  } catch (error) {
    program.logFailure(error, config, logger);
    return 1;
  }
}
