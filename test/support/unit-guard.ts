// Setup file of the unit tier (vitest.unit.config.ts): a unit test file starts no process. Starting one
// (a service, helm, java, ...) throws at the call, naming the rule, so the file is renamed *.integration.test.ts
// rather than the fast tier quietly turning into a slow one. Kafka needs no guard here: the unit tier has no
// broker, and kafkaBrokers() (test/support/kafka.ts) already fails with the same advice when none was provided.
import childProcess from 'node:child_process';
import { syncBuiltinESMExports } from 'node:module';

export const UNIT_RULE = 'unit tests start no process and need no broker or installed tool: name this file *.integration.test.ts so it runs in `npm test` only';

const GUARDED = ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork'] as const;

for (const name of GUARDED) {
  (childProcess as unknown as Record<string, unknown>)[name] = () => {
    throw new Error(`child_process.${name}() in a unit test: ${UNIT_RULE}`);
  };
}
// Named imports (`import { spawn } from 'node:child_process'`) are live views of the object patched above.
syncBuiltinESMExports();
