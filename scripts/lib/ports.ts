// The one port allocator of a run: every port a test, a bench or a helper hands to a broker or a service comes
// from here, and a port it returned is never returned again while that claim holds, across every process of
// the run (vitest's main process, its workers, the children they start) and across concurrent runs on one
// machine. Asking the OS for a free port (listen on port 0, close) is not enough on its own: the port is free
// again the moment the probe closes, so the next probe, in this process or another, may get the same one
// ("port N is given to Kafka and to a service"). Each claim is a file created exclusively (O_EXCL) in one
// registry directory, holding the claiming process's pid: creation is atomic, so exactly one caller wins a port.
// A claim lapses when that process is gone (or after a day, for a reused pid); ports still bound by a leftover
// process are never handed out anyway, because the OS does not offer a bound port.
import { linkSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

export interface PortAllocatorOptions {
  /** Where claims live: CHAINLOG_PORT_REGISTRY, else one directory per user in the system temp dir. */
  registry?: string;
  /** What the port is for, written into the claim (for a human reading the registry). */
  purpose?: string;
}

const CLAIM_MAX_AGE_MS = 24 * 60 * 60 * 1000;
const ATTEMPTS = 200;

export function portRegistryDir(): string {
  return process.env.CHAINLOG_PORT_REGISTRY ?? join(tmpdir(), `chainlog-ports-${userInfo().uid}`);
}

/** A port on 127.0.0.1 that no other caller of this allocator got while this process lives. */
export async function allocatePort(options: PortAllocatorOptions = {}): Promise<number> {
  const [port] = await allocatePorts(1, options);
  return port as number;
}

/**
 * `count` distinct ports, each claimed. With `consecutive`, a block P, P + 1, ... (npm start gives miner i the
 * port --miner-port + i, so a test that passes --miner-port must own the whole block, not only its first port).
 */
export async function allocatePorts(count: number, options: PortAllocatorOptions & { consecutive?: boolean } = {}): Promise<number[]> {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`count must be a positive integer, got ${count}`);
  const registry = options.registry ?? portRegistryDir();
  mkdirSync(registry, { recursive: true });
  const ports: number[] = [];
  for (let attempt = 0; attempt < ATTEMPTS && ports.length < count; attempt++) {
    const first = await osFreePort();
    const candidates = options.consecutive ? Array.from({ length: count }, (_, i) => first + i) : [first];
    if (candidates.at(-1)! > 65535) continue;
    const claimed: number[] = [];
    for (const port of candidates) {
      if ((port === first || (await portIsFree(port))) && claim(registry, port, options.purpose)) claimed.push(port);
      else break;
    }
    if (claimed.length === candidates.length) ports.push(...claimed);
    else for (const port of claimed) releasePort(port, { registry });
  }
  if (ports.length < count) throw new Error(`no ${count} free port(s) after ${ATTEMPTS} attempts (registry ${registry})`);
  return ports;
}

/**
 * Claims a port chosen elsewhere (npm start's --ingest-port etc.), so the allocator does not hand it out while
 * this process lives. False when another live process holds the claim. Whether the port is free is a separate
 * question: portIsFree.
 */
export function claimPort(port: number, options: PortAllocatorOptions = {}): boolean {
  const registry = options.registry ?? portRegistryDir();
  mkdirSync(registry, { recursive: true });
  return claim(registry, port, options.purpose);
}

/** Gives a port back before this process ends (optional: a claim lapses with its process anyway). */
export function releasePort(port: number, options: Pick<PortAllocatorOptions, 'registry'> = {}): void {
  const file = join(options.registry ?? portRegistryDir(), String(port));
  if (readClaim(file)?.pid === process.pid) rmSync(file, { force: true });
}

/** Whether 127.0.0.1:port can be listened on right now (a check, not a reservation). */
export function portIsFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/** A port the OS considers free right now (it may give the same one to the next caller: claim it). */
function osFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

interface Claim {
  pid: number;
  at: number;
}

function readClaim(file: string): Claim | undefined {
  try {
    const [pid, at] = readFileSync(file, 'utf8').split(' ').map(Number);
    return { pid: pid ?? NaN, at: at ?? NaN };
  } catch {
    return undefined;
  }
}

function lapsed(claim: Claim | undefined): boolean {
  if (claim === undefined) return true;
  if (!Number.isInteger(claim.pid) || !(Date.now() - claim.at < CLAIM_MAX_AGE_MS)) return true;
  try {
    process.kill(claim.pid, 0);
    return false;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Creates the claim file exclusively; takes over a lapsed one. True when this process now owns the port. */
function claim(registry: string, port: number, purpose = ''): boolean {
  const file = join(registry, String(port));
  const content = `${process.pid} ${Date.now()} ${purpose}\n`;
  try {
    writeFileSync(file, content, { flag: 'wx' });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  if (!lapsed(readClaim(file))) return false;
  // Take the lapsed claim out of the way by renaming it (only one of several racing callers can), then look at
  // what was renamed: another caller may have replaced the lapsed claim with a live one in between.
  const aside = `${file}.lapsed-${process.pid}-${Math.random().toString(36).slice(2)}`;
  try {
    renameSync(file, aside);
  } catch {
    return false;
  }
  if (!lapsed(readClaim(aside))) {
    try {
      linkSync(aside, file); // put the live claim back (fails only if yet another claim is there: also fine)
    } catch {
      // someone holds the port now either way
    }
    rmSync(aside, { force: true });
    return false;
  }
  rmSync(aside, { force: true });
  try {
    writeFileSync(file, content, { flag: 'wx' });
    return true;
  } catch {
    return false;
  }
}
