/**
 * A transaction by id: its status, and for a committed one the RFC 6962 inclusion proof checked here
 * against the Merkle root of its block, whose header is checked too. A pending or unknown transaction is
 * looked up again as the live head moves, so the page turns to committed by itself.
 */
import type { InclusionProof, Transaction } from '@chainlog/core/protocol';
import { useState } from 'preact/hooks';
import { api, type TransactionStatusView, type UnknownTransaction } from '../api.js';
import { AccountLink, BlockLink, ErrorMessage, Field, Hash, Loaded, PageTitle, Time, Verification } from '../components.js';
import { amount, count, isoTime } from '../format.js';
import { useLive } from '../live.js';
import { useAsync, type Async } from '../use-async.js';
import type { CommittedTransaction } from '../verify/checks.js';
import { loadChecks, type Check } from '../verify/outcome.js';

type Status = TransactionStatusView | UnknownTransaction;
type Committed = Extract<TransactionStatusView, { status: 'committed' }>;

export function TransactionPage({ id }: { id: string }) {
  const { view } = useLive();
  const [settled, setSettled] = useState(false);
  const data = useAsync(
    async (signal) => {
      const status = await api.transaction(id, signal);
      setSettled(status.status === 'committed');
      return status;
    },
    [id],
    settled ? undefined : view?.at,
  );
  return (
    <>
      <PageTitle text={`Transaction ${id}`}>
        Transaction <span class="id">{id}</span>
      </PageTitle>
      <Loaded data={data} what="the transaction">
        {(status) => <StatusView status={status} />}
      </Loaded>
    </>
  );
}

function StatusView({ status }: { status: Status }) {
  switch (status.status) {
    case 'committed':
      return <CommittedView status={status} />;
    case 'pending':
      return (
        <>
          <p class="status pending" data-status="pending">
            <strong>Pending</strong>: read from partition {status.partition} at offset {count(status.offset)}, not in a block yet. This page
            updates when it is mined.
          </p>
          <dl class="fields">
            <Field name="Enqueued">
              {status.enqueuedAt === null ? (
                'unknown (its record timestamp is outside the dates JavaScript can show)'
              ) : (
                <>
                  <Time ms={Date.parse(status.enqueuedAt)} /> <span class="muted">({status.enqueuedAt})</span>
                </>
              )}
            </Field>
          </dl>
        </>
      );
    case 'dropped':
      return (
        <p class="status failed" data-status="dropped">
          <strong>Not committed</strong>: a block consumed its message (partition {status.partition}, offset {count(status.offset)}) without
          including it: its id was already used, or the miner refused it.
        </p>
      );
    case 'unknown':
      return (
        <p class="status unknown" data-status="unknown" role="status">
          <strong>Unknown transaction</strong>: no committed or pending transaction has the id <span class="id">{status.transactionId}</span>.
          A transaction just sent shows up here within seconds; this page keeps looking.
        </p>
      );
    default: {
      // A status this explorer does not know yet (e.g. refused, with a reason): show what the auditor says.
      const other = status as { status: string; reason?: string };
      return (
        <p class="status failed" data-status={other.status}>
          <strong>{other.status}</strong>
          {other.reason === undefined ? '' : `: ${other.reason}`}
        </p>
      );
    }
  }
}

function CommittedView({ status }: { status: Committed }) {
  const checks = useVerification(status, status.blockIndex);
  const { transaction, proof } = status;
  return (
    <>
      <p class="status committed" data-status="committed">
        <strong>Committed</strong> in block <BlockLink index={status.blockIndex} /> at leaf {status.position}, {count(status.confirmations)}{' '}
        confirmation{status.confirmations === 1 ? '' : 's'}.
      </p>
      <Verification checks={checks} label="the inclusion proof" />
      <TransactionFields transaction={transaction} />
      <section aria-labelledby="proof-title">
        <h2 id="proof-title">Inclusion proof (RFC 6962)</h2>
        <dl class="fields">
          <Field name="Leaf index">
            {proof.leafIndex} of {proof.treeSize}
          </Field>
          <Field name="Merkle root">
            <Hash value={status.merkleRoot} full />
          </Field>
          <Field name="Block hash">
            <Hash value={status.blockHash} full />
          </Field>
          <Field name="Audit path">
            {proof.path.length === 0 ? (
              'empty (the block has one transaction)'
            ) : (
              <ol class="path">
                {proof.path.map((sibling, level) => (
                  <li key={level}>
                    <Hash value={sibling} full />
                  </li>
                ))}
              </ol>
            )}
          </Field>
        </dl>
      </section>
      <ProofChecker status={status} />
    </>
  );
}

function TransactionFields({ transaction }: { transaction: Transaction }) {
  return (
    <section aria-labelledby="fields-title">
      <h2 id="fields-title">Transaction</h2>
      <dl class="fields">
        <Field name="From">
          <AccountLink id={transaction.from} />
        </Field>
        <Field name="To">
          <AccountLink id={transaction.to} />
        </Field>
        <Field name="Amount">{amount(transaction.amount)}</Field>
        <Field name="Timestamp">
          <Time ms={transaction.timestamp} /> <span class="muted">({isoTime(transaction.timestamp)})</span>
        </Field>
        {transaction.publicKey !== undefined && (
          <Field name="Signed by">
            <Hash value={transaction.publicKey} full />
          </Field>
        )}
      </dl>
    </section>
  );
}

/** The committed transaction against the header of its block, fetched apart (no transactions in it). */
function useVerification(committed: CommittedTransaction, blockIndex: number): Async<Check[]> {
  return useAsync(
    async (signal) => {
      const [{ checkTransaction }, { header }] = await Promise.all([loadChecks(), api.header(blockIndex, signal)]);
      return checkTransaction(committed, header);
    },
    [JSON.stringify(committed), blockIndex],
  );
}

/** Paste or edit a proof (e.g. from `chainlog tx status --proof --json`) and check it against the chain. */
function ProofChecker({ status }: { status: Committed }) {
  const initial = JSON.stringify(
    { blockIndex: status.blockIndex, blockHash: status.blockHash, merkleRoot: status.merkleRoot, transaction: status.transaction, proof: status.proof },
    null,
    2,
  );
  const [text, setText] = useState(initial);
  const [submitted, setSubmitted] = useState<{ proof: CommittedTransaction & { blockIndex: number } } | { error: Error } | undefined>(undefined);
  const submit = (event: Event): void => {
    event.preventDefault();
    try {
      setSubmitted({ proof: parseProof(text) });
    } catch (error) {
      setSubmitted({ error: error as Error });
    }
  };
  return (
    <section aria-labelledby="checker-title">
      <h2 id="checker-title">Check a proof yourself</h2>
      <form onSubmit={submit} class="checker">
        <label for="proof-json">Proof as JSON (edit it, or paste the output of chainlog tx status --proof --json)</label>
        <textarea id="proof-json" rows={12} spellcheck={false} value={text} onInput={(event) => setText((event.target as HTMLTextAreaElement).value)} />
        <div class="buttons">
          <button type="submit">Verify this proof</button>
          <button type="button" onClick={() => (setText(initial), setSubmitted(undefined))}>
            Reset
          </button>
        </div>
      </form>
      {submitted !== undefined && ('error' in submitted ? <ErrorMessage error={submitted.error} /> : <SubmittedProof proof={submitted.proof} />)}
    </section>
  );
}

function SubmittedProof({ proof }: { proof: CommittedTransaction & { blockIndex: number } }) {
  const checks = useVerification(proof, proof.blockIndex);
  return (
    <div data-testid="submitted-proof">
      <Verification checks={checks} label="the submitted proof" />
    </div>
  );
}

function parseProof(text: string): CommittedTransaction & { blockIndex: number } {
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(text) as Record<string, unknown>;
  } catch (error) {
    throw new Error(`not JSON: ${(error as Error).message}`);
  }
  const proof = value.proof as InclusionProof | undefined;
  const blockIndex = value.blockIndex;
  if (typeof value !== 'object' || value === null) throw new Error('the proof must be a JSON object');
  if (typeof blockIndex !== 'number' || !Number.isSafeInteger(blockIndex) || blockIndex < 0) throw new Error('blockIndex must be a block height');
  if (typeof value.transaction !== 'object' || value.transaction === null) throw new Error('transaction must be the transaction object');
  if (typeof proof !== 'object' || proof === null || !Array.isArray(proof.path)) throw new Error('proof must have leafIndex, treeSize and path');
  if (typeof value.merkleRoot !== 'string' || typeof value.blockHash !== 'string') throw new Error('merkleRoot and blockHash must be hashes');
  return {
    blockIndex,
    transaction: value.transaction as Transaction,
    proof,
    merkleRoot: value.merkleRoot,
    blockHash: value.blockHash,
  };
}
