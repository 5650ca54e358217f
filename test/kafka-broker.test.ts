// CHAINLOG_KAFKA_VERSION, validated by the launcher (scripts/lib/kafka-broker.ts), and the message naming what is supported.
import { describe, expect, it } from 'vitest';
import { DEFAULT_KAFKA_VERSION, kafkaVersionFrom, randomClusterId, SUPPORTED_KAFKA_VERSIONS, TESTED_KAFKA_VERSIONS } from '../scripts/lib/kafka-broker.js';

describe('the Kafka release the launcher runs', () => {
  it('is the default when unset or blank, and any 3.9.x or 4.x otherwise', () => {
    expect(kafkaVersionFrom(undefined)).toBe(DEFAULT_KAFKA_VERSION);
    expect(kafkaVersionFrom('  ')).toBe(DEFAULT_KAFKA_VERSION);
    expect(kafkaVersionFrom(' 3.9.1 ')).toBe('3.9.1');
    expect(kafkaVersionFrom('4.0.2')).toBe('4.0.2');
  });

  it('rejects releases before 3.9 and malformed ones, naming the actual default', () => {
    expect(() => kafkaVersionFrom('3.8.1')).toThrow(`CHAINLOG_KAFKA_VERSION 3.8.1 is not supported: Kafka 4.x (default ${DEFAULT_KAFKA_VERSION})`);
    expect(() => kafkaVersionFrom('4.4')).toThrow(`such as ${DEFAULT_KAFKA_VERSION} or 3.9.1, got "4.4"`);
  });

  it('names the default among the tested releases', () => {
    expect(TESTED_KAFKA_VERSIONS).toContain(DEFAULT_KAFKA_VERSION);
    for (const version of TESTED_KAFKA_VERSIONS) expect(SUPPORTED_KAFKA_VERSIONS).toContain(version);
  });
});

describe('a KRaft cluster id', () => {
  it('is a fresh version-4 UUID in URL-safe base64 without padding, as kafka-storage random-uuid makes it', () => {
    const ids = Array.from({ length: 200 }, () => randomClusterId());
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) {
      expect(id).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
      expect(Buffer.from(id, 'base64url').toString('hex')[12]).toBe('4');
    }
  });
});
