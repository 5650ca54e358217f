/**
 * On start the auditor replays the whole blockchain topic and so meets every rejected block again. To
 * avoid writing the same audit events after every restart, it first reads the audit topic and finds the
 * highest blockchain offset already reported for its blockchain topic (by any auditor); events at or
 * below that offset are not published again. Event ids are deterministic (`<topic>:<offset>`), so
 * consumers can still deduplicate what concurrent auditors write.
 */
import type { Kafka } from 'kafkajs';
import { readTopicToEnd } from '@chainlog/core/kafka';
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
  let watermark = -1;
  const outcome = await readTopicToEnd({
    kafka,
    topic: auditTopic,
    logger,
    name: 'audit watermark',
    groupIdPrefix: 'chainlog-auditor-watermark',
    timeoutMs,
    onMessage: ({ value }) => {
      const reported = reportedOffset(value, blockchainTopic);
      if (reported !== undefined && reported > watermark) watermark = reported;
    },
  });
  // Publishing again what was published is what the watermark exists to avoid: no guess on a partial read.
  if (outcome === 'timed-out') throw new Error(`reading the audit topic ${auditTopic} took over ${timeoutMs} ms`);
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
