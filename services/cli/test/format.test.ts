import { describe, expect, it } from 'vitest';
import {
  formatAccepted,
  formatBlock,
  formatBlockLine,
  formatDuration,
  formatHead,
  formatStatus,
  formatTimestamp,
  shortHash,
} from '../src/format.js';
import { Output, painter } from '../src/output.js';
import { verifyCommitted } from '../src/proof.js';
import { committedView, testBlock } from './fixtures.js';

function sink(isTTY = false): { write: (chunk: string) => void; text: () => string; isTTY: boolean } {
  let text = '';
  return { write: (chunk) => void (text += chunk), text: () => text, isTTY };
}

describe('human output', () => {
  it('formats times, durations and hashes the same on every host', () => {
    expect(formatTimestamp(0)).toBe('1970-01-01 00:00:00.000Z');
    expect(formatTimestamp(null)).toBe('-');
    // Ingest accepts any safe integer; the largest is beyond JavaScript's date range and must not throw.
    expect(formatTimestamp(Number.MAX_SAFE_INTEGER)).toBe('9007199254740991 ms (beyond the date range)');
    expect(formatTimestamp(8.64e15)).toBe('+275760-09-13 00:00:00.000Z');
    expect(formatDuration(250)).toBe('250 ms');
    expect(formatDuration(3456)).toBe('3.5 s');
    expect(formatDuration(125_000)).toBe('2 min 5 s');
    expect(shortHash('a'.repeat(64))).toBe(`${'a'.repeat(12)}…`);
    expect(shortHash(null)).toBe('-');
  });

  it('shows one accepted transaction with the command to check it, and a batch per partition', () => {
    expect(formatAccepted([{ id: 'tx-1', partition: 1, offset: 7 }])).toEqual([
      'accepted tx-1 → transactions partition 1, offset 7',
      '  check it: chainlog tx status tx-1 --proof',
    ]);
    expect(
      formatAccepted([
        { id: 'a', partition: 0, offset: 1 },
        { id: 'bb', partition: 1, offset: 4 },
        { id: 'c', partition: 0, offset: 2 },
      ]),
    ).toEqual(['accepted 3 transactions (partition 0: 2, partition 1: 1)', '  a   p0@1', '  bb  p1@4', '  c   p0@2']);
  });

  it('shows a committed transaction with each proof check and the verdict', () => {
    const block = testBlock();
    const view = committedView(block, 'tx-2');
    const lines = formatStatus(view, verifyCommitted('tx-2', view, block));
    expect(lines[0]).toBe(`tx-2  committed in block #1 (${block.hash.slice(0, 16)}…), position 2, 1 confirmation`);
    expect(lines[1]).toBe('  bob → carol  2  at 2023-11-14 22:13:20.001Z');
    expect(lines[2]).toBe(`  inclusion proof: leaf 2 of 4, 2 sibling hashes, merkle root ${block.merkleRoot.slice(0, 16)}…`);
    expect(lines.filter((line) => line.includes('✓'))).toHaveLength(5);
    expect(lines.at(-1)).toBe('  verified');
    expect(formatStatus(view, undefined)).toHaveLength(2);
  });

  it('shows pending and dropped transactions', () => {
    expect(formatStatus({ status: 'pending', transactionId: 'x', partition: 1, offset: 9, enqueuedAt: '2025-01-01T00:00:00Z' }, undefined)).toEqual([
      'x  pending  (transactions partition 1, offset 9, since 2025-01-01T00:00:00Z)',
    ]);
    expect(formatStatus({ status: 'dropped', transactionId: 'x', partition: 0, offset: 2 }, undefined)[0]).toMatch(/^x {2}dropped/);
    expect(formatStatus({ status: 'dropped', transactionId: 'x', partition: 0, offset: 2, reason: 'insufficient-funds' }, undefined)[0]).toMatch(
      /^x {2}refused: insufficient-funds {2}\(transactions partition 0, offset 2;/,
    );
  });

  it('shows the head, or says the chain is empty', () => {
    expect(formatHead({ height: -1, hash: null, timestamp: null, offset: null, transactionCount: 0 })[0]).toMatch(/the chain is empty/);
    const lines = formatHead({ height: 4, hash: 'f'.repeat(64), timestamp: 0, offset: 5, transactionCount: 9 });
    expect(lines).toEqual([
      'height       4',
      `hash         ${'f'.repeat(64)}`,
      'timestamp    1970-01-01 00:00:00.000Z',
      'offset       5 (blockchain topic)',
      'transactions 9 committed (coinbases included)',
    ]);
  });

  it('shows blocks as one line, and with their transactions', () => {
    const block = testBlock();
    expect(formatBlockLine({ index: 0, hash: 'a'.repeat(64), timestamp: 0, miner: 'genesis', difficulty: 0, transactionCount: 0 })).toBe(
      `#0      ${'a'.repeat(16)}…  1970-01-01 00:00:00.000Z  genesis     0 txs (genesis)  difficulty 0`,
    );
    expect(formatBlockLine(block)).toContain('3 txs + coinbase');
    const lines = formatBlock(block);
    expect(lines).toHaveLength(5);
    expect(lines[1]).toContain('coinbase:1  0 → miner-0  50');
    expect(lines[2]).toContain('tx-1  alice → bob  3');
  });

  it('colours only when asked', () => {
    expect(painter(false)('red', 'x')).toBe('x');
    expect(painter(true)('red', 'x')).toBe('\u001b[31mx\u001b[39m');
  });
});

describe('Output', () => {
  it('prints human text, or exactly one JSON document per result with --json', () => {
    const human = sink();
    new Output({ json: false, color: false, stdout: human, stderr: sink() }).result(['a', 'b'], { a: 1 });
    expect(human.text()).toBe('a\nb\n');
    const json = sink();
    const notes = sink();
    const out = new Output({ json: true, color: true, stdout: json, stderr: notes });
    out.note('for people');
    out.result('ignored', { a: 1 });
    expect(json.text()).toBe('{"a":1}\n');
    expect(notes.text()).toBe('');
    expect(out.paint('red', 'x')).toBe('x');
  });

  it('redraws progress on a terminal and throttles it to a line per 2 s otherwise', () => {
    const tty = sink(true);
    const out = new Output({ json: false, color: false, stdout: sink(), stderr: tty });
    out.progress('1/3');
    out.progress('2/3');
    out.error('boom');
    expect(tty.text()).toBe('\r\u001b[2K1/3\r\u001b[2K2/3\r\u001b[2Kchainlog: boom\n');

    let now = 0;
    const pipe = sink(false);
    const piped = new Output({ json: false, color: false, stdout: sink(), stderr: pipe, now: () => now });
    piped.progress('a');
    now = 1000;
    piped.progress('b');
    now = 2500;
    piped.progress('c');
    piped.progress('d', true);
    expect(pipe.text()).toBe('a\nc\nd\n');
  });
});
