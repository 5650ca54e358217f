// `chainlog chain verify`, the one verify command, on kcat-style dump files: exit 0 when the chain verifies,
// 1 when a block was rejected (each listed with its line and reason), 2 when it could not be verified. The
// topic mode runs in the auditor's integration test against a real broker.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeBlock } from '@chainlog/core/protocol';
import type { VerifyReport } from '@chainlog/core/verify';
import { minerA, PARAMS_ENV } from '../../auditor/test/support/chain-builder.js';
import { fixture } from '../../core/test/verify/fixture.js';
import { run } from './fixtures.js';

function dumpFile(messages: Buffer[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'chainlog-verify-'));
  const path = join(dir, 'blockchain.jsonl');
  // kcat -C -e writes each message followed by a newline.
  writeFileSync(path, Buffer.concat(messages.flatMap((message) => [message, Buffer.from('\n')])));
  return path;
}

const verify = (args: string[], options: { stdin?: string } = {}) => run(['chain', 'verify', ...args], { env: PARAMS_ENV, ...options });

describe('chainlog chain verify --file', () => {
  it('exits 0 and says OK when every block is accepted', async () => {
    const { blocks } = fixture();
    const result = await verify(['--file', dumpFile(blocks.map(encodeBlock))]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('result: OK, 3 of 3 blocks accepted');
  });

  it('exits 1 with each rejection by line, and --json gives the same report as data', async () => {
    const { blocks, forged } = fixture();
    const path = dumpFile([...blocks.map(encodeBlock), ...forged]);
    const text = await verify(['--file', path]);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain('line 4: unknown-signer');
    expect(text.stdout).toContain('line 5: malformed');
    expect(text.stderr).toContain('2 of 5 blocks rejected for reasons other than lost races');
    const json = await verify(['--file', path, '--json']);
    expect(json.code).toBe(1);
    const report = JSON.parse(json.stdout) as VerifyReport;
    expect(report).toMatchObject({ ok: false, height: 2, headHash: blocks[2]?.hash, source: { kind: 'file', name: path, positionName: 'line' } });
    expect(report.rejections.map(({ position, reason }) => [position, reason])).toEqual([
      [4, 'unknown-signer'],
      [5, 'malformed'],
    ]);
  });

  it('uses the consensus flags over the environment: the same dump fails with another miner list', async () => {
    const { blocks } = fixture();
    const path = dumpFile(blocks.map(encodeBlock));
    const only = await verify(['--file', path, '--allowed-miner-keys', minerA.publicKey]);
    expect(only.code).toBe(1);
    expect(only.stdout).toContain('line 3: unknown-signer');
    const harder = await verify(['--file', path, '--difficulty', '30']);
    expect(harder.code).toBe(1);
    expect(harder.stdout).toContain('line 2: insufficient-work');
  });

  it('reads standard input for --file -', async () => {
    const { blocks } = fixture();
    const result = await verify(['--file', '-'], { stdin: blocks.map((block) => `${encodeBlock(block).toString('utf8')}\n`).join('') });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('source: file -');
  });

  it.each([
    [['--topic', 'a', '--file', 'b'], 'give either --topic or --file, not both'],
    [['--file', 'x', '--bogus'], '--bogus'],
    [['--file', 'x', '--difficulty', 'hard'], 'DIFFICULTY must be an integer'],
  ])('exits 2 on usage errors: %j', async (args, message) => {
    const result = await verify(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    expect(result.stdout).toBe('');
  });

  it('exits 2 when the file cannot be read: no verdict on the chain', async () => {
    const result = await verify(['--file', '/nonexistent/chain.jsonl']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('cannot read /nonexistent/chain.jsonl: ENOENT');
  });
});
