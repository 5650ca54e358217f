/**
 * On start the auditor replays the whole blockchain topic and so meets every rejected block again. To
 * avoid writing the same audit events after every restart, it first reads the audit topic and finds the
 * highest blockchain offset already reported for its blockchain topic (by any auditor); events at or
 * below that offset are not published again. Event ids are deterministic (`<topic>:<offset>`), so
 * consumers can still deduplicate what concurrent auditors write.
 */
import type { Kafka } from 'kafkajs';
import { TopicReader } from '@chainlog/core/kafka';
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
  let done: (() => void) | undefined;
  let failed: ((error: Error) => void) | undefined;
  const finished = new Promise<void>((resolve, reject) => {
    done = resolve;
    failed = reject;
  });
  const reader = new TopicReader({
    kafka,
    topic: auditTopic,
    logger,
    name: 'audit watermark',
    groupIdPrefix: 'chainlog-auditor-watermark',
    onMessage: ({ partition, offset, value }) => {
      const reported = reportedOffset(value, blockchainTopic);
      if (reported !== undefined && reported > watermark) watermark = reported;
      const last = remaining.get(partition);
      if (last !== undefined && offset >= last) remaining.delete(partition);
      if (remaining.size === 0) done?.();
    },
    onFailure: (error) => failed?.(error),
  });
  const timer = setTimeout(() => failed?.(new Error(`reading the audit topic ${auditTopic} took over ${timeoutMs} ms`)), timeoutMs);
  try {
    await reader.start();
    await finished;
  } finally {
    clearTimeout(timer);
    await reader.stop();
  }
  logger.info({ auditTopic, watermark }, 'audit events up to this blockchain offset were already published');
  return watermark;
}

function reportedOffset(value: Buffer, blockchainTopic: string): number | undefined {
  if (value.length === 0) return undefined;
  try {
    const event = JSON.parse(value.toString('utf8')) as { schema?: unknown; blockchainTopic?: unknown; offset?: unknown };
    if (event.schema !== AUDIT_EVENT_SCHEMA || event.blockchainTopic !== blockchainTopic) return undefined;
    return typeof event.offset === 'number' && Number.isSafeInteger(event.offset) ? event.offset : undefined;
  } catch {
    return undefined;
  }
}
