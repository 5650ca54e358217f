import type { Kafka } from 'kafkajs';
import type { Logger } from '@chainlog/core/logging';

/**
 * Resolves once the topic exists (true), or false when `stopped()` turns true first. Readers wait instead
 * of creating the topics other services own (the miners create the blockchain topic, the operator the
 * transactions topic).
 */
export async function waitForTopic(
  kafka: Kafka,
  topic: string,
  logger: Logger,
  options: { intervalMs?: number; stopped: () => boolean },
): Promise<boolean> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    let warned = false;
    while (!options.stopped()) {
      if ((await admin.listTopics()).includes(topic)) return true;
      if (!warned) logger.warn({ topic }, 'topic does not exist yet, waiting for it');
      warned = true;
      await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 2000));
    }
    return false;
  } finally {
    await admin.disconnect();
  }
}
