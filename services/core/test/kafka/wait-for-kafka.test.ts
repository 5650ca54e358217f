// Waiting for Kafka at start-up: the backoff (pure) and the wait itself against an address nothing listens on.
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createKafka } from '../../src/kafka/client.js';
import { isMisconfiguration, kafkaBackoffMs, waitForKafka } from '../../src/kafka/wait-for-kafka.js';
import { createLogger } from '../../src/logging/logger.js';

describe('kafkaBackoffMs', () => {
  it('doubles from the initial delay up to the cap, jittered within the upper half', () => {
    expect([0, 1, 2, 3, 10].map((attempt) => kafkaBackoffMs(attempt, 500, 15_000, () => 0.999999))).toEqual([500, 1000, 2000, 4000, 15_000]);
    expect(kafkaBackoffMs(3, 500, 15_000, () => 0)).toBe(2000);
    fc.assert(
      fc.property(fc.nat(1000), fc.integer({ min: 1, max: 5000 }), fc.integer({ min: 1, max: 60_000 }), fc.double({ min: 0, max: 0.9999, noNaN: true }), (attempt, initial, max, r) => {
        const delay = kafkaBackoffMs(attempt, initial, max, () => r);
        const ceiling = Math.min(max, initial * 2 ** Math.min(attempt, 30));
        expect(delay).toBeGreaterThanOrEqual(Math.floor(ceiling / 2));
        expect(delay).toBeLessThanOrEqual(Math.ceil(ceiling));
      }),
    );
  });
});

/** A loopback port with nothing listening on it. */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 1));
    });
  });
}

describe('waitForKafka without a broker', () => {
  const unreachable = async () =>
    createKafka({ brokers: [`127.0.0.1:${await closedPort()}`], clientId: 'wait-test', connectionTimeoutMs: 200, requestTimeoutMs: 500 }, createLogger('test', 'silent'), 0);

  it('keeps trying until aborted, then rejects with the abort reason', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('shutting down')), 1500);
    await expect(waitForKafka(await unreachable(), createLogger('test', 'silent'), { signal: controller.signal, initialDelayMs: 50, maxDelayMs: 200 })).rejects.toThrow('shutting down');
  });

  it('gives up after timeoutMs when one is set', async () => {
    await expect(waitForKafka(await unreachable(), createLogger('test', 'silent'), { timeoutMs: 500, initialDelayMs: 50, maxDelayMs: 100 })).rejects.toThrow(/not reachable within 500 ms/);
  });
});

describe('isMisconfiguration', () => {
  const named = (name: string, message: string): Error => Object.assign(new Error(message), { name });

  it('stops the wait for wrong credentials and certificates, keeps waiting for a broker that is down', () => {
    expect(isMisconfiguration(named('KafkaJSSASLAuthenticationError', 'SASL SCRAM SHA512 authentication failed'))).toBe(true);
    expect(isMisconfiguration(named('KafkaJSConnectionError', 'unable to verify the first certificate'))).toBe(true);
    expect(isMisconfiguration(named('KafkaJSConnectionError', 'Connection error: connect ECONNREFUSED 127.0.0.1:9092'))).toBe(false);
    expect(isMisconfiguration(named('KafkaJSNumberOfRetriesExceeded', 'Request Metadata timed out'))).toBe(false);
    expect(isMisconfiguration('not an error')).toBe(false);
  });
});
