// Shared by the ingest tests: the service in-process against a real broker, an HTTP client, and a
// reader that consumes a topic back.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LogLevel } from '@chainlog/core/config';
import { closeServer, listen } from '@chainlog/core/http';
import { createKafka } from '@chainlog/core/kafka';
import { createLogger } from '@chainlog/core/logging';
import { createMetricsRegistry } from '@chainlog/core/metrics';
import type { Consumer, Kafka } from 'kafkajs';
import type { Registry } from 'prom-client';
import { kafkaBrokers, testKafka, uniqueTopic } from '../../../test/support/kafka.js';
import { readConfig, type IngestConfig } from '../src/config.js';
import { createIngestService, type IngestService } from '../src/service.js';

export interface RunningIngest {
  url: string;
  config: IngestConfig;
  service: IngestService;
  registry: Registry;
  server: Server;
  stop(): Promise<void>;
}

/** Starts the service on a free port; env overrides the test defaults. */
export async function startIngest(env: Record<string, string>): Promise<RunningIngest> {
  const config = readConfig({ KAFKA_BROKERS: kafkaBrokers(), HTTP_PORT: '0', ...env });
  const logger = createLogger('ingest', (process.env.TEST_LOG_LEVEL as LogLevel | undefined) ?? 'silent');
  const registry = createMetricsRegistry('ingest');
  const service = createIngestService({ config, logger, registry, kafka: createKafka(config.kafka, logger, 3) });
  service.start();
  const server = await listen(service.app, 0, '127.0.0.1');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let stopped = false;
  return {
    url,
    config,
    service,
    registry,
    server,
    async stop() {
      if (stopped) return;
      stopped = true;
      service.beginShutdown();
      await closeServer(server, 5000);
      await service.stop();
    },
  };
}

export interface Reply {
  status: number;
  headers: Headers;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- test assertions read arbitrary JSON
  elapsedMs: number;
}

/** POSTs a JSON value (or raw text/bytes as given) to /v1/transactions. */
export async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  const raw = typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body);
  const started = Date.now();
  const response = await fetch(`${url}/v1/transactions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: raw,
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined, elapsedMs: Date.now() - started };
}

export async function getJson(url: string): Promise<{ status: number; body: any }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  return { status: response.status, body: await response.json() };
}

export interface ConsumedMessage {
  partition: number;
  offset: number;
  key: string | undefined;
  value: unknown;
}

/** Consumes a topic from the beginning into memory. */
export class TopicReader {
  readonly messages: ConsumedMessage[] = [];
  #consumer: Consumer | undefined;
  /** Why the consumer stopped for good (kafkajs does not restart it after a non-retriable crash). */
  #crashed: Error | undefined;

  readonly #kafka: Kafka;

  constructor(kafka: Kafka = testKafka()) {
    this.#kafka = kafka;
  }

  async start(topic: string): Promise<void> {
    this.#consumer = this.#kafka.consumer({ groupId: uniqueTopic('ingest-test-reader'), maxWaitTimeInMs: 200 });
    // A consumer that crashed for good would otherwise read as "no such message" until the test times out.
    this.#consumer.on(this.#consumer.events.CRASH, ({ payload }) => {
      if (!payload.restart) this.#crashed = payload.error;
    });
    await this.#consumer.connect();
    await this.#consumer.subscribe({ topic, fromBeginning: true });
    await this.#consumer.run({
      eachMessage: async ({ partition, message }) => {
        this.messages.push({
          partition,
          offset: Number(message.offset),
          key: message.key?.toString(),
          value: JSON.parse(message.value?.toString() ?? 'null') as unknown,
        });
      },
    });
  }

  byId(id: string): ConsumedMessage[] {
    if (this.#crashed) throw new Error(`the test reader's consumer crashed: ${this.#crashed.message}`);
    return this.messages.filter((message) => (message.value as { id?: string } | null)?.id === id);
  }

  async stop(): Promise<void> {
    await this.#consumer?.disconnect();
  }
}

/** The sum of the topic's high watermarks: how many messages were ever written to it. */
export async function topicEnd(kafka: Kafka, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((sum, partition) => sum + Number(partition.high), 0);
  } finally {
    await admin.disconnect();
  }
}

/** A counter's value (summed over its series matching the labels) from the registry. */
export async function metricValue(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (!metric) throw new Error(`no metric ${name}`);
  const { values } = await metric.get();
  return values
    .filter((value) => Object.entries(labels).every(([key, expected]) => String((value.labels as Record<string, unknown>)[key]) === expected))
    .reduce((sum, value) => sum + value.value, 0);
}
