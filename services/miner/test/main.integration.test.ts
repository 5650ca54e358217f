// main.ts as a process: a bad configuration ends it with exit status 2 and one message naming all problems.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

describe('main', () => {
  it('makes the process exit with code 2 and one message naming all problems', () => {
    const result = spawnSync(process.execPath, ['--conditions=@chainlog/source', '--import', 'tsx', 'services/miner/src/main.ts'], {
      env: { PATH: process.env.PATH ?? '', HOSTNAME: 'm-0', DIFFICULTY: 'x', POW_WORKERS: '0' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/invalid configuration/);
    expect(result.stderr).toMatch(/DIFFICULTY/);
    expect(result.stderr).toMatch(/POW_WORKERS/);
  });
});
