// The verify core and the chainlog-verify command on kcat-style dump files (the topic mode is covered by
// the integration test against a real broker).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Block, encodeBlock } from '@chainlog/core/protocol';
import { formatVerifyReport, readDumpLines, runVerifyCommand, verifyMessages, type VerifyReport } from '../src/index.js';
import { ChainBuilder, forge, minerA, minerB, outsider, PARAMS, PARAMS_ENV, signedTransaction } from './support/chain-builder.js';

async function collect(chunks: Array<string | Uint8Array>): Promise<Array<{ position: number; text: string }>> {
  const lines: Array<{ position: number; text: string }> = [];
  for await (const { position, bytes } of readDumpLines(chunks)) lines.push({ position, text: Buffer.from(bytes).toString('latin1') });
  return lines;
}

describe('readDumpLines', () => {
  it('splits kcat output into messages numbered by line, across chunk boundaries, skipping blank lines', async () => {
    expect(await collect(['{"a":1}\n{"b"', ':2}\n\n  \n\r\n{"c":3}\n'])).toEqual([
      { position: 1, text: '{"a":1}' },
      { position: 2, text: '{"b":2}' },
      { position: 6, text: '{"c":3}' },
    ]);
  });

  it('keeps a last line without a newline and passes bytes through unchanged', async () => {
    const lines = await collect([Buffer.from([0xff, 0xfe, 0x0a, 0x7b]), '"x"']);
    expect(lines).toEqual([
      { position: 1, text: '\xff\xfe' },
      { position: 2, text: '{"x"' },
    ]);
  });
});

function fixture(): { blocks: Block[]; forged: Buffer[] } {
  const builder = new ChainBuilder();
  builder.next({ transactions: [signedTransaction('v-1', 'alice', 'bob', 5)] });
  builder.next({ signer: minerB, miner: 'miner-b' });
  const forged = [
    encodeBlock(forge(builder.tip, { index: builder.tip.index + 1, previousHash: builder.tip.hash }, outsider)),
    Buffer.from('{"index":3,"truncated'),
  ];
  return { blocks: builder.blocks, forged };
}

function dumpFile(messages: Buffer[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'chainlog-verify-'));
  const path = join(dir, 'blockchain.jsonl');
  // kcat -C -e writes each message followed by a newline.
  writeFileSync(path, Buffer.concat(messages.flatMap((message) => [message, Buffer.from('\n')])));
  return path;
}

function io(env: Record<string, string | undefined> = PARAMS_ENV) {
  let stdout = '';
  let stderr = '';
  return {
    io: { stdout: { write: (text: string) => (stdout += text) }, stderr: { write: (text: string) => (stderr += text) }, env },
    out: () => stdout,
    err: () => stderr,
  };
}

describe('verifyMessages', () => {
  it('reports the chain and every rejection with its position, reason and detail', async () => {
    const { blocks, forged } = fixture();
    const messages = [...blocks.map(encodeBlock), ...forged].map((bytes, i) => ({ position: i, bytes }));
    const report = await verifyMessages(PARAMS, { kind: 'topic', name: 't', positionName: 'offset' }, messages);
    expect(report).toMatchObject({
      ok: false,
      messages: 5,
      accepted: 3,
      rejected: 2,
      height: 2,
      headHash: blocks[2]?.hash,
      transactionCount: 3,
      rejections: [
        { position: 3, reason: 'unknown-signer', claimedIndex: 3, claimedMiner: 'miner-b' },
        { position: 4, reason: 'malformed' },
      ],
    });
    expect(report.rejectionsByReason).toMatchObject({ 'unknown-signer': 1, malformed: 1, fork: 0 });
    const text = formatVerifyReport(report);
    expect(text).toContain(`chain: height 2, head ${blocks[2]?.hash}, 3 transactions`);
    expect(text).toContain('offset 3: unknown-signer (claimed index 3, miner miner-b): minerPublicKey');
    expect(text).toContain('offset 4: malformed: $ is not valid JSON');
    expect(text).toContain('result: FAILED, 2 of 5 blocks rejected for reasons other than lost races');
  });
});

describe('lost races', () => {
  it('are reported but do not fail verification: a second genesis and a replayed block are stale', async () => {
    const { blocks, forged } = fixture();
    const genesisAgain = blocks[0] === undefined ? [] : [encodeBlock(blocks[0])];
    const replayed = blocks[1] === undefined ? [] : [encodeBlock(blocks[1])];
    const raced = [...blocks.map(encodeBlock), ...genesisAgain, ...replayed].map((bytes, i) => ({ position: i, bytes }));
    const report = await verifyMessages(PARAMS, { kind: 'topic', name: 't', positionName: 'offset' }, raced);
    expect(report).toMatchObject({ ok: true, rejected: 2, races: 2, height: 2 });
    expect(formatVerifyReport(report)).toContain('result: OK, 3 of 5 blocks accepted, 2 lost races (stale/fork)');

    const withForgery = [...raced, { position: raced.length, bytes: forged[0] ?? new Uint8Array() }];
    expect(await verifyMessages(PARAMS, { kind: 'topic', name: 't', positionName: 'offset' }, withForgery)).toMatchObject({ ok: false, races: 2 });
  });
});

describe('chainlog-verify --file', () => {
  it('exits 0 and says OK when every block is accepted', async () => {
    const { blocks } = fixture();
    const { io: streams, out } = io();
    expect(await runVerifyCommand(['--file', dumpFile(blocks.map(encodeBlock))], streams)).toBe(0);
    expect(out()).toContain('result: OK, 3 of 3 blocks accepted');
  });

  it('exits 1 with each rejection by line, and --json gives the same report as data', async () => {
    const { blocks, forged } = fixture();
    const path = dumpFile([...blocks.map(encodeBlock), ...forged]);
    const text = io();
    expect(await runVerifyCommand(['--file', path], text.io)).toBe(1);
    expect(text.out()).toContain('line 4: unknown-signer');
    expect(text.out()).toContain('line 5: malformed');
    const json = io();
    expect(await runVerifyCommand(['--file', path, '--json'], json.io)).toBe(1);
    const report = JSON.parse(json.out()) as VerifyReport;
    expect(report).toMatchObject({ ok: false, height: 2, headHash: blocks[2]?.hash, source: { kind: 'file', name: path, positionName: 'line' } });
    expect(report.rejections.map(({ position, reason }) => [position, reason])).toEqual([
      [4, 'unknown-signer'],
      [5, 'malformed'],
    ]);
  });

  it('uses the consensus flags over the environment: the same dump fails with another miner list', async () => {
    const { blocks } = fixture();
    const path = dumpFile(blocks.map(encodeBlock));
    const only = io();
    expect(await runVerifyCommand(['--file', path, '--allowed-miner-keys', minerA.publicKey], only.io)).toBe(1);
    expect(only.out()).toContain('line 3: unknown-signer');
    const harder = io();
    expect(await runVerifyCommand(['--file', path, '--difficulty', '30'], harder.io)).toBe(1);
    expect(harder.out()).toContain('line 2: insufficient-work');
  });

  it('reads standard input for --file -', async () => {
    const { blocks } = fixture();
    const streams = io();
    const stdin = [Buffer.concat(blocks.map((block) => Buffer.concat([encodeBlock(block), Buffer.from('\n')])))];
    expect(await runVerifyCommand(['--file', '-'], { ...streams.io, stdin })).toBe(0);
    expect(streams.out()).toContain('source: file -');
  });

  it.each([
    [[], 'give exactly one of --topic and --file'],
    [['--topic', 'a', '--file', 'b'], 'give exactly one of --topic and --file'],
    [['--file', 'x', '--brokers', 'h:1'], '--brokers applies to --topic only'],
    [['--file', 'x', '--bogus'], "Unknown option '--bogus'"],
    [['--file', 'x', '--difficulty', 'hard'], '--difficulty (DIFFICULTY) must be an integer'],
    [['--file', 'x', '--timeout', '0'], '--timeout must be'],
    [['--topic', 'bad topic!'], '--topic must be a Kafka topic name'],
    [['--topic', 't', '--brokers', 'nohostport'], '--brokers (KAFKA_BROKERS) must be a comma-separated list'],
  ])('exits 2 on usage errors: %j', async (argv, message) => {
    const streams = io();
    expect(await runVerifyCommand(argv, streams.io)).toBe(2);
    expect(streams.err()).toContain(message);
    expect(streams.err()).toContain('Usage:');
    expect(streams.out()).toBe('');
  });

  it('exits 2 when the file cannot be read, and 0 with --help', async () => {
    const missing = io();
    expect(await runVerifyCommand(['--file', '/nonexistent/chain.jsonl'], missing.io)).toBe(2);
    expect(missing.err()).toContain('cannot read /nonexistent/chain.jsonl: ENOENT');
    const help = io();
    expect(await runVerifyCommand(['--help'], help.io)).toBe(0);
    expect(help.out()).toContain('Exit status: 0 every block accepted, 1 some block rejected, 2');
  });
});
