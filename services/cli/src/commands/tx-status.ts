// chainlog tx status <id> [--proof]: the auditor's view of a transaction; with --proof the inclusion proof
// is verified here, with @chainlog/core, against the block's Merkle root and the block's own hash.
import { CliError, durationOption, flag } from '../args.js';
import { fetchBlock, fetchStatus, fetchStatusWhileWaiting } from '../auditor-api.js';
import type { Command } from '../context.js';
import type { TransactionStatusView } from '@chainlog/core/api';
import { formatStatus, type ProofVerification } from '../format.js';
import { verifyCommitted } from '../proof.js';

export const txStatus: Command = {
  spec: {
    path: ['tx', 'status'],
    summary: 'show a transaction: pending or committed (--proof verifies its inclusion proof locally)',
    args: '<id>',
    positionals: { min: 1, max: 1 },
    options: {
      proof: { type: 'boolean', description: 'fetch the inclusion proof and the block, and verify them here' },
      wait: { type: 'boolean', description: 'wait until the transaction is committed' },
      timeout: { type: 'string', value: 'DURATION', description: 'how long --wait waits (default 60s)' },
    },
    details: 'Exit code 1 when the transaction is unknown, not committed within --timeout (with --wait), or its proof does not verify.',
  },

  async run(context, options, [id]) {
    const transactionId = id as string;
    const wait = flag(options, 'wait');
    const timeoutMs = durationOption(options, 'timeout', 60_000);
    const deadline = context.now() + timeoutMs;
    let status: TransactionStatusView | undefined;
    for (;;) {
      // Waiting, an auditor that cannot decide yet (a retryable 503) is asked again like one that has not seen it.
      status = await (wait ? fetchStatusWhileWaiting : fetchStatus)(context.auditor, transactionId, context.signal);
      if (!wait || status?.status === 'committed' || status?.status === 'dropped') break;
      if (context.now() >= deadline || context.signal.aborted) {
        throw new CliError(`transaction ${transactionId} is ${status?.status ?? 'unknown to the auditor'} after waiting ${timeoutMs / 1000} s`);
      }
      context.out.progress(`waiting for ${transactionId}: ${status?.status ?? 'not seen yet'}`);
      await context.sleep(250);
    }
    if (status === undefined) {
      throw new CliError(`transaction ${transactionId} is unknown to the auditor (no block has it and no record on the transactions topic when asked)`);
    }
    let verification: ProofVerification | undefined;
    if (flag(options, 'proof') && status.status === 'committed') {
      const block = await fetchBlock(context.auditor, status.blockIndex, context.signal);
      if (block === undefined) throw new CliError(`the auditor names block #${status.blockIndex} but does not serve it`);
      verification = verifyCommitted(transactionId, status, block);
    }
    context.out.result(formatStatus(status, verification, context.out.paint), verification === undefined ? status : { ...status, verification });
    if (status.status === 'dropped' && wait) return 1;
    if (verification !== undefined && !verification.verified) {
      throw new CliError(`the inclusion proof of ${transactionId} does NOT verify: ${verification.checks.find((check) => !check.ok)?.detail ?? ''}`);
    }
    if (flag(options, 'proof') && status.status !== 'committed' && wait) return 1;
    return 0;
  },
};
