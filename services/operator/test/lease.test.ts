// Leader election: the pure lease rules, and the elector against an in-memory Lease store that behaves like
// the API server (resourceVersion-guarded writes), with a hand-driven clock.
import fc from 'fast-check';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ConflictError, type LeaseStore } from '../src/kube/kube.js';
import { LeaderElector, type Clock } from '../src/kube/leader-elector.js';
import { claim, leaseTiming, mayAcquire, release, sameRecord, type LeaseRecord, type StoredLease } from '../src/domain/lease.js';

const silent = pino({ level: 'silent' });

describe('lease rules', () => {
  it('a free, released or own lease may be taken at once; a foreign one only a lease duration after it was observed', () => {
    expect(mayAcquire({}, 'a', 0, 0, 15)).toBe(true);
    expect(mayAcquire({ holderIdentity: '' }, 'a', 0, 0, 15)).toBe(true);
    expect(mayAcquire({ holderIdentity: 'a', leaseDurationSeconds: 15 }, 'a', 0, 0, 15)).toBe(true);
    const foreign: LeaseRecord = { holderIdentity: 'b', leaseDurationSeconds: 2 };
    expect(mayAcquire(foreign, 'a', 1000, 2999, 15)).toBe(false);
    expect(mayAcquire(foreign, 'a', 1000, 3000, 15)).toBe(true);
    // without a duration in the record, the candidate's own
    expect(mayAcquire({ holderIdentity: 'b' }, 'a', 0, 14_999, 15)).toBe(false);
  });

  it('claims keep the acquire time on renewal and count takeovers', () => {
    const first = claim(undefined, 'a', 1000, 10);
    expect(first).toEqual({ holderIdentity: 'a', leaseDurationSeconds: 10, acquireTimeMs: 1000, renewTimeMs: 1000, leaseTransitions: 0 });
    const renewed = claim(first, 'a', 2000, 10);
    expect(renewed).toMatchObject({ acquireTimeMs: 1000, renewTimeMs: 2000, leaseTransitions: 0 });
    const taken = claim(renewed, 'b', 3000, 10);
    expect(taken).toMatchObject({ holderIdentity: 'b', acquireTimeMs: 3000, leaseTransitions: 1 });
    const released = release(taken, 4000);
    expect(released.holderIdentity).toBeUndefined();
    expect(released.leaseDurationSeconds).toBe(1);
    expect(claim(released, 'a', 5000, 10).leaseTransitions).toBe(1);
    expect(sameRecord(taken, { ...taken })).toBe(true);
    expect(sameRecord(taken, renewed)).toBe(false);
  });

  it('timing: renew deadline below the lease duration, retry period well below the deadline', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3600 }), (seconds) => {
        const timing = leaseTiming(seconds);
        expect(timing.renewDeadlineMs).toBeLessThan(timing.leaseDurationMs);
        expect(timing.retryPeriodMs * 2).toBeLessThanOrEqual(timing.renewDeadlineMs);
      }),
    );
  });
});

class ManualClock implements Clock {
  ms = 0;
  monotonic(): number {
    return this.ms;
  }
  wall(): number {
    return 1_700_000_000_000 + this.ms;
  }
}

/** An in-memory Lease with the API server's optimistic concurrency. */
class MemoryLeaseStore implements LeaseStore {
  lease: StoredLease | undefined;
  #version = 0;
  failing = false;
  /** Simulated request latency: advances the clock before each request is served. */
  latencyMs = 0;

  readonly #clock: ManualClock | undefined;

  constructor(clock?: ManualClock) {
    this.#clock = clock;
  }

  async get(): Promise<StoredLease | undefined> {
    if (this.#clock) this.#clock.ms += this.latencyMs;
    if (this.failing) throw new Error('api server unreachable');
    return this.lease === undefined ? undefined : { record: { ...this.lease.record }, resourceVersion: this.lease.resourceVersion };
  }

  async create(record: LeaseRecord): Promise<StoredLease> {
    if (this.#clock) this.#clock.ms += this.latencyMs;
    if (this.failing) throw new Error('api server unreachable');
    if (this.lease !== undefined) throw new ConflictError('exists');
    this.lease = { record: { ...record }, resourceVersion: String(++this.#version) };
    return { record: { ...record }, resourceVersion: this.lease.resourceVersion };
  }

  async replace(record: LeaseRecord, resourceVersion: string): Promise<StoredLease> {
    if (this.#clock) this.#clock.ms += this.latencyMs;
    if (this.failing) throw new Error('api server unreachable');
    if (this.lease === undefined || this.lease.resourceVersion !== resourceVersion) throw new ConflictError('changed');
    this.lease = { record: { ...record }, resourceVersion: String(++this.#version) };
    return { record: { ...record }, resourceVersion: this.lease.resourceVersion };
  }
}

/**
 * A Lease store whose every request travels to the server and back with a delay the scheduler releases in a
 * random order, the clock advancing by a latency each way: rounds of different candidates overlap, and a
 * response may arrive long after the write was committed (what a leader must not count on).
 */
class ScheduledLeaseStore implements LeaseStore {
  #next = 0;

  readonly #inner: MemoryLeaseStore;
  readonly #scheduler: fc.Scheduler;
  readonly #clock: ManualClock;
  readonly #latencies: number[];

  constructor(
    inner: MemoryLeaseStore,
    scheduler: fc.Scheduler,
    clock: ManualClock,
    latencies: number[],
  ) {
    this.#inner = inner;
    this.#scheduler = scheduler;
    this.#clock = clock;
    this.#latencies = latencies;
  }

  async #hop(label: string): Promise<void> {
    const latency = this.#latencies[this.#next++ % this.#latencies.length] as number;
    await this.#scheduler.schedule(Promise.resolve(), label);
    this.#clock.ms += latency;
  }

  async #call<T>(label: string, request: () => Promise<T>): Promise<T> {
    await this.#hop(`${label} request`);
    let result: T | undefined;
    let failure: unknown;
    try {
      result = await request();
    } catch (error) {
      failure = error;
    }
    await this.#hop(`${label} response`);
    if (failure !== undefined) throw failure;
    return result as T;
  }

  get(): Promise<StoredLease | undefined> {
    return this.#call('get', () => this.#inner.get());
  }
  create(record: LeaseRecord): Promise<StoredLease> {
    return this.#call('create', () => this.#inner.create(record));
  }
  replace(record: LeaseRecord, resourceVersion: string): Promise<StoredLease> {
    return this.#call('replace', () => this.#inner.replace(record, resourceVersion));
  }
}

function elector(store: LeaseStore, identity: string, clock: Clock, changes: boolean[] = []): LeaderElector {
  return new LeaderElector({ store, identity, leaseDurationSeconds: 3, logger: silent, clock, onChange: (leading) => changes.push(leading) });
}

describe('LeaderElector', () => {
  it('one of two candidates leads; the other takes over only after the lease duration without renewals', async () => {
    const store = new MemoryLeaseStore();
    const clock = new ManualClock();
    const aChanges: boolean[] = [];
    const a = elector(store, 'a', clock, aChanges);
    const b = elector(store, 'b', clock);
    expect(await a.tryAcquireOrRenew()).toBe(true);
    expect(await b.tryAcquireOrRenew()).toBe(false);
    expect(store.lease?.record.holderIdentity).toBe('a');

    // a renews every second: b never gets it
    for (let second = 1; second <= 10; second++) {
      clock.ms = second * 1000;
      expect(await a.tryAcquireOrRenew()).toBe(true);
      expect(await b.tryAcquireOrRenew()).toBe(false);
      expect(a.isLeader() && b.isLeader()).toBe(false);
    }

    // a dies (stops renewing); b observed the last renewal at 10 s and waits the 3 s duration from then
    clock.ms = 12_900;
    expect(await b.tryAcquireOrRenew()).toBe(false);
    // a's own view: past its renew deadline (2 s) it no longer acts, even before learning it lost
    expect(a.isLeader()).toBe(false);
    clock.ms = 13_000;
    expect(await b.tryAcquireOrRenew()).toBe(true);
    expect(store.lease?.record).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });

    // a comes back: it reads that b holds the lease and steps down
    expect(await a.tryAcquireOrRenew()).toBe(false);
    expect(aChanges).toEqual([true, false]);
  });

  it('a renew failure keeps the leader until its renew deadline, then it steps down', async () => {
    const store = new MemoryLeaseStore();
    const clock = new ManualClock();
    const changes: boolean[] = [];
    const a = elector(store, 'a', clock, changes);
    expect(await a.tryAcquireOrRenew()).toBe(true);
    store.failing = true;
    clock.ms = 1000;
    expect(await a.tryAcquireOrRenew()).toBe(true); // 1 s < 2 s deadline
    clock.ms = 2000;
    expect(await a.tryAcquireOrRenew()).toBe(false);
    expect(changes).toEqual([true, false]);
    store.failing = false;
    clock.ms = 2100;
    expect(await a.tryAcquireOrRenew()).toBe(true); // its own lease: taken back at once
  });

  it('a graceful stop releases the lease: the stand-by takes it at once', async () => {
    const store = new MemoryLeaseStore();
    const clock = new ManualClock();
    const a = elector(store, 'a', clock);
    const b = elector(store, 'b', clock);
    expect(await a.tryAcquireOrRenew()).toBe(true);
    expect(await b.tryAcquireOrRenew()).toBe(false);
    await a.stop({ release: true });
    expect(store.lease?.record.holderIdentity).toBeUndefined();
    clock.ms = 10;
    expect(await b.tryAcquireOrRenew()).toBe(true);
  });

  it('a stop without release (a crash) leaves the lease to run out', async () => {
    const store = new MemoryLeaseStore();
    const clock = new ManualClock();
    const a = elector(store, 'a', clock);
    const b = elector(store, 'b', clock);
    expect(await a.tryAcquireOrRenew()).toBe(true);
    expect(await b.tryAcquireOrRenew()).toBe(false);
    await a.stop({ release: false });
    expect(store.lease?.record.holderIdentity).toBe('a');
    clock.ms = 2999;
    expect(await b.tryAcquireOrRenew()).toBe(false);
    clock.ms = 3000;
    expect(await b.tryAcquireOrRenew()).toBe(true);
  });

  it('a renewal counts from when it was sent, not from its late response', async () => {
    const clock = new ManualClock();
    const memory = new MemoryLeaseStore();
    let holdResponses = false;
    let deliver: (() => void) | undefined;
    const store: LeaseStore = {
      get: () => memory.get(),
      create: (record) => memory.create(record),
      async replace(record, resourceVersion) {
        const written = await memory.replace(record, resourceVersion);
        if (holdResponses) await new Promise<void>((resolve) => (deliver = resolve));
        return written;
      },
    };
    const a = elector(store, 'a', clock);
    const b = elector(store, 'b', clock);
    expect(await a.tryAcquireOrRenew()).toBe(true);
    clock.ms = 1000;
    holdResponses = true;
    const renewal = a.tryAcquireOrRenew(); // committed at 1 s; the response is held
    await new Promise((resolve) => setImmediate(resolve));
    holdResponses = false;
    clock.ms = 1100;
    expect(await b.tryAcquireOrRenew()).toBe(false); // b observes the renewal at 1.1 s
    clock.ms = 4100;
    expect(await b.tryAcquireOrRenew()).toBe(true); // and takes over 3 s later
    clock.ms = 4200;
    deliver?.(); // a's renewal response arrives only now
    await renewal;
    expect(a.isLeader()).toBe(false); // its renewal counts from 1 s: past the 2 s deadline
    expect(b.isLeader()).toBe(true);
  });

  it('never two leaders: random interleavings of rounds (with request latency), outages and clock steps', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(
            { weight: 5, arbitrary: fc.record({ op: fc.constant('round' as const), who: fc.integer({ min: 0, max: 2 }), latencyMs: fc.integer({ min: 0, max: 300 }) }) },
            { weight: 4, arbitrary: fc.record({ op: fc.constant('tick' as const), ms: fc.integer({ min: 1, max: 1200 }) }) },
            { weight: 1, arbitrary: fc.record({ op: fc.constant('outage' as const), on: fc.boolean() }) },
          ),
          { minLength: 10, maxLength: 80 },
        ),
        async (steps) => {
          const clock = new ManualClock();
          const store = new MemoryLeaseStore(clock);
          const candidates = [0, 1, 2].map((index) => elector(store, `c${index}`, clock));
          for (const step of steps) {
            if (step.op === 'tick') clock.ms += step.ms;
            else if (step.op === 'outage') store.failing = step.on;
            else {
              store.latencyMs = step.latencyMs;
              await candidates[step.who]?.tryAcquireOrRenew();
            }
            const leaders = candidates.filter((candidate) => candidate.isLeader());
            expect(leaders.length).toBeLessThanOrEqual(1);
            if (leaders.length === 1) expect(store.lease?.record.holderIdentity).toBe(leaders[0]?.identity);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('never two leaders while rounds overlap: requests and responses delayed and interleaved at random', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.array(
          fc.oneof(
            { weight: 2, arbitrary: fc.record({ op: fc.constant('round' as const), who: fc.integer({ min: 0, max: 1 }) }) },
            { weight: 2, arbitrary: fc.record({ op: fc.constant('tick' as const), ms: fc.integer({ min: 1, max: 1500 }) }) },
            { weight: 4, arbitrary: fc.constant({ op: 'deliver' as const }) },
          ),
          { minLength: 20, maxLength: 150 },
        ),
        fc.array(fc.integer({ min: 0, max: 1500 }), { minLength: 1, maxLength: 20 }),
        async (scheduler, steps, latencies) => {
          const clock = new ManualClock();
          const store = new ScheduledLeaseStore(new MemoryLeaseStore(), scheduler, clock, latencies);
          const candidates = [0, 1].map((index) => elector(store, `c${index}`, clock));
          const busy = new Set<number>();
          const rounds: Promise<unknown>[] = [];
          const check = (): void => {
            expect(candidates.filter((candidate) => candidate.isLeader()).length).toBeLessThanOrEqual(1);
          };
          for (const step of steps) {
            if (step.op === 'tick') clock.ms += step.ms;
            else if (step.op === 'deliver') {
              if (scheduler.count() > 0) await scheduler.waitOne();
            } else if (!busy.has(step.who)) {
              // like the elector's loop: one round at a time per candidate
              busy.add(step.who);
              rounds.push((candidates[step.who] as LeaderElector).tryAcquireOrRenew().finally(() => busy.delete(step.who)));
            }
            check();
          }
          // Deliver everything still in flight (a released hop schedules the next one a few ticks later).
          let settled = false;
          void Promise.all(rounds).then(() => (settled = true));
          while (!settled) {
            if (scheduler.count() > 0) {
              await scheduler.waitOne();
              check();
            } else {
              await new Promise((resolve) => setImmediate(resolve));
            }
          }
          check();
        },
      ),
      { numRuns: 200 },
    );
  });
});
