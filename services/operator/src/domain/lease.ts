// Leader election rules on a coordination.k8s.io/v1 Lease, pure (the elector does the I/O and keeps time).
//
// Like client-go's leaderelection, a candidate judges a lease held by someone else by the time it OBSERVED
// the lease's current record (its own monotonic clock), never by the record's renewTime: clocks of
// different nodes may disagree, so a foreign timestamp proves nothing. A holder that stops renewing is
// therefore replaced at the earliest one lease duration after the candidate last saw the record change.
// The holder itself stops acting once it failed to renew for its renew deadline, which is shorter than the
// lease duration: the old leader has stopped before anyone else may start.

/** The Lease's spec as the elector reads and writes it (times in wall-clock milliseconds). */
export interface LeaseRecord {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTimeMs?: number;
  renewTimeMs?: number;
  leaseTransitions?: number;
}

export interface StoredLease {
  record: LeaseRecord;
  /** metadata.resourceVersion: every update is conditional on it. */
  resourceVersion: string;
}

/** Whether two records are the same observation (a renewal changes renewTimeMs, a takeover the holder). */
export function sameRecord(a: LeaseRecord | undefined, b: LeaseRecord | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return (
    (a.holderIdentity ?? '') === (b.holderIdentity ?? '') &&
    a.renewTimeMs === b.renewTimeMs &&
    a.acquireTimeMs === b.acquireTimeMs &&
    a.leaseDurationSeconds === b.leaseDurationSeconds &&
    (a.leaseTransitions ?? 0) === (b.leaseTransitions ?? 0)
  );
}

export function isHeld(record: LeaseRecord): boolean {
  return (record.holderIdentity ?? '') !== '';
}

/**
 * May `identity` write itself into the lease now? Yes when nobody holds it (never held, or released), when
 * it holds it itself, or when the holder's lease duration has passed since this candidate observed the
 * current record (`observedAtMs` and `nowMs` on the candidate's monotonic clock).
 */
export function mayAcquire(record: LeaseRecord, identity: string, observedAtMs: number, nowMs: number, fallbackDurationSeconds: number): boolean {
  if (!isHeld(record) || record.holderIdentity === identity) return true;
  const durationMs = (record.leaseDurationSeconds ?? fallbackDurationSeconds) * 1000;
  return nowMs >= observedAtMs + durationMs;
}

/** The record that acquires (a new holder) or renews (the same holder) the lease. */
export function claim(previous: LeaseRecord | undefined, identity: string, nowWallMs: number, leaseDurationSeconds: number): LeaseRecord {
  const renewing = previous !== undefined && previous.holderIdentity === identity;
  const transitions = previous?.leaseTransitions ?? 0;
  return {
    holderIdentity: identity,
    leaseDurationSeconds,
    acquireTimeMs: renewing ? (previous.acquireTimeMs ?? nowWallMs) : nowWallMs,
    renewTimeMs: nowWallMs,
    // A takeover from another holder counts as a transition; the very first acquisition does not.
    leaseTransitions: renewing || previous === undefined || !isHeld(previous) ? transitions : transitions + 1,
  };
}

/**
 * The record that releases the lease (on a graceful stop): no holder, and a 1-second duration, so that a
 * candidate that still reads the old holder (a cached read) waits no longer than that.
 */
export function release(previous: LeaseRecord, nowWallMs: number): LeaseRecord {
  return {
    leaseDurationSeconds: 1,
    acquireTimeMs: previous.acquireTimeMs,
    renewTimeMs: nowWallMs,
    leaseTransitions: previous.leaseTransitions ?? 0,
  };
}

/** The elector's timing, derived from the lease duration like client-go's defaults (15 s / 10 s / 2 s). */
export interface LeaseTiming {
  leaseDurationMs: number;
  /** A leader that has not renewed for this long stops acting (< lease duration). */
  renewDeadlineMs: number;
  /** How often candidates try to acquire and the leader renews. */
  retryPeriodMs: number;
}

export function leaseTiming(leaseDurationSeconds: number): LeaseTiming {
  const leaseDurationMs = leaseDurationSeconds * 1000;
  return {
    leaseDurationMs,
    renewDeadlineMs: Math.round((leaseDurationMs * 2) / 3),
    retryPeriodMs: Math.max(50, Math.round(leaseDurationMs / 7.5)),
  };
}
