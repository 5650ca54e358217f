// main.ts as a process: a bad configuration ends it with exit status 2 and every problem on stderr.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

describe('main', () => {
  it('exits 2 with every problem on stderr when the configuration is bad', () => {
    const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
    const result = spawnSync(process.execPath, ['--conditions=@chainlog/source', '--import', 'tsx', main], {
      env: { PATH: process.env.PATH, HTTP_PORT: '99999', BLOCK_REWARD: '0' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('HTTP_PORT must be an integer from 0 to 65535');
    expect(result.stderr).toContain('BLOCK_REWARD must be an integer from 1');
  });
});
