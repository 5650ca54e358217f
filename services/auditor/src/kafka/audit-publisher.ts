/**
 * Writes audit events to the audit topic in order, without ever blocking the chain: events queue in
 * memory and a background loop sends them in batches, retrying with backoff while the topic is
 * unreachable. The queue is bounded; beyond it events are dropped and counted (the API and metrics still
 * have them).
 */
import { Partitioners, type Kafka, type Producer } from 'kafkajs';
import type { Logger } from '@chainlog/core/logging';
import type { AuditEvent } from './audit-event.js';

export interface AuditPublisherOptions {
  readonly kafka: Kafka;
  readonly topic: string;
  readonly logger: Logger;
  readonly queueLimit: number;
  readonly onPublished?: (count: number) => void;
  readonly onDropped?: (count: number) => void;
}

const BATCH = 500;

export class AuditPublisher {
  readonly #options: AuditPublisherOptions;
  #queue: AuditEvent[] = [];
  #producer: Producer | undefined;
  #running = false;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;

  constructor(options: AuditPublisherOptions) {
    this.#options = options;
  }

  get queued(): number {
    return this.#queue.length;
  }

  async start(): Promise<void> {
    const producer = this.#options.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
    this.#producer = producer;
    this.#running = true;
    this.#loop = this.#run(producer);
  }

  publish(event: AuditEvent): void {
    if (this.#queue.length >= this.#options.queueLimit) {
      this.#options.onDropped?.(1);
      this.#options.logger.error({ eventId: event.id }, 'audit event queue full, dropping event');
      return;
    }
    this.#queue.push(event);
    this.#wake?.();
  }

  /** Resolves once every queued event has been written (or rejects after timeoutMs). */
  async flushed(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.#queue.length > 0 || this.#sending) {
      if (Date.now() > deadline) throw new Error(`${this.#queue.length} audit events still queued after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  #sending = false;

  async #run(producer: Producer): Promise<void> {
    let backoffMs = 250;
    while (this.#running) {
      if (this.#queue.length === 0) {
        await new Promise<void>((resolve) => (this.#wake = resolve));
        this.#wake = undefined;
        continue;
      }
      const batch = this.#queue.slice(0, BATCH);
      this.#sending = true;
      try {
        await producer.send({
          topic: this.#options.topic,
          acks: -1,
          messages: batch.map((event) => ({ value: JSON.stringify(event) })),
        });
        this.#queue.splice(0, batch.length);
        this.#options.onPublished?.(batch.length);
        backoffMs = 250;
      } catch (error) {
        this.#options.logger.warn({ err: error, queued: this.#queue.length, retryInMs: backoffMs }, 'could not publish audit events, retrying');
        await new Promise((resolve) => setTimeout(resolve, backoffMs));
        backoffMs = Math.min(backoffMs * 2, 30_000);
      } finally {
        this.#sending = false;
      }
    }
  }

  /** Flushes what it can within graceMs, then disconnects. */
  async stop(graceMs = 5000): Promise<void> {
    if (this.#producer === undefined) return;
    try {
      await this.flushed(graceMs);
    } catch (error) {
      this.#options.logger.warn({ err: error }, 'stopping with unpublished audit events');
    }
    this.#running = false;
    this.#wake?.();
    await this.#loop;
    await this.#producer.disconnect();
    this.#producer = undefined;
  }
}
