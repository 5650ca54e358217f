// bench/lib/memory-cgroup.ts, the parts that need no cgroup: which cgroup the benchmark runs in and the keyed
// counter files (the shell line that enters a group: bench-memory-cgroup.integration.test.ts).
import { describe, expect, it } from 'vitest';
import { keyedValue, ownMemoryCgroup } from '../bench/lib/memory-cgroup.js';

describe('ownMemoryCgroup', () => {
  it('finds the v1 memory line, also among combined controllers and before the v2 line', () => {
    const text = '9:name=systemd:/\n4:memory:/process_api/abc\n0::/\n';
    expect(ownMemoryCgroup(text, true)).toEqual({ version: 1, path: '/process_api/abc' });
    expect(ownMemoryCgroup('5:cpu,memory:/a:b\n', false)).toEqual({ version: 1, path: '/a:b' });
  });

  it('takes the v2 line only where the unified hierarchy is mounted', () => {
    expect(ownMemoryCgroup('0::/user.slice/session-1.scope\n', true)).toEqual({ version: 2, path: '/user.slice/session-1.scope' });
    expect(ownMemoryCgroup('0::/user.slice\n', false)).toBeUndefined();
    expect(ownMemoryCgroup('3:cpu:/x\n', true)).toBeUndefined();
  });
});

describe('keyedValue', () => {
  it('reads v1 memory.oom_control and v2 memory.events, 0 when the key is absent', () => {
    expect(keyedValue('oom_kill_disable 0\nunder_oom 0\noom_kill 3\n', 'oom_kill')).toBe(3);
    const events = 'low 0\nhigh 0\nmax 17\noom 2\noom_kill 1\noom_group_kill 0\n';
    expect(keyedValue(events, 'max')).toBe(17);
    expect(keyedValue(events, 'oom_kill')).toBe(1);
    expect(keyedValue(events, 'oom')).toBe(2);
    expect(keyedValue('', 'oom_kill')).toBe(0);
  });
});
