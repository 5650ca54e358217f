// Which topic-provisioning failures a starting service waits out, and how it names them. The broker's answers are
// built as kafkajs builds them (its error classes, from its own error-code table), not by hand.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { brokerProblems, describeTopicFailure, isTransientTopicFailure } from '../../src/kafka/provision-topics.js';

const require = createRequire(import.meta.url);
type ErrorClass = new (...args: unknown[]) => Error;
const { KafkaJSAggregateError, KafkaJSCreateTopicError, KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError, KafkaJSConnectionError } = require('kafkajs/src/errors') as Record<
  'KafkaJSAggregateError' | 'KafkaJSCreateTopicError' | 'KafkaJSNumberOfRetriesExceeded' | 'KafkaJSProtocolError' | 'KafkaJSConnectionError',
  ErrorClass
>;
const { createErrorFromCode } = require('kafkajs/src/protocol/error') as { createErrorFromCode: (code: number) => unknown };

// Kafka's error codes (org.apache.kafka.common.protocol.Errors).
const CODE = { TOPIC_AUTHORIZATION_FAILED: 29, NOT_CONTROLLER: 41, TOPIC_ALREADY_EXISTS: 36, INVALID_CONFIG: 40, POLICY_VIOLATION: 44 };

/** What kafkajs throws for a CreateTopics answer with these per-topic codes. */
const creation = (...answers: [topic: string, code: number][]): Error =>
  new KafkaJSAggregateError(
    'Topic creation errors',
    answers.map(([topic, code]) => new KafkaJSCreateTopicError(createErrorFromCode(code), topic)),
  );

describe('topic provisioning failures', () => {
  it('names every topic and broker code of a CreateTopics answer', () => {
    const error = creation(['audit', CODE.TOPIC_AUTHORIZATION_FAILED], ['dlq', CODE.TOPIC_ALREADY_EXISTS]);
    expect(brokerProblems(error)).toEqual([
      { topic: 'audit', type: 'TOPIC_AUTHORIZATION_FAILED' },
      { topic: 'dlq', type: 'TOPIC_ALREADY_EXISTS' },
    ]);
    expect(describeTopicFailure(error)).toBe('Topic creation errors (audit: TOPIC_AUTHORIZATION_FAILED, dlq: TOPIC_ALREADY_EXISTS)');
  });

  it('waits while the grants or the topics are not there yet, or the controller is moving', () => {
    expect(isTransientTopicFailure(creation(['audit', CODE.TOPIC_AUTHORIZATION_FAILED]))).toBe(true);
    expect(isTransientTopicFailure(creation(['audit', CODE.TOPIC_AUTHORIZATION_FAILED], ['dlq', CODE.TOPIC_ALREADY_EXISTS]))).toBe(true);
    // kafkajs' retrier gives up on a NOT_CONTROLLER it kept getting: the original is inside.
    const notController = new KafkaJSProtocolError(createErrorFromCode(CODE.NOT_CONTROLLER));
    expect(isTransientTopicFailure(new KafkaJSNumberOfRetriesExceeded(notController, { retryCount: 5, retryTime: 1000 }))).toBe(true);
    expect(isTransientTopicFailure(new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:9092'))).toBe(true);
  });

  it('fails the start at once for what waiting cannot fix', () => {
    expect(isTransientTopicFailure(creation(['audit', CODE.INVALID_CONFIG]))).toBe(false);
    // One permanent answer among transient ones is still permanent.
    expect(isTransientTopicFailure(creation(['audit', CODE.TOPIC_AUTHORIZATION_FAILED], ['dlq', CODE.POLICY_VIOLATION]))).toBe(false);
    expect(isTransientTopicFailure(Object.assign(new Error('SASL SCRAM SHA512 authentication failed'), { name: 'KafkaJSSASLAuthenticationError' }))).toBe(false);
    expect(isTransientTopicFailure(new Error('the blockchain topic chain must have exactly 1 partition, it has 3'))).toBe(false);
  });
});
