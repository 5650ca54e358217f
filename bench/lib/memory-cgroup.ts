// A memory cgroup per service a benchmark starts (`--memory-limit <MiB>`), as a container's memory limit is: the
// kernel charges the process' anonymous memory and the page cache it touches (the index's files, mapped or read) to the group,
// reclaims clean file pages when the group reaches its limit, and OOM-kills the process when what cannot be
// reclaimed does not fit. What a run reports from it: the group's peak usage, how often the limit was hit
// (v1 failcnt, v2 events "max") and OOM kills. The group is made inside the benchmark's own cgroup, so every
// limit of the parent (a container's, a session's) still applies, and removed when the process has exited.
// cgroup v1 (memory controller at /sys/fs/cgroup/memory) and v2 (unified, the memory controller enabled for
// the parent's children); root (or a delegated subtree) is needed to make groups.
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export type CgroupVersion = 1 | 2;

export interface CgroupFigures {
  readonly limitBytes: number;
  /** The group's highest usage (v1 memory.max_usage_in_bytes, v2 memory.peak): anonymous and page cache. */
  readonly peakBytes: number;
  /** How often the usage hit the limit (v1 memory.failcnt, v2 memory.events "max"). */
  readonly limitHits: number;
  /** Processes the kernel's OOM killer killed in the group (v1 memory.oom_control, v2 memory.events "oom_kill"). */
  readonly oomKills: number;
}

/**
 * The benchmark's own memory cgroup, from /proc/self/cgroup: v1's "N:memory:/path" line, else v2's "0::/path"
 * line; undefined when neither is there.
 */
export function ownMemoryCgroup(procSelfCgroup: string, v2Mounted: boolean): { version: CgroupVersion; path: string } | undefined {
  const lines = procSelfCgroup.split('\n').map((line) => line.split(':'));
  const v1 = lines.find((fields) => fields.length >= 3 && (fields[1] ?? '').split(',').includes('memory'));
  if (v1 !== undefined) return { version: 1, path: fields(v1) };
  const v2 = lines.find((fields) => fields.length >= 3 && fields[0] === '0' && fields[1] === '');
  if (v2 !== undefined && v2Mounted) return { version: 2, path: fields(v2) };
  return undefined;
}

/** The path field of a /proc/self/cgroup line (it may contain ':'). */
function fields(split: readonly string[]): string {
  return split.slice(2).join(':');
}

/** A "key value" per line file (v2 memory.events, v1 memory.oom_control): the value of `key`, 0 when absent. */
export function keyedValue(text: string, key: string): number {
  for (const line of text.split('\n')) {
    const [name, value] = line.trim().split(/\s+/);
    if (name === key) return Number(value);
  }
  return 0;
}

/**
 * The command that runs `command args` inside the group: a shell that moves itself into the group, then execs
 * the command, so that the process is charged from its first allocation (moving it in later would leave what
 * it allocated before charged elsewhere) and its pid is the command's.
 */
export function commandInCgroup(procsFile: string, command: string, args: readonly string[]): { command: string; args: string[] } {
  return { command: 'sh', args: ['-c', `echo $$ > '${procsFile.replaceAll("'", "'\\''")}' && exec "$0" "$@"`, command, ...args] };
}

const MOUNT = '/sys/fs/cgroup';

export class MemoryCgroupError extends Error {}

/** Makes a memory cgroup with the limit under the benchmark's own one. */
export function createMemoryCgroup(name: string, limitBytes: number): MemoryCgroupHandle {
  const own = ownMemoryCgroup(readFileSync('/proc/self/cgroup', 'utf8'), existsSync(join(MOUNT, 'cgroup.controllers')));
  if (own === undefined) throw new MemoryCgroupError('no memory cgroup found in /proc/self/cgroup');
  const parent = own.version === 1 ? join(MOUNT, 'memory', own.path) : join(MOUNT, own.path);
  if (own.version === 2 && !readText(join(parent, 'cgroup.subtree_control')).split(/\s+/).includes('memory')) {
    throw new MemoryCgroupError(`the memory controller is not enabled for the children of ${parent} (cgroup.subtree_control)`);
  }
  const path = join(parent, name);
  try {
    mkdirSync(path);
    if (own.version === 1) {
      writeFileSync(join(path, 'memory.limit_in_bytes'), String(limitBytes));
      // No swap here; where there is, the limit must hold for memory and swap together, as in a container.
      if (existsSync(join(path, 'memory.memsw.limit_in_bytes'))) writeFileSync(join(path, 'memory.memsw.limit_in_bytes'), String(limitBytes));
    } else {
      writeFileSync(join(path, 'memory.max'), String(limitBytes));
      if (existsSync(join(path, 'memory.swap.max'))) writeFileSync(join(path, 'memory.swap.max'), '0');
    }
  } catch (error) {
    rmdirQuietly(path);
    throw new MemoryCgroupError(`could not make the memory cgroup ${path} (root or a delegated cgroup is needed): ${(error as Error).message}`, { cause: error });
  }
  return new MemoryCgroupHandle(path, own.version, limitBytes);
}

export class MemoryCgroupHandle {
  constructor(
    readonly path: string,
    readonly version: CgroupVersion,
    readonly limitBytes: number,
  ) {}

  /** `command args`, run inside this group (commandInCgroup). */
  wrap(command: string, args: readonly string[]): { command: string; args: string[] } {
    return commandInCgroup(join(this.path, 'cgroup.procs'), command, args);
  }

  figures(): CgroupFigures {
    const file = (name: string): string => readText(join(this.path, name));
    if (this.version === 1) {
      return {
        limitBytes: this.limitBytes,
        peakBytes: Number(file('memory.max_usage_in_bytes')),
        limitHits: Number(file('memory.failcnt')),
        oomKills: keyedValue(file('memory.oom_control'), 'oom_kill'),
      };
    }
    const events = file('memory.events');
    // memory.peak exists from Linux 5.19; before it, the usage now is the best there is.
    const peak = existsSync(join(this.path, 'memory.peak')) ? file('memory.peak') : file('memory.current');
    return { limitBytes: this.limitBytes, peakBytes: Number(peak), limitHits: keyedValue(events, 'max'), oomKills: keyedValue(events, 'oom_kill') };
  }

  /** The group's usage now split as the kernel charges it: anonymous and page cache (file). */
  usage(): { anon: number; file: number } {
    const stat = readText(join(this.path, 'memory.stat'));
    return this.version === 1 ? { anon: keyedValue(stat, 'total_rss'), file: keyedValue(stat, 'total_cache') } : { anon: keyedValue(stat, 'anon'), file: keyedValue(stat, 'file') };
  }

  /** Removes the group once its processes have exited (its page cache moves to the parent). */
  async remove(): Promise<void> {
    for (let attempt = 0; attempt < 50; attempt++) {
      try {
        rmdirSync(this.path);
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
        await new Promise((resolve) => setTimeout(resolve, 100)); // EBUSY: a process still exiting
      }
    }
    console.error(`could not remove the memory cgroup ${this.path}: remove it with rmdir`);
  }
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function rmdirQuietly(path: string): void {
  try {
    rmdirSync(path);
  } catch {
    // not made, or not empty: nothing more to do here
  }
}
