/**
 * On start the auditor replays the whole blockchain topic and so meets every rejected block again. To
 * avoid writing the same audit events after every restart, it first reads the audit topic and finds the
 * highest blockchain offset already reported for its blockchain topic (by any auditor); events at or
 * below that offset are not published again. Event ids are deterministic (`<topic>:<offset>`), so
 * consumers can still deduplicate what concurrent auditors write.
 */
import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import type { Logger } from '@chainlog/core/logging';
import { AUDIT_EVENT_SCHEMA } from './audit-event.js';

/** The highest blockchain offset with an event on the audit topic, -1 when none. */
export async function readAuditWatermark(
  kafka: Kafka,
  auditTopic: string,
  blockchainTopic: string,
  logger: Logger,
  timeoutMs = 60_000,
): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  let remaining: Map<number, number>;
  try {
    const offsets = await admin.fetchTopicOffsets(auditTopic);
    // Partitions with messages, and the last offset each must be read up to.
    remaining = new Map(offsets.filter((p) => Number(p.high) > Number(p.low)).map((p) => [p.partition, Number(p.high) - 1]));
  } finally {
    await admin.disconnect();
  }
  if (remaining.size === 0) return -1;

  let watermark = -1;
  const consumer = kafka.consumer({ groupId: `chainlog-auditor-watermark-${randomUUID()}`, allowAutoTopicCreation: false });
  try {
    await consumer.connect();
    await consumer.subscribe({ topic: auditTopic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`reading the audit topic ${auditTopic} took over ${timeoutMs} ms`)), timeoutMs);
      consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            for (const message of batch.messages) {
              const offset = reportedOffset(message.value, blockchainTopic);
              if (offset !== undefined && offset > watermark) watermark = offset;
            }
            const last = remaining.get(batch.partition);
            if (last !== undefined && Number(batch.lastOffset()) >= last) remaining.delete(batch.partition);
            if (remaining.size === 0) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch((error: unknown) => {
          clearTimeout(timer);
          reject(error as Error);
        });
    });
  } finally {
    await consumer.disconnect();
  }
  logger.info({ auditTopic, watermark }, 'audit events up to this blockchain offset were already published');
  return watermark;
}

function reportedOffset(value: Buffer | null, blockchainTopic: string): number | undefined {
  if (value === null) return undefined;
  try {
    const event = JSON.parse(value.toString('utf8')) as { schema?: unknown; blockchainTopic?: unknown; offset?: unknown };
    if (event.schema !== AUDIT_EVENT_SCHEMA || event.blockchainTopic !== blockchainTopic) return undefined;
    return typeof event.offset === 'number' && Number.isSafeInteger(event.offset) ? event.offset : undefined;
  } catch {
    return undefined;
  }
}
