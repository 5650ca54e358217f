// chainlog chain tail [-f]: the last blocks, and with -f every new one as it is mined. From the auditor's
// /v1/blocks (default), or straight from the blockchain topic with --kafka (the protocol's ChainFollower:
// every message is validated here, and rejected ones are shown with their reason).
import { type BlockRejection, ChainFollower, createKafka } from '@chainlog/core/kafka';
import { kafkaSettings } from './chain-verify.js';
import { createLogger } from '@chainlog/core/logging';
import { type Block, Chain, type ConsensusParams } from '@chainlog/core/protocol';
import { flag, integerOption, durationOption, optionalString, CliError } from '../args.js';
import { fetchBlock, fetchBlocks, fetchHead } from '../auditor-api.js';
import type { Command, CommandContext } from '../context.js';
import { consensusParams, CONSENSUS_OPTIONS, transactionsTopic } from '../consensus.js';
import { formatBlock, formatBlockLine, type BlockLineView } from '../format.js';

const PAGE = 100;

export const chainTail: Command = {
  spec: {
    path: ['chain', 'tail'],
    summary: 'show the last blocks; -f follows new blocks as they are mined',
    positionals: { min: 0, max: 0 },
    options: {
      follow: { type: 'boolean', short: 'f', description: 'keep printing new blocks until Ctrl-C' },
      lines: { type: 'string', short: 'n', value: 'N', description: 'how many of the last blocks to show first (default 10)' },
      transactions: { type: 'boolean', short: 't', description: 'list each block\'s transactions' },
      kafka: { type: 'boolean', description: 'read the blockchain topic directly (--brokers) instead of the auditor' },
      topic: { type: 'string', value: 'NAME', description: 'blockchain topic with --kafka (default blockchain)' },
      ...CONSENSUS_OPTIONS,
      interval: { type: 'string', value: 'DURATION', description: 'how often -f asks the auditor (default 1s)' },
    },
    details: 'With --kafka every block is judged here with the consensus settings the services read (environment, --config file; the flags override them).\nexamples:\n  chainlog chain tail -f\n  chainlog chain tail -n 3 -t --kafka --brokers localhost:9092',
  },

  async run(context, options) {
    const lines = integerOption(options, 'lines', 10, { min: 0, max: 1_000_000 });
    const follow = flag(options, 'follow');
    const withTransactions = flag(options, 'transactions');
    if (flag(options, 'kafka')) {
      return tailFromKafka(context, {
        lines,
        follow,
        withTransactions,
        topic: optionalString(options, 'topic') ?? 'blockchain',
        consensus: consensusParams(context.globals.consensusEnv, options),
      });
    }
    const intervalMs = durationOption(options, 'interval', 1000);
    const head = await fetchHead(context.auditor, context.signal);
    let next = Math.max(0, head.height - lines + 1);
    const show = async (until: number): Promise<void> => {
      while (next <= until && !context.signal.aborted) {
        if (withTransactions) {
          const block = await fetchBlock(context.auditor, next, context.signal);
          if (block === undefined) return;
          printBlock(context, block, true);
          next += 1;
        } else {
          const page = await fetchBlocks(context.auditor, next, Math.min(PAGE, until - next + 1), context.signal);
          if (page.blocks.length === 0) return;
          for (const block of page.blocks) printBlock(context, block, false);
          next = (page.blocks.at(-1)?.index ?? next) + 1;
        }
      }
    };
    await show(head.height);
    if (head.height < 0 && !follow) context.out.note('the chain is empty');
    // Following survives the auditor going away for a while (a restart, a redeploy): it says so and retries.
    let unreachableSince: number | undefined;
    while (follow && !context.signal.aborted) {
      await context.sleep(intervalMs);
      if (context.signal.aborted) break;
      try {
        const current = await fetchHead(context.auditor, context.signal);
        await show(current.height);
        if (unreachableSince !== undefined) context.out.note('the auditor answers again');
        unreachableSince = undefined;
      } catch (error) {
        if (!(error instanceof CliError) || context.signal.aborted) throw error;
        if (unreachableSince === undefined) context.out.note(`${error.message}; retrying every ${intervalMs / 1000} s (Ctrl-C to stop)`);
        unreachableSince ??= context.now();
      }
    }
    return 0;
  },
};

function printBlock(context: CommandContext, block: BlockLineView | Block, full: boolean): void {
  const paint = context.out.paint;
  if (full && 'transactions' in block && block.transactions !== undefined && 'merkleRoot' in block) {
    context.out.item(formatBlock(block as Block, paint).join('\n'), block);
  } else {
    context.out.item(formatBlockLine(block, paint), block);
  }
}

interface KafkaTail {
  lines: number;
  follow: boolean;
  withTransactions: boolean;
  topic: string;
  consensus: ConsensusParams;
}

async function tailFromKafka(context: CommandContext, tail: KafkaTail): Promise<number> {
  const logger = createLogger('cli', 'silent');
  // The services' Kafka settings (TLS, SASL) with the CLI's bounds: a Kafka that does not answer fails fast.
  const settings = kafkaSettings(context, 'chainlog-cli');
  const kafka = createKafka({ ...settings, connectionTimeoutMs: Math.min(settings.connectionTimeoutMs, 3000), requestTimeoutMs: Math.min(settings.requestTimeoutMs, 10_000) }, logger, 2);
  const chain = new Chain(tail.consensus);
  // Until caught up, only the last `lines` blocks are kept; after that every event is printed at once.
  let live = false;
  const recent: Array<{ block?: Block; rejection?: BlockRejection }> = [];
  const emit = (event: { block?: Block; rejection?: BlockRejection }): void => {
    if (event.block !== undefined) printBlock(context, event.block, tail.withTransactions);
    else if (event.rejection !== undefined) {
      const { offset, reason, detail, claimedIndex } = event.rejection;
      context.out.item(
        context.out.paint('red', `rejected message at offset ${offset}${claimedIndex === undefined ? '' : ` (claims #${claimedIndex})`}: ${reason}: ${detail}`),
        { rejected: event.rejection },
      );
    }
  };
  const push = (event: { block?: Block; rejection?: BlockRejection }): void => {
    if (live) return emit(event);
    recent.push(event);
    if (recent.length > tail.lines) recent.shift();
  };
  const follower = new ChainFollower({
    kafka,
    topic: tail.topic,
    transactionsTopic: transactionsTopic(context.env),
    chain,
    logger,
    groupIdPrefix: 'chainlog-cli-tail',
    onAccepted: (block) => push({ block }),
    onRejected: (rejection) => push({ rejection }),
  });
  try {
    try {
      await follower.start();
      await follower.catchUp(60_000);
    } catch (error) {
      throw new CliError(`cannot read ${tail.topic} from Kafka at ${context.globals.brokers.join(',')}: ${(error as Error).message}`);
    }
    live = true;
    for (const event of recent.splice(0)) emit(event);
    if (chain.height < 0 && !tail.follow) context.out.note(`${tail.topic} has no blocks`);
    if (tail.follow) {
      await new Promise<void>((resolve) => {
        if (context.signal.aborted) resolve();
        context.signal.addEventListener('abort', () => resolve(), { once: true });
      });
    }
  } finally {
    await follower.stop().catch(() => undefined);
  }
  if (follower.failure !== undefined) throw new CliError(`reading ${tail.topic} failed: ${follower.failure.message}`);
  return 0;
}
