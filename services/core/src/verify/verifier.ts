/**
 * The verify command's core: replays blockchain messages, in order, through the protocol's Chain (the
 * same fork choice the running services use) and reports the resulting chain and every rejection.
 * Pure; the sources (a topic, a kcat dump) are in sources.ts.
 */
import { type ApplyResult, type Block, Chain, type ConsensusParams, REJECTION_REASONS, type RejectionReason } from '../protocol/index.js';

export interface VerifySource {
  readonly kind: 'topic' | 'file';
  /** The topic name, or the file path ("-" for standard input). */
  readonly name: string;
  /** What a rejection's `position` counts: topic offsets (from 0) or file lines (from 1). */
  readonly positionName: 'offset' | 'line';
}

export interface VerifyRejection {
  /** Offset on the topic, or line number in the file. */
  readonly position: number;
  readonly reason: RejectionReason;
  readonly detail: string;
  readonly claimedIndex?: number;
  readonly claimedMiner?: string;
}

export interface VerifyReport {
  readonly source: VerifySource;
  /**
   * True when no message was rejected for anything but a lost race (`stale`, `fork`): competing miners and
   * a second genesis produce those on every healthy multi-miner ledger, and they cannot change the chain.
   */
  readonly ok: boolean;
  /** Rejections that are lost races (`stale`, `fork`), included in `rejected`. */
  readonly races: number;
  readonly messages: number;
  readonly accepted: number;
  readonly rejected: number;
  /** Index of the head block; -1 when no block was accepted. */
  readonly height: number;
  readonly headHash: string | null;
  /** Committed transactions, coinbases included. */
  readonly transactionCount: number;
  /** Every reason, 0 for those not seen. */
  readonly rejectionsByReason: Record<RejectionReason, number>;
  readonly rejections: VerifyRejection[];
}

const RACE_REASONS: ReadonlySet<RejectionReason> = new Set(['stale', 'fork']);

/** Collects the outcome of each message; apply() runs the Chain itself, or record*() takes outcomes from a ChainFollower. */
export class ChainVerifier {
  readonly chain: Chain;
  #messages = 0;
  #accepted = 0;
  readonly #rejections: VerifyRejection[] = [];

  constructor(paramsOrChain: ConsensusParams | Chain) {
    this.chain = paramsOrChain instanceof Chain ? paramsOrChain : new Chain(paramsOrChain);
  }

  /** Applies the next message (its raw bytes) at this position. */
  apply(position: number, bytes: Uint8Array): ApplyResult {
    const result = this.chain.apply(bytes);
    if (result.accepted) {
      this.recordAccepted(result.block, position);
    } else {
      const { reason, detail, claimedIndex, claimedMiner } = result;
      this.recordRejected({ position, reason, detail, ...optional(claimedIndex, claimedMiner) });
    }
    return result;
  }

  recordAccepted(_block: Block, _position: number): void {
    this.#messages++;
    this.#accepted++;
  }

  recordRejected(rejection: VerifyRejection): void {
    this.#messages++;
    this.#rejections.push(rejection);
  }

  report(source: VerifySource): VerifyReport {
    const rejectionsByReason = Object.fromEntries(REJECTION_REASONS.map((reason) => [reason, 0])) as Record<RejectionReason, number>;
    for (const { reason } of this.#rejections) rejectionsByReason[reason]++;
    const races = this.#rejections.filter(({ reason }) => RACE_REASONS.has(reason)).length;
    return {
      source,
      ok: this.#rejections.length === races,
      races,
      messages: this.#messages,
      accepted: this.#accepted,
      rejected: this.#rejections.length,
      height: this.chain.height,
      headHash: this.chain.tip?.hash ?? null,
      transactionCount: this.chain.transactionCount,
      rejectionsByReason,
      rejections: [...this.#rejections],
    };
  }
}

function optional(claimedIndex: number | undefined, claimedMiner: string | undefined): Partial<VerifyRejection> {
  return {
    ...(claimedIndex === undefined ? {} : { claimedIndex }),
    ...(claimedMiner === undefined ? {} : { claimedMiner }),
  };
}

/** Replays messages (e.g. from readDumpLines) and reports. */
export async function verifyMessages(
  params: ConsensusParams,
  source: VerifySource,
  messages: AsyncIterable<{ position: number; bytes: Uint8Array }> | Iterable<{ position: number; bytes: Uint8Array }>,
): Promise<VerifyReport> {
  const verifier = new ChainVerifier(params);
  for await (const { position, bytes } of messages) verifier.apply(position, bytes);
  return verifier.report(source);
}

/** The human-readable report the CLI prints. */
export function formatVerifyReport(report: VerifyReport): string {
  const { source } = report;
  const lines = [
    `source: ${source.kind} ${source.name}`,
    `chain: height ${report.height}, head ${report.headHash ?? '(none)'}, ${report.transactionCount} transactions`,
    `messages: ${report.messages} (${report.accepted} accepted, ${report.rejected} rejected)`,
  ];
  const seen = Object.entries(report.rejectionsByReason).filter(([, count]) => count > 0);
  if (seen.length > 0) lines.push(`rejected by reason: ${seen.map(([reason, count]) => `${reason} ${count}`).join(', ')}`);
  if (report.rejections.length > 0) {
    lines.push('rejections:');
    for (const rejection of report.rejections) {
      const claims = [
        rejection.claimedIndex === undefined ? undefined : `claimed index ${rejection.claimedIndex}`,
        rejection.claimedMiner === undefined ? undefined : `miner ${rejection.claimedMiner}`,
      ].filter((claim) => claim !== undefined);
      lines.push(
        `  ${source.positionName} ${rejection.position}: ${rejection.reason}${claims.length > 0 ? ` (${claims.join(', ')})` : ''}: ${rejection.detail}`,
      );
    }
  }
  lines.push(
    report.ok
      ? `result: OK, ${report.accepted} of ${report.messages} blocks accepted${report.races > 0 ? `, ${report.races} lost races (stale/fork)` : ''}`
      : `result: FAILED, ${report.rejected - report.races} of ${report.messages} blocks rejected for reasons other than lost races`,
  );
  return `${lines.join('\n')}\n`;
}
