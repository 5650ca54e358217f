/**
 * Where the verify command reads blocks from: the blockchain topic itself (up to the end offset it has
 * when the command starts), or a file dumped with `kcat -C -e -t blockchain` (one message per line).
 */
import type { Kafka } from 'kafkajs';
import { ChainFollower } from '../kafka/chain-follower.js';
import type { Logger } from '../logging/logger.js';
import { Chain, type ConsensusParams } from '../protocol/index.js';
import { ChainVerifier, type VerifyReport, type VerifySource } from './verifier.js';

/** The blocks could not be read at all (missing topic or file, deleted offsets, …): not a verdict on the chain. */
export class VerifySourceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VerifySourceError';
  }
}

const NEWLINE = 0x0a;

function isBlank(bytes: Uint8Array): boolean {
  return bytes.every((byte) => byte === 0x20 || byte === 0x09 || byte === 0x0d);
}

/**
 * Splits a kcat dump into messages: kcat writes each message's value followed by "\n". Lines are numbered
 * from 1; blank lines (empty or only spaces, tabs and carriage returns) are skipped. Works on bytes, so a
 * message that is not valid UTF-8 reaches the decoder unchanged. A message that itself contains a newline
 * byte (only garbage can: canonical block JSON never does) becomes several lines, each rejected.
 */
export async function* readDumpLines(
  chunks: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>,
): AsyncGenerator<{ position: number; bytes: Uint8Array }> {
  let line = 0;
  let carry: Buffer = Buffer.alloc(0);
  for await (const chunk of chunks) {
    const data = carry.length === 0 ? Buffer.from(chunk) : Buffer.concat([carry, Buffer.from(chunk)]);
    let start = 0;
    for (let at = data.indexOf(NEWLINE, start); at !== -1; at = data.indexOf(NEWLINE, start)) {
      line++;
      const bytes = data.subarray(start, at);
      if (!isBlank(bytes)) yield { position: line, bytes };
      start = at + 1;
    }
    carry = Buffer.from(data.subarray(start));
  }
  if (carry.length > 0) {
    line++;
    if (!isBlank(carry)) yield { position: line, bytes: carry };
  }
}

export interface VerifyTopicOptions {
  readonly kafka: Kafka;
  readonly topic: string;
  /** The transactions topic the blocks' source ranges are checked against (default `transactions`). */
  readonly transactionsTopic?: string;
  readonly params: ConsensusParams;
  readonly logger: Logger;
  /** Upper bound for reading up to the end offset. */
  readonly timeoutMs?: number;
  /** Called after each applied message, for progress displays. */
  readonly onProgress?: (progress: { offset: number; end: number; height: number }) => void;
  /** Aborts the read (e.g. on Ctrl-C); verifyTopic then rejects with the signal's reason. */
  readonly signal?: AbortSignal;
}

/**
 * Reads the blockchain topic from offset 0 to the end offset it has now, through the same ChainFollower the
 * services use, and reports the chain as of that end offset (later messages are ignored).
 */
export async function verifyTopic(options: VerifyTopicOptions): Promise<VerifyReport> {
  const { kafka, topic, params, logger } = options;
  const source: VerifySource = { kind: 'topic', name: topic, positionName: 'offset' };
  const end = await endOffset(kafka, topic);
  const chain = new Chain(params);
  const verifier = new ChainVerifier(chain);
  if (end === 0) return verifier.report(source);

  let report: VerifyReport | undefined;
  // The follower calls back before it applies the next message, so the snapshot at end - 1 is exact.
  const snapshotAtEnd = (offset: number): void => {
    if (offset === end - 1) report = verifier.report(source);
    options.onProgress?.({ offset, end, height: chain.height });
  };
  const follower = new ChainFollower({
    kafka,
    topic,
    chain,
    logger,
    groupIdPrefix: 'chainlog-verify',
    transactionsTopic: options.transactionsTopic ?? 'transactions',
    onAccepted: (block, offset) => {
      if (offset >= end) return;
      verifier.recordAccepted(block, offset);
      snapshotAtEnd(offset);
    },
    onRejected: ({ offset, reason, detail, claimedIndex, claimedMiner }) => {
      if (offset >= end) return;
      verifier.recordRejected({
        position: offset,
        reason,
        detail,
        ...(claimedIndex === undefined ? {} : { claimedIndex }),
        ...(claimedMiner === undefined ? {} : { claimedMiner }),
      });
      snapshotAtEnd(offset);
    },
  });
  const { signal } = options;
  const aborted = new Promise<never>((_, reject) => {
    signal?.addEventListener('abort', () => reject(signal.reason instanceof Error ? signal.reason : new Error('aborted')), { once: true });
  });
  aborted.catch(() => undefined);
  try {
    await follower.start();
    await Promise.race([follower.waitUntilApplied(end - 1, options.timeoutMs ?? 300_000), aborted]);
  } finally {
    await follower.stop();
  }
  if (report === undefined) throw new Error(`offset ${end - 1} was applied but not recorded`);
  return report;
}

async function endOffset(kafka: Kafka, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    if (!(await admin.listTopics()).includes(topic)) throw new VerifySourceError(`topic "${topic}" does not exist`);
    const partitions = await admin.fetchTopicOffsets(topic);
    const [partition] = partitions;
    if (partitions.length !== 1 || partition === undefined) {
      throw new VerifySourceError(`topic "${topic}" has ${partitions.length} partitions; a blockchain topic has exactly 1`);
    }
    const low = Number(partition.low);
    if (low > 0) {
      throw new VerifySourceError(
        `offsets 0..${low - 1} of "${topic}" were deleted (retention or truncation): the chain cannot be verified from genesis`,
      );
    }
    return Number(partition.high);
  } finally {
    await admin.disconnect();
  }
}
