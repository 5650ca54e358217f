// Checkpoints on Kafka (docs/protocol.md §5.1): a compacted topic where each writer keeps its latest
// checkpoint, so services still talk only through Kafka. Keys: `<writer>` for the manifest (compaction keeps
// the newest), `<writer>/<tipIndex>/<part>` for the body's parts, deleted (tombstones) once a newer
// checkpoint's manifest is written. A reader reads the topic to its end, tries the newest checkpoints first,
// and continues its chain from the first one that opens and verifies against the blockchain topic.
import type { Admin, Kafka, Producer } from 'kafkajs';
import type { Logger } from '../logging/logger.js';
import {
  type Chain,
  type ChainState,
  type CheckpointProblem,
  type EncodedCheckpoint,
  openCheckpoint,
  verifyCheckpoint,
} from '../protocol/index.js';
import { readTopicToEnd, TopicReader } from './topic-reader.js';
import { CHECKPOINT_TOPIC_CONFIG } from './topics.js';
import { kafkaBackoffMs } from './wait-for-kafka.js';

/** Compacted, one partition: the topic holds the latest checkpoint of each writer, not a history. */
export async function ensureCheckpointTopic(admin: Admin, topic: string, replicationFactor = -1): Promise<boolean> {
  if ((await admin.listTopics()).includes(topic)) return false;
  return admin.createTopics({
    waitForLeaders: true,
    topics: [
      {
        topic,
        numPartitions: 1,
        replicationFactor,
        // Checkpoint parts are up to 512 KiB, one per record batch; the manifest is written last and small.
        configEntries: Object.entries(CHECKPOINT_TOPIC_CONFIG).map(([name, value]) => ({ name, value })),
      },
    ],
  });
}

const manifestKey = (writer: string): string => writer;
const partKey = (writer: string, tipIndex: number, part: number): string => `${writer}/${tipIndex}/${part}`;

/** Writes one writer's checkpoints: parts, then the manifest, then tombstones for the previous parts. */
export class CheckpointWriter {
  readonly #producer: Producer;
  readonly #topic: string;
  #previous: { writer: string; tipIndex: number; parts: number } | undefined;
  #connected = false;

  constructor(kafka: Kafka, topic: string) {
    this.#producer = kafka.producer({ allowAutoTopicCreation: false });
    this.#topic = topic;
  }

  async write(checkpoint: EncodedCheckpoint): Promise<void> {
    if (!this.#connected) {
      await this.#producer.connect();
      this.#connected = true;
    }
    const { writer, tipIndex, parts } = checkpoint.manifestValue;
    const topic = this.#topic;
    // One part per request: the broker limits a record batch (all of a request's messages for the partition)
    // to the topic's max.message.bytes, which a part alone nearly fills.
    for (const [i, value] of checkpoint.parts.entries()) {
      await this.#producer.send({ topic, acks: -1, messages: [{ key: partKey(writer, tipIndex, i), value }] });
    }
    await this.#producer.send({ topic, acks: -1, messages: [{ key: manifestKey(writer), value: checkpoint.manifest }] });
    const previous = this.#previous;
    this.#previous = { writer, tipIndex, parts };
    if (previous !== undefined && previous.tipIndex !== tipIndex) {
      const tombstones = Array.from({ length: previous.parts }, (_, i) => ({ key: partKey(previous.writer, previous.tipIndex, i), value: null }));
      await this.#producer.send({ topic, acks: -1, messages: tombstones });
    }
  }

  async stop(): Promise<void> {
    if (this.#connected) await this.#producer.disconnect();
    this.#connected = false;
  }
}

export interface CheckpointCandidate {
  readonly writer: string;
  readonly manifest: Buffer;
  readonly parts: readonly (Buffer | undefined)[];
  /** From the manifest, when it parses: newest first. */
  readonly tipIndex: number;
}

/** The latest checkpoint of every writer on the topic, newest tip first; none when the topic is empty or missing. */
export async function readCheckpointCandidates(kafka: Kafka, topic: string, logger: Logger, timeoutMs = 15_000): Promise<CheckpointCandidate[]> {
  const values = await readCompactedTopic(kafka, topic, logger, timeoutMs);
  const candidates: CheckpointCandidate[] = [];
  for (const [key, manifest] of values) {
    if (key.includes('/')) continue;
    let tipIndex = -1;
    let parts = 0;
    try {
      const parsed = JSON.parse(manifest.toString('utf8')) as { tipIndex?: unknown; parts?: unknown };
      tipIndex = typeof parsed.tipIndex === 'number' ? parsed.tipIndex : -1;
      parts = typeof parsed.parts === 'number' && parsed.parts <= 100_000 ? parsed.parts : 0;
    } catch {
      // openCheckpoint names the problem.
    }
    candidates.push({ writer: key, manifest, tipIndex, parts: Array.from({ length: parts }, (_, i) => values.get(partKey(key, tipIndex, i))) });
  }
  return candidates.sort((a, b) => b.tipIndex - a.tipIndex);
}

/** Every key's latest value (tombstones remove it), read from the start to the end the topic had when asked. */
async function readCompactedTopic(kafka: Kafka, topic: string, logger: Logger, timeoutMs: number): Promise<Map<string, Buffer>> {
  const values = new Map<string, Buffer>();
  const outcome = await readTopicToEnd({
    kafka,
    topic,
    logger,
    name: 'checkpoint reader',
    groupIdPrefix: 'chainlog-checkpoint-reader',
    timeoutMs,
    onMessage: ({ raw }) => {
      const key = raw.key?.toString('utf8');
      if (key === undefined) return;
      if (raw.value === null) values.delete(key);
      else values.set(key, raw.value);
    },
  });
  if (outcome === 'timed-out') logger.warn({ topic, timeoutMs }, 'reading the checkpoint topic timed out: using what was read');
  return values;
}

/**
 * What a broker says about the message at `offset` of a single-partition topic. `absent` is positive evidence
 * (the broker answered: no such topic, the offset is outside the partition's [start, end), or the record is gone
 * or a tombstone); `unknown` means no evidence either way (the broker did not answer in time or failed): a caller
 * must not treat it as `absent` (a slow broker at start-up is not a recreated topic).
 */
export type MessageProbe =
  | { readonly outcome: 'found'; readonly value: Buffer }
  | { readonly outcome: 'absent'; readonly detail: string }
  | { readonly outcome: 'unknown'; readonly detail: string; readonly error?: Error };

/** Asks the broker for the message at `offset` of a single-partition topic, giving up after `timeoutMs` (then `unknown`). */
export async function probeMessageAt(kafka: Kafka, topic: string, offset: number, logger: Logger, timeoutMs = 15_000): Promise<MessageProbe> {
  const abandon = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<MessageProbe>((resolve) => {
    timer = setTimeout(() => resolve({ outcome: 'unknown', detail: `the broker did not answer within ${timeoutMs} ms` }), timeoutMs);
  });
  const asked = askMessageAt(kafka, topic, offset, logger, abandon.signal).catch(
    (error: unknown): MessageProbe => ({ outcome: 'unknown', detail: `the broker did not answer: ${(error as Error).message}`, error: error as Error }),
  );
  try {
    return await Promise.race([asked, deadline]);
  } finally {
    clearTimeout(timer);
    // A request still under way (the deadline won) stops its reader and admin client in the background.
    abandon.abort();
  }
}

async function askMessageAt(kafka: Kafka, topic: string, offset: number, logger: Logger, abandoned: AbortSignal): Promise<MessageProbe> {
  const ends = await partitionBounds(kafka, topic);
  if (ends === undefined) return { outcome: 'absent', detail: `the topic ${topic} does not exist` };
  if (offset >= ends.high) return { outcome: 'absent', detail: `offset ${offset} is at or past the end of ${topic} (${ends.high})` };
  if (offset < ends.low) return { outcome: 'absent', detail: `offset ${offset} is below the start of ${topic} (${ends.low}): deleted` };
  if (abandoned.aborted) return { outcome: 'unknown', detail: 'abandoned' };
  let found: (probe: MessageProbe) => void = () => undefined;
  const result = new Promise<MessageProbe>((resolve) => (found = resolve));
  abandoned.addEventListener('abort', () => found({ outcome: 'unknown', detail: 'abandoned' }), { once: true });
  const reader = new TopicReader({
    kafka,
    topic,
    logger,
    name: 'checkpoint tip reader',
    groupIdPrefix: 'chainlog-checkpoint-tip',
    startOffsets: new Map([[0, offset]]),
    onMessage: (message) => {
      // The first record at or after `offset`: another offset means the record is gone (compacted away).
      if (message.offset !== offset) found({ outcome: 'absent', detail: `no record at offset ${offset} of ${topic} (the next is at ${message.offset})` });
      else if (message.raw.value === null) found({ outcome: 'absent', detail: `the record at offset ${offset} of ${topic} is a tombstone` });
      else found({ outcome: 'found', value: message.value });
    },
  });
  try {
    await reader.start();
    return await result;
  } finally {
    await reader.stop();
  }
}

/** The single partition's [low, high) offsets; undefined when the topic does not exist. */
async function partitionBounds(kafka: Kafka, topic: string): Promise<{ low: number; high: number } | undefined> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    if (!(await admin.listTopics()).includes(topic)) return undefined;
    const partition = (await admin.fetchTopicOffsets(topic)).find((candidate) => candidate.partition === 0);
    return { low: Number(partition?.low ?? 0), high: Number(partition?.high ?? 0) };
  } finally {
    await admin.disconnect();
  }
}

/**
 * The broker's answer about the checkpoint's tip, asked again with backoff while it does not answer: a slow or
 * unreachable broker is no evidence that the checkpoint is not on the chain (rejecting it would report a forgery
 * and replay from genesis). Undefined when stopped first.
 */
async function tipAnswered(options: RestoreOptions, tipOffset: number): Promise<Exclude<MessageProbe, { outcome: 'unknown' }> | undefined> {
  const { kafka, blockchainTopic, logger, signal } = options;
  const probe = options.probe ?? probeMessageAt;
  const retryMs = options.retryMs ?? ((attempt: number) => kafkaBackoffMs(attempt - 1, 1000, 15_000));
  for (let attempt = 1; signal?.aborted !== true; attempt++) {
    const answer = await probe(kafka, blockchainTopic, tipOffset, logger);
    if (answer.outcome !== 'unknown') return answer;
    const pauseMs = retryMs(attempt);
    logger.warn({ blockchainTopic, tipOffset, attempt, detail: answer.detail, retryInMs: pauseMs }, "cannot read the checkpoint's tip block (broker slow or unreachable): asking again");
    await abortableDelay(pauseMs, signal);
  }
  return undefined;
}

function abortableDelay(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted === true) return resolve();
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });
}

export type RestoreOutcome =
  | {
      readonly outcome: 'restored';
      readonly writer: string;
      readonly tipOffset: number;
      readonly tipIndex: number;
      /** The state the chain continued from. */
      readonly state: ChainState;
      readonly rejected: readonly RejectedCheckpoint[];
    }
  | { readonly outcome: 'none' | 'rejected'; readonly rejected: readonly RejectedCheckpoint[] };

export interface RejectedCheckpoint {
  readonly writer: string;
  readonly problem: CheckpointProblem;
  readonly detail: string;
}

export interface RestoreOptions {
  readonly kafka: Kafka;
  readonly topic: string;
  readonly blockchainTopic: string;
  /** An empty chain; continued from the first checkpoint that verifies. */
  readonly chain: Chain;
  readonly logger: Logger;
  /** How many of the newest checkpoints to try before replaying from genesis. */
  readonly maxAttempts?: number;
  /** Aborted on shutdown: a tip read the broker does not answer stops being retried (the restore then finds none). */
  readonly signal?: AbortSignal;
  /** For tests: how the checkpoint's tip is read from the blockchain topic (default probeMessageAt). */
  readonly probe?: typeof probeMessageAt;
  /** For tests: the pause after the `attempt`-th unanswered tip read (default from 1 s doubling to 15 s, jittered). */
  readonly retryMs?: (attempt: number) => number;
}

/** Continues the empty chain from the newest checkpoint that opens and verifies; says which, or why none. */
export async function restoreFromCheckpoint(options: RestoreOptions): Promise<RestoreOutcome> {
  const { kafka, topic, blockchainTopic, chain, logger } = options;
  const rejected: RejectedCheckpoint[] = [];
  const candidates = (await readCheckpointCandidates(kafka, topic, logger)).slice(0, options.maxAttempts ?? 3);
  for (const candidate of candidates) {
    const opened = openCheckpoint(candidate.manifest, candidate.parts);
    if (!opened.ok) {
      rejected.push({ writer: candidate.writer, problem: opened.problem, detail: opened.detail });
      continue;
    }
    const { tipOffset, tipIndex } = opened.manifest;
    const tip = await tipAnswered(options, tipOffset);
    if (tip === undefined) return { outcome: 'none', rejected };
    const tipMessage = tip.outcome === 'found' ? tip.value : undefined;
    const verified = verifyCheckpoint(opened, { params: chain.params, blockchainTopic, tipMessage });
    if (!verified.ok) {
      rejected.push({ writer: candidate.writer, problem: verified.problem, detail: verified.detail });
      continue;
    }
    chain.continueFrom(verified.state);
    return { outcome: 'restored', writer: candidate.writer, tipOffset, tipIndex, state: verified.state, rejected };
  }
  return { outcome: rejected.length > 0 ? 'rejected' : 'none', rejected };
}
