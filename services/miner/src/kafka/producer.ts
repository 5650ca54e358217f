// The miner's one producer: blocks to the blockchain topic and poison messages to the dead-letter topic.
// Idempotent, acks from all in-sync replicas: a retried send never writes a block twice.
import { Partitioners, type IHeaders, type Kafka, type Producer } from 'kafkajs';
import { type Block, encodeBlock } from '@chainlog/core/protocol';
import type { TransactionMessage } from './transactions-consumer.js';

/** Headers every dead-lettered message carries, besides its original ones. */
export const DEAD_LETTER_HEADERS = {
  sourceTopic: 'chainlog-source-topic',
  sourcePartition: 'chainlog-source-partition',
  sourceOffset: 'chainlog-source-offset',
  reason: 'chainlog-reason',
  miner: 'chainlog-miner',
} as const;

export class MinerProducer {
  readonly #producer: Producer;

  readonly #topics: { blockchain: string; deadLetter: string; transactions: string };
  readonly #minerId: string;

  constructor(
    kafka: Kafka,
    topics: { blockchain: string; deadLetter: string; transactions: string },
    minerId: string,
  ) {
    this.#topics = topics;
    this.#minerId = minerId;
    this.#producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
  }

  async start(): Promise<void> {
    await this.#producer.connect();
  }

  /**
   * Publishes a block (key: its index) and resolves with the offset it got on the blockchain topic.
   * `bytes`, when given, must be encodeBlock(block).
   */
  async publishBlock(block: Block, bytes: Buffer = encodeBlock(block)): Promise<number> {
    const [ack] = await this.#producer.send({
      topic: this.#topics.blockchain,
      acks: -1,
      messages: [{ key: String(block.index), value: bytes, partition: 0 }],
    });
    if (ack === undefined || ack.baseOffset === undefined) throw new Error('the broker acknowledged the block without an offset');
    return Number(ack.baseOffset);
  }

  /**
   * Writes a record without a value to a transactions partition: a block that claims offsets past the
   * partition's end can then be decided (any record it does not account for contradicts it). The next
   * honest block lists the record as skipped (`empty`).
   */
  async probeTransactionsPartition(partition: number): Promise<void> {
    await this.#producer.send({
      topic: this.#topics.transactions,
      acks: -1,
      messages: [{ key: `chainlog-coverage-probe-${this.#minerId}`, value: null, partition }],
    });
  }

  /** Copies a poison message (original key, value and headers) to the dead-letter topic. */
  async deadLetter(message: TransactionMessage, reason: string): Promise<void> {
    const headers: IHeaders = {
      ...message.headers,
      [DEAD_LETTER_HEADERS.sourceTopic]: this.#topics.transactions,
      [DEAD_LETTER_HEADERS.sourcePartition]: String(message.partition),
      [DEAD_LETTER_HEADERS.sourceOffset]: String(message.offset),
      [DEAD_LETTER_HEADERS.reason]: reason,
      [DEAD_LETTER_HEADERS.miner]: this.#minerId,
    };
    await this.#producer.send({
      topic: this.#topics.deadLetter,
      acks: -1,
      messages: [{ key: message.key, value: message.value, headers, timestamp: String(message.timestamp) }],
    });
  }

  async stop(): Promise<void> {
    await this.#producer.disconnect();
  }
}
