// main.ts as a process: a bad configuration ends it with exit status 2 and every problem on stderr.
import { describe, expect, it } from 'vitest';
import { runToExit } from '../../../test/support/processes.js';

describe('main', () => {
  it('exits 2 with every problem on stderr when the configuration is bad', async () => {
    const result = await runToExit('auditor', { HTTP_PORT: '99999', BLOCK_REWARD: '0' });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('HTTP_PORT must be an integer from 0 to 65535');
    expect(result.stderr).toContain('BLOCK_REWARD must be an integer from 1');
  });
});
