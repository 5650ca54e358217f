// scripts/lib/ports.ts: no port is handed out twice (in one process here; across processes in
// ports.integration.test.ts), blocks are consecutive, and claims of dead processes lapse.
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { allocatePort, allocatePorts, claimPort, portIsFree, releasePort } from '../scripts/lib/ports.js';

let registry: string;
beforeEach(() => {
  registry = mkdtempSync(join(tmpdir(), 'chainlog-ports-test-'));
});
afterEach(() => rmSync(registry, { recursive: true, force: true }));

/** A pid that is not running: above the kernel's pid_max default and never handed out. */
const DEAD_PID = 2 ** 22 + 1;

describe('allocatePort', () => {
  it('never returns the same port twice, even to callers racing in parallel', async () => {
    const ports = await Promise.all(Array.from({ length: 300 }, () => allocatePort({ registry, purpose: 'test' })));
    expect(new Set(ports).size).toBe(300);
    expect(readdirSync(registry).map(Number).sort()).toEqual([...ports].sort());
    expect(readFileSync(join(registry, String(ports[0])), 'utf8')).toMatch(new RegExp(`^${process.pid} \\d+ test\\n$`));
  });

  it('gives consecutive blocks that no later allocation overlaps', async () => {
    const blocks = await Promise.all(Array.from({ length: 20 }, () => allocatePorts(3, { registry, consecutive: true })));
    for (const [first, second, third] of blocks) expect([second! - first!, third! - first!]).toEqual([1, 2]);
    const singles = await Promise.all(Array.from({ length: 100 }, () => allocatePort({ registry })));
    const all = [...blocks.flat(), ...singles];
    expect(new Set(all).size).toBe(all.length);
  });

  it('returns ports that can be listened on', async () => {
    const ports = await allocatePorts(5, { registry });
    for (const port of ports) expect(await portIsFree(port)).toBe(true);
  });

  it('rejects a count that is not a positive integer', async () => {
    await expect(allocatePorts(0, { registry })).rejects.toThrow(/positive integer/);
  });
});

describe('claimPort', () => {
  it('refuses a port a live process holds and takes over one whose process is gone', () => {
    writeFileSync(join(registry, '40001'), `${process.ppid} ${Date.now()} other run\n`);
    writeFileSync(join(registry, '40002'), `${DEAD_PID} ${Date.now()} crashed run\n`);
    writeFileSync(join(registry, '40003'), `${process.ppid} ${Date.now() - 25 * 3600_000} pid reused since\n`);
    expect(claimPort(40001, { registry })).toBe(false);
    expect(claimPort(40002, { registry })).toBe(true);
    expect(claimPort(40003, { registry })).toBe(true);
    expect(readFileSync(join(registry, '40002'), 'utf8')).toMatch(new RegExp(`^${process.pid} `));
    // Nothing is left behind by the takeover.
    expect(readdirSync(registry).sort()).toEqual(['40001', '40002', '40003']);
  });

  it('is held until released by its owner', () => {
    expect(claimPort(40010, { registry })).toBe(true);
    expect(claimPort(40010, { registry })).toBe(false);
    releasePort(40010, { registry });
    expect(claimPort(40010, { registry })).toBe(true);
  });

  it('is not released by a process that does not own it', () => {
    writeFileSync(join(registry, '40020'), `${process.ppid} ${Date.now()} other run\n`);
    releasePort(40020, { registry });
    expect(readdirSync(registry)).toEqual(['40020']);
  });
});
