/**
 * The guard against an index an operating-system crash may have damaged (docs/architecture.md, "Durability"): an
 * index written without fsync is marked open, in a small fsynced file beside it, with the boot of the OS it was
 * opened under; one found open under another boot (the OS stopped without closing it) is not trusted.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** The marker an open store leaves beside its database (removed by a clean close): which boot of the OS it was opened under. */
export const OPEN_MARKER = 'index.open';

/** This boot of the operating system (Linux's boot id; undefined elsewhere, where an OS crash is not detected). */
export function currentBootId(): string | undefined {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** Why the store in `dir` (its database in `dir/database`) cannot be trusted (open when the OS stopped), or undefined. */
export function openedUnderAnotherBoot(dir: string, database: string, bootId: string | undefined): string | undefined {
  const marker = join(dir, OPEN_MARKER);
  if (bootId === undefined || !existsSync(marker) || !existsSync(join(dir, database))) return undefined;
  let openedUnder: unknown;
  try {
    openedUnder = (JSON.parse(readFileSync(marker, 'utf8')) as { bootId?: unknown }).bootId;
  } catch {
    openedUnder = undefined;
  }
  if (openedUnder === bootId) return undefined;
  return `the index was open when the operating system stopped (boot ${String(openedUnder)}, now ${bootId}): written without fsync, it may be damaged`;
}

/** Writes the marker and flushes it (and its directory entry) before the first write can reach the disk. */
export function markOpen(dir: string, bootId: string | undefined): void {
  const fd = openSync(join(dir, OPEN_MARKER), 'w');
  try {
    writeSync(fd, JSON.stringify({ bootId: bootId ?? null, pid: process.pid, openedAt: new Date().toISOString() }));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  const dirFd = openSync(dir, 'r');
  try {
    fsyncSync(dirFd);
  } finally {
    closeSync(dirFd);
  }
}
