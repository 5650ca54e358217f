// bench/lib/memory-cgroup.ts: the shell line that enters a memory cgroup before it execs the service (a child
// process, hence an integration test; a file stands in for cgroup.procs, which needs no root).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commandInCgroup } from '../bench/lib/memory-cgroup.js';

describe('commandInCgroup', () => {
  it('writes its own pid to the procs file, then execs the command with its arguments intact', () => {
    const dir = mkdtempSync(join(tmpdir(), "chainlog-cgroup 'test-"));
    try {
      const procs = join(dir, 'cgroup.procs');
      const wrapped = commandInCgroup(procs, process.execPath, ['-e', 'console.log(process.pid, JSON.stringify(process.argv.slice(1)))', 'a b', '$HOME', "it's"]);
      const result = spawnSync(wrapped.command, wrapped.args, { encoding: 'utf8' });
      expect(result.status).toBe(0);
      const line = result.stdout.trim();
      const [pid, argv] = [line.slice(0, line.indexOf(' ')), line.slice(line.indexOf(' ') + 1)];
      // exec: the pid written is the command's own.
      expect(readFileSync(procs, 'utf8').trim()).toBe(pid);
      expect(JSON.parse(argv)).toEqual(['a b', '$HOME', "it's"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('does not run the command when the group cannot be entered', () => {
    const wrapped = commandInCgroup('/nonexistent/dir/cgroup.procs', process.execPath, ['-e', 'console.log("ran")']);
    const result = spawnSync(wrapped.command, wrapped.args, { encoding: 'utf8' });
    expect(result.status).not.toBe(0);
    expect(result.stdout).not.toContain('ran');
  });
});
