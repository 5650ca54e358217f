#!/usr/bin/env node
// The `chainlog-verify` bin: see verify-command.ts.
import { runVerifyCommand } from './verify-command.js';

process.exitCode = await runVerifyCommand(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
});
