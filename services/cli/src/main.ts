#!/usr/bin/env node
// Wiring only: process → runCli → exit code. Ctrl-C aborts the running command, which stops cleanly
// (a second Ctrl-C exits at once).
import { runCli } from './cli.js';
import { ConfigFileError, withConfigFile } from './config-file.js';

const controller = new AbortController();
let firstSignalAt: number | undefined;
const onSignal = (): void => {
  // A terminal's Ctrl-C can arrive twice at once (to the launcher and to this process): only a second
  // press a moment later means "exit now".
  if (firstSignalAt !== undefined) {
    if (Date.now() - firstSignalAt > 1000) process.exit(130);
    return;
  }
  firstSignalAt = Date.now();
  controller.abort();
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

const argv = process.argv.slice(2);
let env: Record<string, string | undefined>;
try {
  env = withConfigFile(argv, process.env, process.cwd());
} catch (error) {
  if (!(error instanceof ConfigFileError)) throw error;
  process.stderr.write(`chainlog: ${error.message}\n`);
  process.exit(2);
}

runCli({
  argv,
  env,
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  signal: controller.signal,
}).then(
  (code) => {
    // Exit once the output is flushed: keep-alive sockets, Kafka clients or timers must not keep a
    // finished command alive.
    process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
  },
  (error: unknown) => {
    process.stderr.write(`chainlog: unexpected error: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
