import { describe, expect, it } from 'vitest';
import { cgroupCpuQuota, usableCores } from '../../src/kafka/usable-cores.js';

const files = (entries: Record<string, string>) => (path: string) => entries[path];

describe('usable cores', () => {
  it('reads a cgroup v2 quota, and none when it is "max"', () => {
    expect(cgroupCpuQuota(files({ '/sys/fs/cgroup/cpu.max': '100000 100000\n' }))).toBe(1);
    expect(cgroupCpuQuota(files({ '/sys/fs/cgroup/cpu.max': '250000 100000\n' }))).toBe(2.5);
    expect(cgroupCpuQuota(files({ '/sys/fs/cgroup/cpu.max': 'max 100000\n' }))).toBeUndefined();
  });

  it('reads a cgroup v1 quota, and none when it is -1', () => {
    const v1 = (quota: string) => files({ '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': quota, '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000\n' });
    expect(cgroupCpuQuota(v1('50000\n'))).toBe(0.5);
    expect(cgroupCpuQuota(v1('-1\n'))).toBeUndefined();
    expect(cgroupCpuQuota(files({}))).toBeUndefined();
  });

  it('caps the machine cores by the quota (the chart limit of one core keeps the source reader on one thread)', () => {
    expect(usableCores(files({ '/sys/fs/cgroup/cpu.max': '100000 100000' }), 8)).toBe(1);
    expect(usableCores(files({ '/sys/fs/cgroup/cpu.max': 'max 100000' }), 8)).toBe(8);
    expect(usableCores(files({}), 2)).toBe(2);
  });
});
