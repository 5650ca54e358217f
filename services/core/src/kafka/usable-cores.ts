// How many cores this process may keep busy at once: the machine's (availableParallelism) capped by a CPU
// quota of its cgroup (a container's CPU limit, e.g. the chart's `cpu: "1"`). A second thread only pays
// where it can run beside the first: under a quota of one core it just adds its own cost to the same budget.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/** Reads a file's text, or undefined when it does not exist (no cgroup of that version). */
export type ReadText = (path: string) => string | undefined;

const readText: ReadText = (path) => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
};

/** The CPU quota in cores from cgroup v2 (`cpu.max`: "<quota> <period>" or "max <period>") or v1 (cfs files). */
export function cgroupCpuQuota(read: ReadText = readText): number | undefined {
  const v2 = read('/sys/fs/cgroup/cpu.max')?.trim().split(/\s+/);
  if (v2 !== undefined) {
    const [quota, period] = v2.map(Number);
    return quota !== undefined && period !== undefined && quota > 0 && period > 0 ? quota / period : undefined;
  }
  const quota = Number(read('/sys/fs/cgroup/cpu/cpu.cfs_quota_us'));
  const period = Number(read('/sys/fs/cgroup/cpu/cpu.cfs_period_us'));
  return quota > 0 && period > 0 ? quota / period : undefined; // -1: no quota
}

export function usableCores(read: ReadText = readText, cores = availableParallelism()): number {
  return Math.min(cores, cgroupCpuQuota(read) ?? Number.POSITIVE_INFINITY);
}
