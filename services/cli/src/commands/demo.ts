// chainlog demo: sends a stream of sample transactions through ingest and shows the blocks that commit
// them as the miners publish them, until every one is committed.
import { randomBytes } from 'node:crypto';
import { INGEST_ROUTES } from '@chainlog/core/api';
import type { TransactionInput } from '@chainlog/core/protocol';
import { CliError, durationOption, integerOption, numberOption, optionalString } from '../args.js';
import { fetchHead } from '../auditor-api.js';
import { abortableSleep, type Command } from '../context.js';
import { formatBlockLine, formatDemoProgress, formatDuration, plural } from '../format.js';
import { waitUntilCommitted } from '../wait.js';
import { explainSignatureRequired, signForSending } from '../signing.js';
import { DEFAULT_ACCOUNTS } from '../sample-accounts.js';
import { keyFileOption, readKeyFile } from './key.js';

/** Deterministic sample transactions: a ring of payments between the accounts, ids unique to this run. */
export function sampleTransactions(count: number, accounts: readonly string[], runId: string): TransactionInput[] {
  return Array.from({ length: count }, (_, i) => {
    const from = accounts[i % accounts.length] as string;
    const to = accounts[(i + 1 + Math.floor(i / accounts.length)) % accounts.length] as string;
    return { id: `demo-${runId}-${i + 1}`, from, to: to === from ? (accounts[(i + 2) % accounts.length] as string) : to, amount: (i % 9) + 1 };
  });
}

export const demo: Command = {
  spec: {
    path: ['demo'],
    summary: 'send a stream of sample transactions and watch them being mined',
    positionals: { min: 0, max: 0 },
    options: {
      count: { type: 'string', value: 'N', description: 'transactions to send (default 20)' },
      rate: { type: 'string', value: 'PER_SECOND', description: 'transactions per second (default 5)' },
      accounts: { type: 'string', value: 'A,B,...', description: `accounts to pay between (default ${DEFAULT_ACCOUNTS.join(',')})` },
      timeout: { type: 'string', value: 'DURATION', description: 'give up when not all are committed by then (default 2m)' },
      key: { type: 'string', value: 'FILE', description: 'sign every transaction with this key (env CHAINLOG_KEY_FILE)' },
    },
  },

  async run(context, options) {
    const count = integerOption(options, 'count', 20, { min: 1, max: 100_000 });
    const rate = numberOption(options, 'rate', 5, { min: 0.1, max: 10_000 });
    const timeoutMs = durationOption(options, 'timeout', 120_000);
    const accounts = (optionalString(options, 'accounts') ?? DEFAULT_ACCOUNTS.join(','))
      .split(',')
      .map((account) => account.trim())
      .filter((account) => account !== '');
    if (accounts.length < 2) throw new CliError('--accounts needs at least two accounts', 2);

    const { out } = context;
    const started = context.now();
    const head = await fetchHead(context.auditor, context.signal);
    const keyFile = keyFileOption(context, options);
    const signer = keyFile === undefined ? undefined : await readKeyFile(context, keyFile);
    const samples = sampleTransactions(count, accounts, randomBytes(3).toString('hex'));
    const transactions = signer === undefined ? samples : signForSending(samples, signer, context.now());
    out.note(
      `demo: ${plural(count, 'transaction')} at ${rate}/s between ${accounts.join(', ')}; chain height ${head.height}; ` +
        `ingest ${context.ingest.baseUrl}, auditor ${context.auditor.baseUrl}`,
    );

    let sent = 0;
    let committedCount = 0;
    let blocks = 0;
    const progress = (): void =>
      out.progress(formatDemoProgress({ sent, total: count, committed: committedCount, blocks, elapsedMs: context.now() - started }));

    // Either half failing (ingest or auditor unreachable) stops the other.
    const stop = new AbortController();
    const signal = AbortSignal.any([context.signal, stop.signal]);
    const inner = { ...context, signal, sleep: abortableSleep(signal) };
    const sender = (async () => {
      const burst = Math.max(1, Math.ceil(rate / 10));
      for (let i = 0; i < transactions.length && !signal.aborted; i += burst) {
        const chunk = transactions.slice(i, i + burst);
        await context.ingest.post(INGEST_ROUTES.transactions, chunk, { signal }).catch((error: unknown) => {
          throw explainSignatureRequired(error);
        });
        sent += chunk.length;
        progress();
        await inner.sleep((chunk.length / rate) * 1000);
      }
    })();
    const outcome = waitUntilCommitted(
      inner,
      transactions.map(({ id }) => id as string),
      {
        timeoutMs,
        fromHeight: head.height + 1,
        onBlock: (block, found) => {
          blocks += 1;
          out.note(`${formatBlockLine(block, out.paint)}  ${found > 0 ? out.paint('green', `${found} from the demo`) : ''}`);
        },
        onProgress: (committed) => {
          committedCount = committed;
          progress();
        },
      },
    );
    sender.catch(() => stop.abort());
    outcome.catch(() => stop.abort());
    const [sending, waiting] = await Promise.allSettled([sender, outcome]);
    if (sending.status === 'rejected') throw sending.reason;
    if (waiting.status === 'rejected') throw waiting.reason;
    const result = waiting.value;
    const elapsedMs = context.now() - started;
    const blockIndexes = [...new Set(result.committed.values())].sort((a, b) => a - b);
    const summary = {
      sent,
      committed: result.committed.size,
      notCommitted: [...result.notCommitted.keys()],
      blocks: blockIndexes,
      elapsedMs,
    };
    out.result(
      result.committed.size === count
        ? `${out.paint('green', 'done')}: ${plural(count, 'transaction')} committed in ${plural(blockIndexes.length, 'block')} in ${formatDuration(elapsedMs)}; ` +
            `check one: chainlog tx status ${transactions[0]?.id ?? ''} --proof`
        : `${result.committed.size} of ${count} committed in ${formatDuration(elapsedMs)}`,
      summary,
    );
    if (context.signal.aborted) return 130;
    if (result.committed.size < count) throw new CliError(`${count - result.committed.size} of ${count} transactions not committed within ${formatDuration(timeoutMs)}`);
    return 0;
  },
};
