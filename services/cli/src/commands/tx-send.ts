// chainlog tx send: one transaction from flags, or a batch from --file / stdin, through ingest.
import { INGEST_ROUTES } from '@chainlog/core/api';
import type { TransactionInput } from '@chainlog/core/protocol';
import { parseTransactionInput } from '@chainlog/core/protocol';
import { CliError, durationOption, flag, integerOption, optionalString, UsageError, type OptionValues } from '../args.js';
import type { Command, CommandContext } from '../context.js';
import { formatAccepted, plural, type AcceptedView } from '../format.js';
import { parseTransactionsText, readStream } from '../input.js';
import { fetchHead } from '../auditor-api.js';
import { waitUntilCommitted } from '../wait.js';
import { explainSignatureRequired, signForSending } from '../signing.js';
import { keyFileOption, readKeyFile } from './key.js';

/** Ingest's default MAX_BATCH_SIZE is 1000; stay well below it. */
const DEFAULT_BATCH_SIZE = 500;

export const txSend: Command = {
  spec: {
    path: ['tx', 'send'],
    summary: 'send a transaction (flags) or a batch (--file, stdin) to ingest',
    positionals: { min: 0, max: 0 },
    options: {
      from: { type: 'string', value: 'ACCOUNT', description: 'sender account' },
      to: { type: 'string', value: 'ACCOUNT', description: 'receiving account' },
      amount: { type: 'string', value: 'N', description: 'positive integer amount (minor units)' },
      id: { type: 'string', value: 'ID', description: 'transaction id (default: ingest assigns one)' },
      file: { type: 'string', value: 'PATH', description: 'a JSON array or JSON lines of transactions; - for stdin' },
      'batch-size': { type: 'string', value: 'N', description: `transactions per request (default ${DEFAULT_BATCH_SIZE})` },
      key: { type: 'string', value: 'FILE', description: 'sign every transaction with this key (env CHAINLOG_KEY_FILE; chainlog key new creates one)' },
      wait: { type: 'boolean', description: 'wait until every transaction is committed' },
      timeout: { type: 'string', value: 'DURATION', description: 'how long --wait waits (default 60s)' },
    },
    details: [
      'examples:',
      '  chainlog tx send --from alice --to bob --amount 3',
      '  chainlog tx send --key alice.key --from alice --to bob --amount 3     signed (id and timestamp set here)',
      "  echo '[{\"from\":\"alice\",\"to\":\"bob\",\"amount\":1},{\"from\":\"bob\",\"to\":\"carol\",\"amount\":2}]' | chainlog tx send",
      '  chainlog tx send --file transactions.jsonl --wait',
      'Without --from/--to/--amount and --file, transactions are read from stdin when it is not a terminal.',
    ].join('\n'),
  },

  async run(context, options) {
    const { transactions: unsigned, single } = await transactionsToSend(context, options);
    const keyFile = keyFileOption(context, options);
    const transactions = keyFile === undefined ? unsigned : signForSending(unsigned, await readKeyFile(context, keyFile), context.now());
    const batchSize = integerOption(options, 'batch-size', DEFAULT_BATCH_SIZE, { min: 1, max: 10_000 });
    const timeoutMs = durationOption(options, 'timeout', 60_000);
    const wait = flag(options, 'wait');
    // The head before sending: every block after it is searched for the transactions (see wait.ts).
    const fromHeight = wait ? (await fetchHead(context.auditor, context.signal)).height + 1 : 0;
    const accepted = await send(context, transactions, single, batchSize).catch((error: unknown) => {
      throw explainSignatureRequired(error);
    });
    if (!wait) {
      context.out.result(formatAccepted(accepted, context.out.paint), single ? accepted[0] : { transactions: accepted });
      return 0;
    }
    for (const line of formatAccepted(accepted, context.out.paint)) context.out.note(line);
    const outcome = await waitUntilCommitted(context, accepted.map(({ id }) => id), { timeoutMs, fromHeight });
    const committed = accepted.map((item) => ({ ...item, blockIndex: outcome.committed.get(item.id) }));
    const missing = committed.filter((item) => item.blockIndex === undefined);
    const blocks = [...new Set(outcome.committed.values())].sort((a, b) => a - b);
    context.out.result(
      missing.length === 0
        ? `${context.out.paint('green', 'committed')} ${plural(accepted.length, 'transaction')} in ${plural(blocks.length, 'block')} (#${blocks.join(', #')})`
        : `${missing.length} of ${accepted.length} not committed within ${timeoutMs / 1000} s: ${missing.slice(0, 5).map(({ id }) => id).join(', ')}${missing.length > 5 ? ', …' : ''}`,
      { transactions: committed },
    );
    if (missing.length > 0) throw new CliError(`${plural(missing.length, 'transaction')} not committed within ${timeoutMs / 1000} s`);
    return 0;
  },
};

interface ToSend {
  transactions: TransactionInput[];
  /** One transaction from flags: sent as one object, answered as one object. */
  single: boolean;
}

async function transactionsToSend(context: CommandContext, options: OptionValues): Promise<ToSend> {
  const from = optionalString(options, 'from');
  const to = optionalString(options, 'to');
  const amount = optionalString(options, 'amount');
  const id = optionalString(options, 'id');
  const file = optionalString(options, 'file');
  const single = from !== undefined || to !== undefined || amount !== undefined || id !== undefined;
  if (single && file !== undefined) throw new UsageError('give either --from/--to/--amount or --file, not both');
  if (single) {
    if (from === undefined || to === undefined || amount === undefined) {
      throw new UsageError('a transaction needs --from, --to and --amount');
    }
    if (!/^\d+$/.test(amount)) throw new UsageError(`--amount must be a positive integer, got "${amount}"`);
    const candidate = { from, to, amount: Number(amount), ...(id === undefined ? {} : { id }) };
    const parsed = parseTransactionInput(candidate);
    if (!parsed.ok) {
      const field = parsed.error.field.replace(/^\$\.?/, '');
      throw new UsageError(`--${field || 'transaction'} ${parsed.error.problem}`);
    }
    return { transactions: [parsed.value], single: true };
  }
  if (file !== undefined && file !== '-') {
    let text: string;
    try {
      text = await context.readFile(file);
    } catch (error) {
      throw new CliError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
    return { transactions: parseTransactionsText(text, file), single: false };
  }
  if (file === undefined && context.stdin.isTTY === true) {
    throw new UsageError('nothing to send: give --from, --to and --amount, or --file, or pipe transactions into stdin');
  }
  return { transactions: parseTransactionsText(await readStream(context.stdin), 'stdin'), single: false };
}

async function send(context: CommandContext, transactions: TransactionInput[], single: boolean, batchSize: number): Promise<AcceptedView[]> {
  if (single) {
    const { body } = await context.ingest.post(INGEST_ROUTES.transactions, transactions[0], { signal: context.signal });
    return [acceptedItem(body)];
  }
  const accepted: AcceptedView[] = [];
  for (let start = 0; start < transactions.length; start += batchSize) {
    if (context.signal.aborted) throw new CliError(`interrupted after sending ${accepted.length} of ${transactions.length}`);
    const chunk = transactions.slice(start, start + batchSize);
    const { body } = await context.ingest.post(INGEST_ROUTES.transactions, chunk, { signal: context.signal });
    const items = (body as { transactions?: unknown }).transactions;
    if (!Array.isArray(items) || items.length !== chunk.length) {
      throw new CliError('ingest answered a batch with something other than one entry per transaction');
    }
    accepted.push(...items.map(acceptedItem));
    context.out.progress(`sent ${accepted.length}/${transactions.length}`, accepted.length === transactions.length);
  }
  context.out.clearProgress();
  return accepted;
}

function acceptedItem(value: unknown): AcceptedView {
  const item = value as Partial<AcceptedView> | undefined;
  if (typeof item?.id !== 'string' || typeof item.partition !== 'number' || typeof item.offset !== 'number') {
    throw new CliError('ingest accepted the transaction but its answer is not in the expected form');
  }
  return { id: item.id, partition: item.partition, offset: item.offset, ...(typeof item.statusUrl === 'string' ? { statusUrl: item.statusUrl } : {}) };
}
