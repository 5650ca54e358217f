// runService as a process: what every service's main.ts relies on (exit codes, log lines, SIGTERM drain).
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ServiceProcess } from '../../../../test/support/processes.js';

const fixture = fileURLToPath(new URL('./fixtures/service.ts', import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The fixture service to its end; with a signal, sent as soon as it logs that it listens. */
async function run(env: Record<string, string>, signalOnListening?: NodeJS.Signals): Promise<Run> {
  const service = new ServiceProcess('fixture', 'fixture', { HTTP_PORT: '0', ...env }, { script: fixture }).start();
  if (signalOnListening) {
    const listening = service.waitForLog((line) => line.msg === 'fixture listening', 60_000, 'fixture listening');
    await Promise.race([listening.then(() => service.kill(signalOnListening)), service.exited]);
    listening.catch(() => undefined);
  }
  const { code } = await service.exited;
  await service.dispose();
  return { code, stdout: service.stdout(), stderr: service.stderr() };
}

const messages = (stdout: string): string[] =>
  stdout
    .trim()
    .split('\n')
    .map((line) => (JSON.parse(line) as { msg: string }).msg);

describe('runService', () => {
  it('exits 2 naming every bad variable, before logging anything', async () => {
    const result = await run({ HTTP_PORT: 'x', FIXTURE_MODE: 'nope' });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('chainlog-fixture: invalid configuration');
    for (const name of ['HTTP_PORT', 'FIXTURE_MODE']) expect(result.stderr).toContain(name);
  });

  it('listens, then drains and stops the work on SIGTERM, exit 0', async () => {
    const result = await run({ FIXTURE_MODE: 'ok' }, 'SIGTERM');
    expect(result.code).toBe(0);
    expect(messages(result.stdout)).toEqual(['fixture listening', 'shutting down', 'fixture work stopped', 'fixture stopped']);
    expect(JSON.parse(result.stdout.split('\n')[0] ?? '')).toMatchObject({ mode: 'ok', port: expect.any(Number) });
  });

  it('reports a failed start on the log and on stderr, stops what started, exit 1', async () => {
    const result = await run({ FIXTURE_MODE: 'fail-start' });
    expect(result.code).toBe(1);
    expect(messages(result.stdout)).toEqual(['fixture listening', 'fixture failed to start', 'fixture work stopped', 'fixture stopped']);
    expect(result.stderr).toContain('chainlog-fixture: failed to start: Error: the broker said no');
  });

  it('stops and exits 1 on a fatal error after the start', async () => {
    const result = await run({ FIXTURE_MODE: 'fatal' });
    expect(result.code).toBe(1);
    expect(messages(result.stdout)).toEqual(['fixture listening', 'fixture cannot continue', 'fixture work stopped', 'fixture stopped']);
  });
});
