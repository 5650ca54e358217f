import type { Admin, Kafka } from 'kafkajs';
import type { Logger } from '../logging/logger.js';

export interface WaitForKafkaOptions {
  /** Aborted on shutdown: the wait ends with the signal's reason. */
  signal?: AbortSignal;
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** Give up after this long (default: never; a service keeps reporting not-ready meanwhile). */
  timeoutMs?: number;
  /** For tests: [0, 1). */
  random?: () => number;
}

/**
 * The pause before attempt `attempt + 1`: exponential from initialDelayMs, capped at maxDelayMs, with the
 * upper half jittered so that every replica of a fleet restarted together does not knock at the same moment.
 */
export function kafkaBackoffMs(attempt: number, initialDelayMs = 500, maxDelayMs = 15_000, random: () => number = Math.random): number {
  const ceiling = Math.min(maxDelayMs, initialDelayMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}

/** Resolves after `ms`, or rejects with the signal's reason once it is aborted. */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const done = (): void => {
      signal?.removeEventListener('abort', aborted);
      resolve();
    };
    const timer = setTimeout(done, ms);
    const aborted = (): void => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    signal?.addEventListener('abort', aborted, { once: true });
  });
}

/**
 * Wrong credentials or a certificate the client or the broker does not accept: waiting cannot fix these, so
 * the service stops with the error (a clear exit, not a silent wait) instead of looking like Kafka is down.
 */
export function isMisconfiguration(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name === 'KafkaJSSASLAuthenticationError') return true;
  return /certificate|self[- ]signed|unable to verify|SSL routines|tlsv1 alert|TLS connection was established/i.test(error.message);
}

/** One failed attempt of withAdminRetries, for its caller to decide on. */
export interface FailedAttempt {
  readonly error: unknown;
  /** 0 for the first attempt. */
  readonly attempt: number;
  readonly waitedMs: number;
  readonly retryInMs: number;
}

/**
 * Runs `work` with a connected admin client until it succeeds: after each failure `failed` either throws (the
 * start fails with that) or returns to retry after the backoff (kafkaBackoffMs). Aborting the signal ends the
 * wait with its reason. The one retry loop of the services' start-up waits (Kafka itself, their topics).
 */
export async function withAdminRetries<T>(
  kafka: Kafka,
  work: (admin: Admin, attempt: number, waitedMs: number) => Promise<T>,
  failed: (failure: FailedAttempt) => void,
  options: Omit<WaitForKafkaOptions, 'timeoutMs'> = {},
): Promise<T> {
  const started = Date.now();
  for (let attempt = 0; ; attempt++) {
    options.signal?.throwIfAborted();
    const admin = kafka.admin();
    try {
      await admin.connect();
      return await work(admin, attempt, Date.now() - started);
    } catch (error) {
      const retryInMs = kafkaBackoffMs(attempt, options.initialDelayMs, options.maxDelayMs, options.random);
      failed({ error, attempt, waitedMs: Date.now() - started, retryInMs });
      await pause(retryInMs, options.signal);
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }
}

/**
 * Resolves once Kafka answers a metadata request. A service starting before its brokers (a fresh install, a
 * broker restarting, a node rebooted) waits here with backoff, logging each failed attempt, instead of
 * exiting and crash-looping; it is not ready meanwhile.
 */
export async function waitForKafka(kafka: Kafka, logger: Logger, options: WaitForKafkaOptions = {}): Promise<void> {
  await withAdminRetries(
    kafka,
    async (admin, attempt, waitedMs) => {
      const { brokers } = await admin.describeCluster();
      if (attempt > 0) logger.info({ attempts: attempt + 1, waitedMs, brokers: brokers.length }, 'Kafka is reachable');
    },
    ({ error, attempt, waitedMs, retryInMs }) => {
      if (isMisconfiguration(error)) throw error;
      if (options.timeoutMs !== undefined && waitedMs >= options.timeoutMs) {
        throw new Error(`Kafka was not reachable within ${options.timeoutMs} ms: ${(error as Error).message}`);
      }
      logger.warn({ attempt: attempt + 1, retryInMs, waitedMs, err: (error as Error).message }, 'Kafka is not reachable yet; waiting for it');
    },
    options,
  );
}
