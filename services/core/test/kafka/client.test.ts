import { logLevel } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { kafkaLevelToPino } from '@chainlog/core/kafka';

describe('kafkaLevelToPino', () => {
  it('logs retried request failures as warnings and kafkajs info as debug, keeping real errors', () => {
    expect(kafkaLevelToPino(logLevel.ERROR, "Response InitProducerId(key: 22, version: 1)")).toBe('warn');
    expect(kafkaLevelToPino(logLevel.ERROR, 'Crash: KafkaJSNumberOfRetriesExceeded')).toBe('error');
    expect(kafkaLevelToPino(logLevel.ERROR, "Crash: KafkaJSProtocolError: The coordinator is loading and hence can't process requests for this group")).toBe('warn');
    expect(kafkaLevelToPino(logLevel.ERROR, 'Restarting the consumer in 100ms')).toBe('warn');
    expect(kafkaLevelToPino(logLevel.INFO, 'Consumer has joined the group')).toBe('debug');
    expect(kafkaLevelToPino(logLevel.WARN, 'Limiting retries')).toBe('warn');
  });
});
