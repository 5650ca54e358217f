// A chain reader's checkpoints (docs/protocol.md §5.1): at start-up, continue from the newest checkpoint that
// verifies instead of replaying from genesis (and say why when none does); while running, write one every so
// many transactions or blocks. Used by the miners; the metrics and log lines are the same wherever it runs.
import type { Kafka } from 'kafkajs';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Logger } from '../logging/logger.js';
import { type Block, type Chain, type ChainState, CHECKPOINT_PROBLEMS, createCheckpoint, type Signer } from '../protocol/index.js';
import { BackgroundVerifier, type BackgroundVerifierOptions } from './background-verifier.js';
import { CheckpointWriter, ensureCheckpointTopic, restoreFromCheckpoint } from './checkpoint-store.js';
import type { SourceThread } from './source-feed.js';

export interface CheckpointSettings {
  /** The compacted checkpoint topic. */
  readonly topic: string;
  /** Continue from a verified checkpoint at start-up (else always replay from genesis). */
  readonly restore: boolean;
  /** Write a checkpoint once this many transactions were committed since the last one (0: no such bound)… */
  readonly everyTransactions: number;
  /** …or this many blocks (0: no such bound), so a quiet chain is checkpointed too. Both 0: never write. */
  readonly everyBlocks: number;
  /** After continuing from a checkpoint, replay from genesis in the background and compare (BackgroundVerifier). */
  readonly verify: boolean;
  /**
   * Read the transactions topic of that replay on a worker thread where two cores are usable (source-feed.ts'
   * 'auto'), as a chain reader at the tip does. Default false: on the replay's own thread. The replay is
   * background work, and the worker's second isolate and buffers cost ~20-35 MiB of RSS at its peak
   * (docs/benchmarks.md, session 9: the auditor's back-fill peaked at 229 MiB at 10M on two cores without it, #21's
   * target is 256) for a replay 2.5-4% faster.
   */
  readonly verifyWorker?: boolean;
}

/** Which thread reads the transactions topic for the background verification (CheckpointSettings.verifyWorker). */
export function verificationSourceThread(settings: Pick<CheckpointSettings, 'verifyWorker'>): SourceThread {
  return settings.verifyWorker === true ? 'auto' : 'calling';
}

export interface ChainCheckpointsOptions {
  readonly kafka: Kafka;
  readonly settings: CheckpointSettings;
  readonly blockchainTopic: string;
  /** For the background verification's source coverage. */
  readonly transactionsTopic: string;
  readonly chain: Chain;
  readonly logger: Logger;
  readonly registry: Registry;
  /** The writer's name: one current checkpoint per writer on the topic. */
  readonly writer: string;
  /** Signs the manifests (on a permissioned chain only an allowed miner's checkpoints are trusted). */
  readonly signer?: Signer;
}

interface CheckpointMetrics {
  readonly restores: Counter<'outcome'>;
  readonly rejected: Counter<'problem'>;
  readonly written: Counter;
  readonly writeFailures: Counter;
}

function createMetrics(registry: Registry, chain: Chain): CheckpointMetrics {
  const registers = [registry];
  const rejected = new Counter({
    name: 'chainlog_checkpoint_rejected_total',
    help: 'Checkpoints not used at start-up, by problem (docs/protocol.md §5.1): the reader replayed instead',
    labelNames: ['problem'],
    registers,
  });
  for (const problem of CHECKPOINT_PROBLEMS) rejected.inc({ problem }, 0);
  new Gauge({
    name: 'chainlog_chain_kept_transaction_ids',
    help: 'Committed transaction ids held in memory to reject duplicates (with a replay window: only the window)',
    registers,
    collect() {
      this.set(chain.keptTransactionIds);
    },
  });
  return {
    restores: new Counter({
      name: 'chainlog_checkpoint_restores_total',
      help: 'Start-ups by how the chain was rebuilt: restored (from a checkpoint), none (no checkpoint), rejected (every checkpoint refused), disabled',
      labelNames: ['outcome'],
      registers,
    }),
    rejected,
    written: new Counter({ name: 'chainlog_checkpoints_written_total', help: 'Checkpoints this process wrote', registers }),
    writeFailures: new Counter({ name: 'chainlog_checkpoint_write_failures_total', help: 'Checkpoints this process failed to write', registers }),
  };
}

export class ChainCheckpoints {
  readonly #options: ChainCheckpointsOptions;
  readonly #metrics: CheckpointMetrics;
  readonly #writer: CheckpointWriter;
  #writing: Promise<void> | undefined;
  #last: { transactions: number; index: number } | undefined;
  #enabled = false;
  #restored: { readonly tipOffset: number; readonly state: ChainState } | undefined;
  #verifier: BackgroundVerifier | undefined;
  /** Aborted by stop(): a restore waiting for the broker to answer gives up. */
  readonly #stopping = new AbortController();

  constructor(options: ChainCheckpointsOptions) {
    this.#options = options;
    this.#metrics = createMetrics(options.registry, options.chain);
    this.#writer = new CheckpointWriter(options.kafka, options.settings.topic);
  }

  /** Checkpoints exist only for chains with a replay window (docs/protocol.md §2.5). */
  get available(): boolean {
    return this.#options.chain.params.replayWindowMs !== undefined;
  }

  /**
   * Creates the topic if needed and continues the (empty) chain from the newest checkpoint that verifies.
   * Returns the blockchain offset to follow from: after the checkpoint's tip, or 0 (full replay).
   */
  async restore(): Promise<number> {
    const { kafka, settings, blockchainTopic, chain, logger } = this.#options;
    if (!this.available) {
      this.#metrics.restores.inc({ outcome: 'disabled' });
      return 0;
    }
    this.#enabled = true;
    const admin = kafka.admin();
    await admin.connect();
    try {
      if (await ensureCheckpointTopic(admin, settings.topic)) logger.info({ topic: settings.topic }, 'checkpoint topic created');
    } finally {
      await admin.disconnect();
    }
    if (!settings.restore) {
      this.#metrics.restores.inc({ outcome: 'disabled' });
      return 0;
    }
    const started = performance.now();
    const result = await restoreFromCheckpoint({ kafka, topic: settings.topic, blockchainTopic, chain, logger, signal: this.#stopping.signal });
    for (const { writer, problem, detail } of result.rejected) {
      this.#metrics.rejected.inc({ problem });
      logger.warn({ writer, problem, detail }, 'checkpoint rejected: not used');
    }
    this.#metrics.restores.inc({ outcome: result.outcome });
    const ms = Math.round(performance.now() - started);
    if (result.outcome !== 'restored') {
      logger[result.outcome === 'rejected' ? 'warn' : 'info']({ outcome: result.outcome, ms }, 'no usable checkpoint: replaying the chain from genesis');
      return 0;
    }
    const { writer, tipOffset, tipIndex } = result;
    this.#restored = { tipOffset, state: result.state };
    this.#last = { transactions: chain.transactionCount, index: tipIndex };
    logger.info({ writer, tipOffset, tipIndex, transactions: chain.transactionCount, keptIds: chain.keptTransactionIds, ms }, 'chain restored from a checkpoint');
    return tipOffset + 1;
  }

  /** A block joined the chain at `offset`: writes a checkpoint when enough happened since the last one. */
  onAccepted(block: Block, offset: number): void {
    const { settings, chain } = this.#options;
    if (!this.#enabled || this.#writing !== undefined) return;
    const last = this.#last ?? { transactions: 0, index: 0 };
    const { everyTransactions, everyBlocks } = settings;
    const due =
      (everyTransactions > 0 && chain.transactionCount - last.transactions >= everyTransactions) || (everyBlocks > 0 && block.index - last.index >= everyBlocks);
    if (!due) return;
    this.#last = { transactions: chain.transactionCount, index: block.index };
    // The state is taken now, synchronously: the follower applies the next block only after this returns.
    const encoded = createCheckpoint(chain.state(), chain.params, {
      blockchainTopic: this.#options.blockchainTopic,
      tipOffset: offset,
      tipIndex: block.index,
      tipHash: block.hash,
      writer: this.#options.writer,
      writtenAt: Date.now(),
      ...(this.#options.signer === undefined ? {} : { signer: this.#options.signer }),
    });
    if (encoded === undefined) return;
    this.#writing = this.#writer
      .write(encoded)
      .then(() => {
        this.#metrics.written.inc();
        this.#options.logger.info({ tipIndex: block.index, tipOffset: offset, parts: encoded.parts.length, ids: encoded.body.recentIds.length }, 'checkpoint written');
      })
      .catch((error: unknown) => {
        this.#metrics.writeFailures.inc();
        this.#options.logger.warn({ err: error, tipIndex: block.index }, 'writing a checkpoint failed');
      })
      .finally(() => {
        this.#writing = undefined;
      });
  }

  /** The checkpoint the chain continued from (undefined: none, a full replay). */
  get restored(): { readonly tipOffset: number; readonly state: ChainState } | undefined {
    return this.#restored;
  }

  /**
   * After a restore (and once the service is ready, so that it does not delay start-up): replays the chain
   * from genesis up to the checkpoint's tip in the background and compares the state. Resolves at once.
   * `force` runs it even with CHECKPOINT_VERIFY off (a reader that needs the replay's blocks: the auditor's
   * back-fill, handed each block through `onAccepted`). `resumeFrom` continues an earlier, interrupted replay.
   */
  async verifyInBackground(
    options: { force?: boolean; onAccepted?: BackgroundVerifierOptions['onAccepted']; resumeFrom?: BackgroundVerifierOptions['resumeFrom'] } = {},
  ): Promise<void> {
    const restored = this.#restored;
    if (restored === undefined || (!this.#options.settings.verify && options.force !== true) || this.#verifier !== undefined) return;
    const { kafka, blockchainTopic, transactionsTopic, chain, logger, registry } = this.#options;
    this.#verifier = new BackgroundVerifier({
      kafka,
      blockchainTopic,
      transactionsTopic,
      params: chain.params,
      logger,
      registry,
      target: restored,
      sourceThread: verificationSourceThread(this.#options.settings),
      ...(options.onAccepted === undefined ? {} : { onAccepted: options.onAccepted }),
      // A resume point at or past the target has nothing left to replay up to it: start from genesis then.
      ...(options.resumeFrom === undefined || options.resumeFrom.offset >= restored.tipOffset ? {} : { resumeFrom: options.resumeFrom }),
    });
    await this.#verifier.start();
  }

  /** The background verification's outcome (undefined when none runs). */
  get verification(): Promise<'matched' | 'mismatched' | 'stopped'> | undefined {
    return this.#verifier?.finished;
  }

  async stop(): Promise<void> {
    this.#stopping.abort();
    await this.#verifier?.stop();
    await this.#writing;
    await this.#writer.stop();
  }
}
