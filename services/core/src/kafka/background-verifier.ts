// Full verification from genesis in the background (docs/protocol.md §5.1): a reader that continued from a
// checkpoint trusted its signer for the state up to the checkpoint's tip. This replays the chain from offset
// 0 with a Chain of its own, as every reader once did, up to that tip, and compares the state it computes with
// the one the checkpoint gave: equal, or a loud error (a forged or wrong checkpoint). Progress is a gauge and a
// log line per percent. It stops at the tip: from there on the reader validated every block itself.
import type { Kafka } from 'kafkajs';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Logger } from '../logging/logger.js';
import { type Block, canonicalJson, Chain, type ChainState, type ConsensusParams, type RefusedRecord } from '../protocol/index.js';
import { ChainFollower } from './chain-follower.js';
import type { SourceThread } from './source-feed.js';

export interface BackgroundVerifierOptions {
  readonly kafka: Kafka;
  readonly blockchainTopic: string;
  readonly transactionsTopic: string;
  readonly params: ConsensusParams;
  readonly logger: Logger;
  readonly registry: Registry;
  /** The restored checkpoint: its tip's offset and the state the reader continued from. */
  readonly target: { readonly tipOffset: number; readonly state: ChainState };
  readonly groupIdPrefix?: string;
  /** Which thread reads the transactions topic for the replay (source-feed.ts; default 'auto'). */
  readonly sourceThread?: SourceThread;
  /**
   * Each block the replay accepted up to the target's tip, with the sequence number of its first transaction
   * (transactions committed before it, coinbases included): the auditor back-fills its index from these.
   * Awaited before the next block (the auditor's index store holds the replay back while its writes catch up).
   */
  readonly onAccepted?: (
    block: Block,
    offset: number,
    bytes: Uint8Array,
    firstSeq: number,
    state: () => ChainState | undefined,
    refused: readonly RefusedRecord[],
  ) => void | Promise<void>;
  /**
   * Continue an interrupted replay instead of starting at genesis: the state after the block at `offset`, as
   * an earlier replay from genesis by this same reader computed it and kept it (the auditor's back-fill keeps
   * it on its volume). Only the reader's own earlier result is trusted this way, never a checkpoint's.
   */
  readonly resumeFrom?: { readonly offset: number; readonly state: ChainState };
}

export type VerificationOutcome = 'matched' | 'mismatched' | 'stopped';

export class BackgroundVerifier {
  readonly #options: BackgroundVerifierOptions;
  readonly #ratio: Gauge;
  readonly #mismatches: Counter;
  #follower: ChainFollower | undefined;
  #percent = -1;
  #done: ((outcome: VerificationOutcome) => void) | undefined;
  readonly finished: Promise<VerificationOutcome>;

  constructor(options: BackgroundVerifierOptions) {
    this.#options = options;
    const registers = [options.registry];
    this.#ratio = new Gauge({
      name: 'chainlog_chain_verification_ratio',
      help: 'Progress of the background verification from genesis up to the checkpoint this process started from (1: done)',
      registers,
    });
    this.#mismatches = new Counter({
      name: 'chainlog_chain_verification_mismatches_total',
      help: 'Background verifications whose state from genesis differs from the checkpoint this process started from',
      registers,
    });
    this.finished = new Promise((resolve) => (this.#done = resolve));
  }

  async start(): Promise<void> {
    const { kafka, blockchainTopic, transactionsTopic, params, logger, target } = this.#options;
    const chain = new Chain(params);
    const resume = this.#options.resumeFrom;
    if (resume !== undefined) chain.continueFrom(resume.state);
    const state = (): ChainState | undefined => chain.state();
    this.#follower = new ChainFollower({
      kafka,
      topic: blockchainTopic,
      chain,
      logger: logger.child({ component: 'background-verifier' }),
      groupIdPrefix: this.#options.groupIdPrefix ?? 'chainlog-background-verifier',
      transactionsTopic,
      ...(this.#options.sourceThread === undefined ? {} : { sourceThread: this.#options.sourceThread }),
      onAccepted: async (block, offset, bytes, refused) => {
        if (offset > target.tipOffset) return;
        await this.#options.onAccepted?.(block, offset, bytes, chain.transactionCount - block.transactions.length, state, refused);
        this.#progress(offset);
        if (offset === target.tipOffset) this.#finish(chain);
      },
    });
    if (resume === undefined) logger.info({ tipOffset: target.tipOffset }, 'background verification from genesis started');
    else logger.info({ tipOffset: target.tipOffset, fromOffset: resume.offset + 1, fromIndex: resume.state.tip.index }, 'background verification from genesis resumed where an earlier run stopped');
    await this.#follower.start(resume === undefined ? 0 : resume.offset + 1);
  }

  #progress(offset: number): void {
    const ratio = Math.min(1, (offset + 1) / (this.#options.target.tipOffset + 1));
    this.#ratio.set(ratio);
    const percent = Math.floor(ratio * 100);
    if (percent > this.#percent) {
      this.#percent = percent;
      this.#options.logger.info({ percent, offset, tipOffset: this.#options.target.tipOffset }, 'background verification progress');
    }
  }

  #finish(chain: Chain): void {
    const { logger, target } = this.#options;
    const computed = chain.state();
    const matched = computed !== undefined && canonicalJson(computed) === canonicalJson(target.state);
    if (matched) logger.info({ tipOffset: target.tipOffset }, 'background verification from genesis matches the checkpoint');
    else {
      this.#mismatches.inc();
      logger.error({ tipOffset: target.tipOffset }, 'background verification from genesis does NOT match the checkpoint this process started from');
    }
    this.#done?.(matched ? 'matched' : 'mismatched');
    // Not from inside the follower's own message handler: stopping waits for that handler to return.
    setImmediate(() => void this.stop());
  }

  async stop(): Promise<void> {
    const follower = this.#follower;
    this.#follower = undefined;
    await follower?.stop();
    this.#done?.('stopped');
  }
}
