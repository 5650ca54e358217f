// main.ts as a process: a bad configuration ends it with exit status 2 and one message naming all problems.
import { describe, expect, it } from 'vitest';
import { runToExit } from '../../../test/support/processes.js';

describe('main', () => {
  it('makes the process exit with code 2 and one message naming all problems', async () => {
    const result = await runToExit('miner', { HOSTNAME: 'm-0', DIFFICULTY: 'x', POW_WORKERS: '0' });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/invalid configuration/);
    expect(result.stderr).toMatch(/DIFFICULTY/);
    expect(result.stderr).toMatch(/POW_WORKERS/);
  });
});
