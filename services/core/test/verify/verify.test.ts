// The verify core on kcat-style dumps (the command is tested in the CLI, the topic mode by the auditor's
// integration test against a real broker).
import { describe, expect, it } from 'vitest';
import { encodeBlock } from '@chainlog/core/protocol';
import { formatVerifyReport, readDumpLines, verifyMessages } from '../../src/verify/index.js';
import { PARAMS } from '../../../auditor/test/support/chain-builder.js';
import { fixture } from './fixture.js';

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
