// The CLI run in-process against a fake ingest and auditor: exit codes, one-line errors, JSON output.
import { describe, expect, it } from 'vitest';
import { committedView, fakeFetch, run, testBlock, type Route } from './fixtures.js';

const INGEST = 'http://localhost:8080';
const AUDITOR = 'http://localhost:8082';

const acceptOne: Route = ({ method, url, body }) => {
  if (method !== 'POST' || url !== `${INGEST}/v1/transactions`) return undefined;
  if (Array.isArray(body)) {
    return { status: 202, body: { transactions: body.map((_, i) => ({ id: `t${i}`, partition: i % 2, offset: 10 + i, statusUrl: `${AUDITOR}/v1/transactions/t${i}` })) } };
  }
  return { status: 202, body: { id: 'generated-1', partition: 1, offset: 42, statusUrl: `${AUDITOR}/v1/transactions/generated-1` } };
};

describe('chainlog tx send', () => {
  it('sends one transaction from flags and prints ingest\'s answer', async () => {
    const { fetch, requests } = fakeFetch([acceptOne]);
    const result = await run(['tx', 'send', '--from', 'alice', '--to', 'bob', '--amount', '3', '--json'], { fetch });
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(result.stdout)).toEqual({ id: 'generated-1', partition: 1, offset: 42, statusUrl: `${AUDITOR}/v1/transactions/generated-1` });
    expect(requests).toEqual([{ method: 'POST', url: `${INGEST}/v1/transactions`, body: { from: 'alice', to: 'bob', amount: 3 } }]);

    const human = await run(['tx', 'send', '--from', 'alice', '--to', 'bob', '--amount', '3', '--id', 'my-1'], { fetch });
    expect(human.stdout).toContain('accepted generated-1 → transactions partition 1, offset 42');
    expect(requests.at(-1)?.body).toEqual({ id: 'my-1', from: 'alice', to: 'bob', amount: 3 });
  });

  it('sends a batch from stdin (JSON lines) in chunks of --batch-size', async () => {
    const { fetch, requests } = fakeFetch([acceptOne]);
    const lines = Array.from({ length: 5 }, (_, i) => JSON.stringify({ from: 'a', to: 'b', amount: i + 1 })).join('\n');
    const result = await run(['tx', 'send', '--batch-size', '2', '--json'], { fetch, stdin: lines, stdinIsTTY: false });
    expect(result.code).toBe(0);
    expect(requests.map((request) => (request.body as unknown[]).length)).toEqual([2, 2, 1]);
    expect(JSON.parse(result.stdout).transactions).toHaveLength(5);
  });

  it('reads --file', async () => {
    const { fetch, requests } = fakeFetch([acceptOne]);
    const result = await run(['tx', 'send', '--file', 'batch.json'], { fetch, files: { 'batch.json': '[{"from":"a","to":"b","amount":1}]' } });
    expect(result.code).toBe(0);
    expect(requests[0]?.body).toEqual([{ from: 'a', to: 'b', amount: 1 }]);
    expect(await run(['tx', 'send', '--file', 'missing.json'], { fetch })).toMatchObject({ code: 1, stderr: 'chainlog: cannot read missing.json: ENOENT\n' });
  });

  it('--wait follows the chain until every transaction is in a block', async () => {
    const block = testBlock();
    let heads = 0;
    const { fetch, requests } = fakeFetch([
      ({ method, url, body }) =>
        method === 'POST' && url === `${INGEST}/v1/transactions`
          ? { status: 202, body: { transactions: (body as Array<{ id: string }>).map(({ id }, i) => ({ id, partition: 0, offset: i })) } }
          : undefined,
      ({ url }) => (url === `${AUDITOR}/v1/chain/head` ? { status: 200, body: { height: heads++ === 0 ? 0 : 1, hash: null, timestamp: 0, offset: 0, transactionCount: 0 } } : undefined),
      ({ url }) => (url === `${AUDITOR}/v1/blocks/1` ? { status: 200, body: { offset: 1, confirmations: 1, block } } : undefined),
    ]);
    const file = '{"id":"tx-1","from":"alice","to":"bob","amount":3}\n{"id":"tx-3","from":"carol","to":"dave","amount":1}\n';
    const result = await run(['tx', 'send', '--file', 'f.jsonl', '--wait', '--json'], { fetch, files: { 'f.jsonl': file } });
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      transactions: [
        { id: 'tx-1', partition: 0, offset: 0, blockIndex: 1 },
        { id: 'tx-3', partition: 0, offset: 1, blockIndex: 1 },
      ],
    });
    expect(requests.filter((request) => request.url.endsWith('/v1/blocks/1'))).toHaveLength(1);
  });

  it('refuses bad input before sending anything (exit 2)', async () => {
    const { fetch, requests } = fakeFetch([acceptOne]);
    expect(await run(['tx', 'send', '--from', 'alice', '--to', 'bob'], { fetch })).toMatchObject({ code: 2 });
    expect((await run(['tx', 'send', '--from', 'alice', '--to', 'bob', '--amount=-3'], { fetch })).stderr).toMatch(/--amount must be a positive integer/);
    expect(await run(['tx', 'send', '--from', 'alice', '--to', 'bob', '--amount', '-3'], { fetch })).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--amount needs a value (for a value starting with -, write --amount=VALUE)'),
    });
    expect((await run(['tx', 'send', '--from', 'a b', '--to', 'bob', '--amount', '3'], { fetch })).stderr).toMatch(/^chainlog: --from must be 1\.\.\d+ characters/);
    expect((await run(['tx', 'send', '--from', 'a', '--to', 'b', '--amount', '1', '--file', 'x'], { fetch })).code).toBe(2);
    expect((await run(['tx', 'send'], { fetch, stdinIsTTY: true })).stderr).toMatch(/nothing to send/);
    expect(requests).toEqual([]);
  });

  it('turns ingest\'s error answer into one line and exit 1', async () => {
    const { fetch } = fakeFetch([
      () => ({ status: 503, body: { error: { code: 'kafka-unavailable', message: 'the transactions topic is not available\nsecond line' } } }),
    ]);
    const result = await run(['tx', 'send', '--from', 'a', '--to', 'b', '--amount', '1'], { fetch });
    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr: 'chainlog: ingest answered POST /v1/transactions with 503 kafka-unavailable: the transactions topic is not available\n',
    });
  });

  it('says when a service cannot be reached', async () => {
    const refused: typeof fetch = async () => {
      throw Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } });
    };
    const result = await run(['chain', 'head'], { fetch: refused });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`chainlog: cannot reach the auditor at ${AUDITOR}: connection refused (is it running? \`npm start\` starts everything)\n`);
  });
});

describe('chainlog tx status', () => {
  const block = testBlock();
  const auditor = (overrides: { status?: unknown; block?: unknown } = {}): Route[] => [
    ({ url }) => (url === `${AUDITOR}/v1/transactions/tx-2` ? { status: 200, body: overrides.status ?? committedView(block, 'tx-2') } : undefined),
    ({ url }) => (url === `${AUDITOR}/v1/blocks/1` ? { status: 200, body: { offset: 1, confirmations: 1, block: overrides.block ?? block } } : undefined),
    ({ url }) => (url === `${AUDITOR}/v1/transactions/pending-1` ? { status: 200, body: { status: 'pending', transactionId: 'pending-1', partition: 0, offset: 3 } } : undefined),
  ];

  it('verifies the inclusion proof locally: verified, exit 0', async () => {
    const { fetch } = fakeFetch(auditor());
    const result = await run(['tx', 'status', 'tx-2', '--proof', '--json'], { fetch });
    expect(result.code).toBe(0);
    const body = JSON.parse(result.stdout);
    expect(body).toMatchObject({ status: 'committed', blockIndex: 1, verification: { verified: true } });
    const human = await run(['tx', 'status', 'tx-2', '--proof'], { fetch });
    expect(human.stdout.trimEnd().split('\n').at(-1)).toBe('  verified');
  });

  it('says NOT verified and exits 1 when the auditor lies', async () => {
    const view = committedView(block, 'tx-2');
    const { fetch } = fakeFetch(auditor({ status: { ...view, transaction: { ...view.transaction, amount: 99 } } }));
    const result = await run(['tx', 'status', 'tx-2', '--proof'], { fetch });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('NOT verified');
    expect(result.stderr).toBe('chainlog: the inclusion proof of tx-2 does NOT verify: the inclusion proof does not lead from the transaction hash to the merkle root\n');

    const tamperedBlock = fakeFetch(auditor({ block: { ...block, merkleRoot: 'e'.repeat(64) } }));
    expect((await run(['tx', 'status', 'tx-2', '--proof'], { fetch: tamperedBlock.fetch })).code).toBe(1);
  });

  it('shows pending transactions, and fails for unknown ones', async () => {
    const { fetch } = fakeFetch(auditor());
    expect(await run(['tx', 'status', 'pending-1'], { fetch })).toMatchObject({ code: 0, stdout: 'pending-1  pending  (transactions partition 0, offset 3)\n' });
    const unknown = await run(['tx', 'status', 'nope'], { fetch });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^chainlog: transaction nope is unknown to the auditor/);
  });

  it('reports an auditor that cannot decide yet (503 pending-catching-up) as such, and --wait asks again', async () => {
    let asked = 0;
    const catchingUp = { status: 503, body: { error: { code: 'pending-catching-up', message: 'transaction just-sent is not among the records read so far', partitionsBehind: 1, recordsBehind: 3 } } };
    const { fetch } = fakeFetch([
      ({ url }) => {
        if (url !== `${AUDITOR}/v1/transactions/just-sent`) return undefined;
        asked++;
        return asked <= 2 ? catchingUp : { status: 200, body: { status: 'dropped', transactionId: 'just-sent', partition: 0, offset: 3, reason: 'duplicate' } };
      },
    ]);
    const once = await run(['tx', 'status', 'just-sent'], { fetch });
    expect(once.code).toBe(1);
    expect(once.stderr).toMatch(/^chainlog: the auditor answered GET \/v1\/transactions\/just-sent with 503 pending-catching-up: /);
    const waited = await run(['tx', 'status', 'just-sent', '--wait', '--json'], { fetch });
    // Decided at the third ask: refused for good (exit 1 with --wait, as for any dropped transaction).
    expect(waited).toMatchObject({ code: 1, stderr: 'waiting for just-sent: not seen yet\n' });
    expect(JSON.parse(waited.stdout)).toMatchObject({ status: 'dropped' });
    expect(asked).toBe(3);
  });

  it('--wait gives up after --timeout with exit 1', async () => {
    const { fetch } = fakeFetch(auditor());
    const result = await run(['tx', 'status', 'pending-1', '--wait', '--timeout', '1s'], { fetch });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('chainlog: transaction pending-1 is pending after waiting 1 s');
  });

  it('rejects an answer that is not a status', async () => {
    const { fetch } = fakeFetch([() => ({ status: 200, body: { hello: 'world' } })]);
    expect((await run(['tx', 'status', 'x'], { fetch })).stderr).toMatch(/not in the expected form/);
  });
});

describe('chainlog chain head and tail', () => {
  it('prints the head as JSON or text', async () => {
    const head = { height: 3, hash: 'a'.repeat(64), timestamp: 0, offset: 4, transactionCount: 7 };
    const { fetch } = fakeFetch([({ url }) => (url === `${AUDITOR}/v1/chain/head` ? { status: 200, body: head } : undefined)]);
    expect(JSON.parse((await run(['chain', 'head', '--json'], { fetch })).stdout)).toEqual(head);
    expect((await run(['chain', 'head'], { fetch })).stdout).toMatch(/^height {7}3\n/);
  });

  it('tails the last -n blocks through the auditor\'s block pages', async () => {
    const summaries = Array.from({ length: 6 }, (_, index) => ({ index, hash: String(index).repeat(64), timestamp: 0, transactionCount: 2, miner: 'm', difficulty: 1, offset: index }));
    const { fetch, requests } = fakeFetch([
      ({ url }) => (url === `${AUDITOR}/v1/chain/head` ? { status: 200, body: { height: 5, hash: '5'.repeat(64), timestamp: 0, offset: 5, transactionCount: 11 } } : undefined),
      ({ url }) => {
        const match = /\/v1\/blocks\?from=(\d+)&limit=(\d+)$/.exec(url);
        if (match === null) return undefined;
        const from = Number(match[1]);
        const blocks = summaries.slice(from, from + Number(match[2]));
        return { status: 200, body: { from, limit: Number(match[2]), height: 5, next: null, blocks } };
      },
    ]);
    const result = await run(['chain', 'tail', '-n', '2'], { fetch });
    expect(result.code).toBe(0);
    expect(result.stdout.trimEnd().split('\n').map((line) => line.slice(0, 3))).toEqual(['#4 ', '#5 ']);
    expect(requests.map((request) => request.url)).toContain(`${AUDITOR}/v1/blocks?from=4&limit=2`);
    const json = await run(['chain', 'tail', '-n', '2', '--json'], { fetch });
    expect(json.stdout.trimEnd().split('\n').map((line) => JSON.parse(line).index)).toEqual([4, 5]);
  });

  it('follows new blocks with -f, riding out an auditor that is briefly unreachable, until Ctrl-C', async () => {
    const stop = new AbortController();
    let height = 0;
    let calls = 0;
    const summary = (index: number) => ({ index, hash: String(index).repeat(64), timestamp: 0, transactionCount: 1, miner: 'm', difficulty: 1, offset: index });
    const { fetch: answer } = fakeFetch([
      ({ url }) => (url === `${AUDITOR}/v1/chain/head` ? { status: 200, body: { height, hash: null, timestamp: 0, offset: height, transactionCount: 1 } } : undefined),
      ({ url }) => {
        const match = /\/v1\/blocks\?from=(\d+)&limit=(\d+)$/.exec(url);
        if (match === null) return undefined;
        const from = Number(match[1]);
        const blocks = Array.from({ length: Math.min(Number(match[2]), height - from + 1) }, (_, i) => summary(from + i));
        if (blocks.some((block) => block.index === 1)) stop.abort();
        return { status: 200, body: { from, limit: Number(match[2]), height, next: null, blocks } };
      },
    ]);
    const flaky: typeof fetch = async (input, init) => {
      calls += 1;
      if (calls === 3) throw Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } });
      if (calls === 4) height = 1;
      return answer(input, init);
    };
    const result = await run(['chain', 'tail', '-f', '--interval', '10ms'], { fetch: flaky, signal: stop.signal });
    expect(result.code).toBe(0);
    expect(result.stdout.trimEnd().split('\n').map((line) => line.slice(0, 2))).toEqual(['#0', '#1']);
    expect(result.stderr).toContain('connection refused');
    expect(result.stderr).toContain('retrying every 0.01 s (Ctrl-C to stop)');
    expect(result.stderr).toContain('the auditor answers again');
  });
});
