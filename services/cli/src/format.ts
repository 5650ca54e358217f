// Human output: pure functions from API values to lines of text (colours through a Paint function).
import type { HeadView, TransactionStatusView } from '@chainlog/core/api';
import type { Block, Transaction } from '@chainlog/core/protocol';
import type { Paint } from './output.js';

export const plain: Paint = (_colour, text) => text;

export function shortHash(hash: string | null | undefined, length = 12): string {
  if (hash === null || hash === undefined) return '-';
  return hash.length <= length ? hash : `${hash.slice(0, length)}…`;
}

/** Milliseconds since the epoch as `YYYY-MM-DD HH:MM:SS.mmmZ` (UTC, so output never depends on the host). */
export function formatTimestamp(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '-';
  // Ingest accepts any safe-integer timestamp; JavaScript dates end at ±8.64e15 ms (year ±275760).
  const date = new Date(ms);
  if (Number.isNaN(date.getTime())) return `${ms} ms (beyond the date range)`;
  return date.toISOString().replace('T', ' ');
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.round((ms % 60_000) / 1000);
  return `${minutes} min ${seconds} s`;
}

export function plural(count: number, singular: string, pluralForm = `${singular}s`): string {
  return `${count} ${count === 1 ? singular : pluralForm}`;
}

// ---- tx send ----

export interface AcceptedView {
  id: string;
  partition: number;
  offset: number;
  statusUrl?: string;
}

export function formatAccepted(accepted: readonly AcceptedView[], paint: Paint = plain): string[] {
  if (accepted.length === 1) {
    const [only] = accepted as [AcceptedView];
    return [
      `${paint('green', 'accepted')} ${paint('bold', only.id)} → transactions partition ${only.partition}, offset ${only.offset}`,
      paint('dim', `  check it: chainlog tx status ${only.id} --proof`),
    ];
  }
  const byPartition = new Map<number, number>();
  for (const { partition } of accepted) byPartition.set(partition, (byPartition.get(partition) ?? 0) + 1);
  const spread = [...byPartition]
    .sort(([a], [b]) => a - b)
    .map(([partition, count]) => `partition ${partition}: ${count}`)
    .join(', ');
  const width = Math.max(...accepted.map(({ id }) => id.length));
  return [
    `${paint('green', 'accepted')} ${plural(accepted.length, 'transaction')} (${spread})`,
    ...accepted.map(({ id, partition, offset }) => `  ${id.padEnd(width)}  p${partition}@${offset}`),
  ];
}

// ---- tx status ----

/** One check of a local proof verification; all must pass for "verified". */
export interface ProofCheck {
  name: string;
  ok: boolean;
  detail: string;
}

export interface ProofVerification {
  verified: boolean;
  checks: ProofCheck[];
}

export function formatTransaction(transaction: Transaction): string {
  return `${transaction.from} → ${transaction.to}  ${transaction.amount}`;
}

export function formatStatus(view: TransactionStatusView, verification: ProofVerification | undefined, paint: Paint = plain): string[] {
  switch (view.status) {
    case 'pending':
      return [
        `${paint('bold', view.transactionId)}  ${paint('yellow', 'pending')}  (transactions partition ${view.partition}, offset ${view.offset}` +
          `${view.enqueuedAt ? `, since ${view.enqueuedAt}` : ''})`,
      ];
    case 'dropped':
      return [
        view.reason === undefined
          ? `${paint('bold', view.transactionId)}  ${paint('red', 'dropped')}  (transactions partition ${view.partition}, offset ${view.offset}; ` +
            'a miner set it aside as invalid, see the auditor)'
          : `${paint('bold', view.transactionId)}  ${paint('red', `refused: ${view.reason}`)}  (transactions partition ${view.partition}, ` +
            `offset ${view.offset}; the block that consumed it names the reason)`,
      ];
    case 'committed': {
      const lines = [
        `${paint('bold', view.transactionId)}  ${paint('green', 'committed')} in block #${view.blockIndex} (${shortHash(view.blockHash, 16)}), ` +
          `position ${view.position}, ${plural(view.confirmations, 'confirmation')}`,
        `  ${formatTransaction(view.transaction)}  at ${formatTimestamp(view.transaction.timestamp)}`,
      ];
      if (verification !== undefined) {
        lines.push(
          `  inclusion proof: leaf ${view.proof.leafIndex} of ${view.proof.treeSize}, ${plural(view.proof.path.length, 'sibling hash', 'sibling hashes')}, ` +
            `merkle root ${shortHash(view.merkleRoot, 16)}`,
        );
        for (const check of verification.checks) {
          lines.push(`    ${check.ok ? paint('green', '✓') : paint('red', '✗')} ${check.detail}`);
        }
        lines.push(verification.verified ? `  ${paint('green', 'verified')}` : `  ${paint('red', 'NOT verified')}`);
      }
      return lines;
    }
  }
}

// ---- chain head / tail ----

export function formatHead(head: HeadView, paint: Paint = plain): string[] {
  if (head.height < 0 || head.hash === null) return ['the chain is empty (no genesis block yet: are the miners running?)'];
  return [
    `height       ${paint('bold', String(head.height))}`,
    `hash         ${head.hash}`,
    `timestamp    ${formatTimestamp(head.timestamp)}`,
    `offset       ${head.offset ?? '-'} (blockchain topic)`,
    `transactions ${head.transactionCount} committed (coinbases included)`,
  ];
}

/** A block as the list endpoint and the tail show it: a summary, or a full block. */
export interface BlockLineView {
  index: number;
  hash: string;
  timestamp: number;
  miner?: string;
  difficulty?: number;
  transactionCount?: number;
  transactions?: readonly Transaction[];
  offset?: number;
}

export function formatBlockLine(block: BlockLineView, paint: Paint = plain): string {
  const count = block.transactions?.length ?? block.transactionCount;
  const userCount = count === undefined ? undefined : block.index === 0 ? count : Math.max(0, count - 1);
  return [
    paint('bold', `#${String(block.index).padEnd(5)}`),
    paint('cyan', shortHash(block.hash, 16)),
    formatTimestamp(block.timestamp),
    paint('magenta', (block.miner ?? '?').padEnd(10)),
    userCount === undefined ? '' : `${plural(userCount, 'tx', 'txs')}${block.index === 0 ? ' (genesis)' : ' + coinbase'}`,
    block.difficulty === undefined ? '' : paint('dim', `difficulty ${block.difficulty}`),
  ]
    .filter((part) => part !== '')
    .join('  ');
}

/** A block with its transactions listed under it. */
export function formatBlock(block: Block, paint: Paint = plain): string[] {
  return [
    formatBlockLine(block, paint),
    ...block.transactions.map((transaction, position) =>
      paint(position === 0 && block.index > 0 ? 'dim' : 'gray', `        ${String(position).padStart(3)}  ${transaction.id}  ${formatTransaction(transaction)}`),
    ),
  ];
}

// ---- demo ----

export interface DemoProgress {
  sent: number;
  total: number;
  committed: number;
  blocks: number;
  elapsedMs: number;
}

export function formatDemoProgress(progress: DemoProgress): string {
  return (
    `demo: sent ${progress.sent}/${progress.total}, committed ${progress.committed}/${progress.total}, ` +
    `${plural(progress.blocks, 'new block')}, ${formatDuration(progress.elapsedMs)}`
  );
}
