// Leader election on a coordination.k8s.io/v1 Lease (rules in domain/lease.ts). Every write is conditional
// on the resourceVersion last read, so two candidates can never both win one round. The leader renews every
// retry period and stops acting as soon as it has not renewed for its renew deadline (shorter than the lease
// duration), or when it reads that someone else holds the lease; a graceful stop releases the lease so that a
// stand-by takes over at once instead of after the lease duration.
import { performance } from 'node:perf_hooks';
import type { Logger } from '@chainlog/core/logging';
import { claim, leaseTiming, mayAcquire, release, sameRecord, type LeaseRecord, type LeaseTiming, type StoredLease } from '../domain/lease.js';
import { ConflictError, describeError, type LeaseStore } from './kube.js';

export interface Clock {
  /** Monotonic milliseconds, for durations. */
  monotonic(): number;
  /** Wall-clock milliseconds, written into the Lease. */
  wall(): number;
}

export const SYSTEM_CLOCK: Clock = { monotonic: () => performance.now(), wall: () => Date.now() };

export interface LeaderElectorOptions {
  store: LeaseStore;
  identity: string;
  leaseDurationSeconds: number;
  logger: Logger;
  clock?: Clock;
  /** Called on every change of leadership (true: this instance now leads). */
  onChange?: (leading: boolean) => void;
}

export class LeaderElector {
  readonly timing: LeaseTiming;
  readonly #clock: Clock;
  #leading = false;
  /** Monotonic time of this instance's last successful acquire or renew. */
  #renewedAt = Number.NEGATIVE_INFINITY;
  /** The last stored lease read or written, and when its current record was first observed. */
  #observed: StoredLease | undefined;
  #observedAt = 0;
  #timer: NodeJS.Timeout | undefined;
  #round: Promise<void> | undefined;
  #stopped = false;
  #lastError: string | undefined;

  readonly #options: LeaderElectorOptions;

  constructor(options: LeaderElectorOptions) {
    this.#options = options;
    this.timing = leaseTiming(options.leaseDurationSeconds);
    this.#clock = options.clock ?? SYSTEM_CLOCK;
  }

  get identity(): string {
    return this.#options.identity;
  }

  /**
   * Whether this instance may act now: it holds the lease and renewed it within the renew deadline. Checked
   * right before every write, so a leader whose renewals stall stops acting even between two rounds.
   */
  isLeader(): boolean {
    return this.#leading && this.#clock.monotonic() - this.#renewedAt < this.timing.renewDeadlineMs;
  }

  /** The holder last read from the lease (empty when released or never held). */
  holder(): string | undefined {
    const holder = this.#observed?.record.holderIdentity;
    return holder === undefined || holder === '' ? undefined : holder;
  }

  status(): Record<string, unknown> {
    return { identity: this.identity, leader: this.isLeader(), holder: this.holder(), leaseDurationSeconds: this.#options.leaseDurationSeconds, lastError: this.#lastError };
  }

  start(): void {
    if (this.#timer !== undefined || this.#round !== undefined || this.#stopped) return;
    this.#schedule(0);
  }

  #schedule(delayMs: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#round = this.tryAcquireOrRenew()
        .then(() => undefined)
        .finally(() => {
          this.#round = undefined;
          this.#schedule(this.timing.retryPeriodMs);
        });
    }, delayMs);
  }

  /** One round: acquire or renew. Resolves with whether this instance leads afterwards. Never throws. */
  async tryAcquireOrRenew(): Promise<boolean> {
    // The renewal counts from BEFORE the request: the API server committed it later, and a candidate observes
    // it later still, so the leader's deadline always ends before any candidate's wait does.
    const startedAt = this.#clock.monotonic();
    try {
      const won = await this.#attempt();
      this.#lastError = undefined;
      if (won) {
        this.#renewedAt = startedAt;
        this.#setLeading(true);
      } else {
        // Someone else holds a live lease: this instance is certainly not the leader.
        this.#setLeading(false);
      }
    } catch (error) {
      this.#lastError = describeError(error);
      if (error instanceof ConflictError) {
        // Lost a race for the write; the next round re-reads. A leader keeps leading until its deadline.
        this.#options.logger.debug({ err: this.#lastError }, 'lease write conflict');
      } else {
        this.#options.logger.warn({ err: this.#lastError, leading: this.#leading }, 'lease request failed');
      }
      if (this.#leading && !this.isLeader()) this.#setLeading(false);
    }
    return this.isLeader();
  }

  async #attempt(): Promise<boolean> {
    const { store, identity, leaseDurationSeconds } = this.#options;
    const current = await store.get();
    const now = this.#clock.monotonic();
    if (current === undefined) {
      this.#remember(await store.create(claim(undefined, identity, this.#clock.wall(), leaseDurationSeconds)), now);
      return true;
    }
    if (!sameRecord(this.#observed?.record, current.record)) this.#remember(current, now);
    else this.#observed = current;
    if (!mayAcquire(current.record, identity, this.#observedAt, now, leaseDurationSeconds)) return false;
    if (this.#stopped) return false;
    const written = await store.replace(claim(current.record, identity, this.#clock.wall(), leaseDurationSeconds), current.resourceVersion);
    this.#remember(written, this.#clock.monotonic());
    return true;
  }

  #remember(lease: StoredLease, at: number): void {
    this.#observed = lease;
    this.#observedAt = at;
  }

  #setLeading(leading: boolean, stopping = false): void {
    if (leading === this.#leading) return;
    this.#leading = leading;
    if (!leading) this.#renewedAt = Number.NEGATIVE_INFINITY;
    const { logger } = this.#options;
    if (leading) logger.info({ identity: this.identity, leaseDurationSeconds: this.#options.leaseDurationSeconds }, 'became the leader');
    else if (stopping) logger.info({ identity: this.identity }, 'stepping down: stopping');
    else logger.warn({ identity: this.identity, holder: this.holder(), lastError: this.#lastError }, 'stopped leading');
    this.#options.onChange?.(leading);
  }

  /**
   * Stops the election. With release (a graceful stop), a leader hands the lease back so that a stand-by
   * takes over within one retry period; without it (a crash), the lease runs out after its duration.
   */
  async stop(options: { release: boolean } = { release: true }): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#round;
    this.#setLeading(false, true);
    if (!options.release) return;
    try {
      const current = await this.#options.store.get();
      if (current === undefined || current.record.holderIdentity !== this.identity) return;
      const released: LeaseRecord = release(current.record, this.#clock.wall());
      await this.#options.store.replace(released, current.resourceVersion);
      this.#options.logger.info({ identity: this.identity }, 'released the lease');
    } catch (error) {
      this.#options.logger.warn({ err: describeError(error) }, 'could not release the lease; a stand-by takes over when it expires');
    }
  }
}

