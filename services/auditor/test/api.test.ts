// The query API over an AuditorState fed directly (no Kafka): every response is checked against the
// OpenAPI document's schema, and bad parameters and unknown ids get JSON errors.
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeServer, createHttpApp } from '@chainlog/core/http';
import { createLogger } from '@chainlog/core/logging';
import { createMetricsRegistry } from '@chainlog/core/metrics';
import { type Block, encodeBlock, verifyInclusionProof } from '@chainlog/core/protocol';
import { AuditorState } from '../src/domain/auditor-state.js';
import { buildOpenApiDocument } from '../src/http/openapi.js';
import { registerApiRoutes } from '../src/http/routes.js';
import { ChainBuilder, forge, outsider, PARAMS, signedTransaction, topicTransaction } from './support/chain-builder.js';
import { openApiValidator } from './support/openapi-validator.js';
import { listenOnFreePort } from './support/listen.js';

const TOPIC = 'tx-api';
const validate = openApiValidator();
let server: Server;
let base: string;
let blocks: Block[];
let now = 1_700_000_500_000;

async function get(path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${base}${path}`);
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  const state = new AuditorState({ params: PARAMS, transactionsTopic: TOPIC, blockCacheBytes: 3000, clock: () => now });
  const builder = new ChainBuilder();
  // Block 1 consumes partition 0 offsets 0..2 (alice pays bob three times) and pays miner-a.
  builder.next({
    transactions: [0, 1, 2].map((offset) => topicTransaction(TOPIC, 0, offset)),
    sources: [{ topic: TOPIC, partition: 0, firstOffset: 0, lastOffset: 2 }],
  });
  builder.next({ transactions: [signedTransaction('pay-1', 'miner-a', 'carol', 20)] });
  builder.next({ miner: 'miner-b' });
  blocks = builder.blocks;

  let offset = 0;
  const feed = (bytes: Uint8Array): void => {
    const result = state.chain.apply(bytes);
    if (result.accepted) state.accept(result.block, offset);
    else state.reject({ offset, reason: result.reason, detail: result.detail, ...(result.claimedIndex === undefined ? {} : { claimedIndex: result.claimedIndex }) });
    offset++;
  };
  feed(encodeBlock(blocks[0] as Block));
  feed(encodeBlock(blocks[1] as Block));
  feed(Buffer.from('garbage'));
  feed(encodeBlock(blocks[2] as Block));
  feed(encodeBlock(forge(blocks[2] as Block, {}, outsider)));
  feed(encodeBlock(blocks[3] as Block));
  // Pending on partition 1 and on partition 0 after the consumed range.
  state.pending.ensurePartitions(2);
  state.pending.observe(1, 0, 'waiting-1', now - 30_000);
  state.pending.observe(0, 3, `tx:${TOPIC}:0:3`, now - 5_000);
  // A block past a partition's end (the service reports it from the follower's source wait).
  state.recordAnomaly({ offset: 6, claimedIndex: 4, claimedMiner: 'miner-x', partition: 1, claimedThrough: 9, detail: 'partition 1 ends at 1' });

  const logger = createLogger('auditor-test', 'silent');
  const { app, finish } = createHttpApp({ logger, registry: createMetricsRegistry('auditor-test'), readiness: () => ({ ready: true }) });
  registerApiRoutes(app, { state, openapi: buildOpenApiDocument(), progress: () => ({ caughtUp: true, appliedOffset: offset - 1 }), transactionsRead: () => Promise.resolve({ outcome: 'read' as const }) });
  finish();
  ({ server, base } = await listenOnFreePort(app));
});

afterAll(async () => {
  await closeServer(server, 1000);
});

describe('the query API', () => {
  it('serves the head of the canonical chain', async () => {
    const { status, body } = await get('/v1/chain/head');
    expect(status).toBe(200);
    validate('Head', body);
    expect(body).toEqual({
      height: 3,
      hash: blocks[3]?.hash,
      timestamp: blocks[3]?.timestamp,
      offset: 5,
      transactionCount: 7,
      caughtUp: true,
      appliedOffset: 5,
    });
  });

  it('serves blocks by index with their offset and confirmations', async () => {
    const { status, body } = await get('/v1/blocks/1');
    expect(status).toBe(200);
    validate('BlockResponse', body);
    expect(body).toEqual({ offset: 1, confirmations: 3, block: blocks[1] });
    expect((await get('/v1/blocks/0')).body.block).toEqual(blocks[0]);
  });

  it('pages through blocks', async () => {
    const first = await get('/v1/blocks?limit=2');
    validate('BlockPage', first.body);
    expect(first.body).toMatchObject({ from: 0, limit: 2, height: 3, next: 2 });
    expect((first.body.blocks as Array<{ index: number }>).map((block) => block.index)).toEqual([0, 1]);
    const last = await get('/v1/blocks?from=2&limit=100');
    expect(last.body).toMatchObject({ from: 2, next: null });
    expect(last.body.blocks).toEqual([
      expect.objectContaining({ index: 2, hash: blocks[2]?.hash, offset: 3, transactionCount: 2, miner: 'miner-a' }),
      expect.objectContaining({ index: 3, hash: blocks[3]?.hash, offset: 5, transactionCount: 1, miner: 'miner-b' }),
    ]);
    expect((await get('/v1/blocks?from=10')).body).toMatchObject({ blocks: [], next: null });
  });

  it.each([
    ['/v1/blocks?limit=0', 'limit'],
    ['/v1/blocks?limit=101', 'limit'],
    ['/v1/blocks?limit=ten', 'limit'],
    ['/v1/blocks?from=-1', 'from'],
    ['/v1/blocks?from=1e3', 'from'],
    ['/v1/blocks?from=1&from=2', 'from'],
    ['/v1/blocks/abc', 'index'],
    ['/v1/blocks/-1', 'index'],
    ['/v1/blocks/1.5', 'index'],
    ['/v1/accounts/alice?limit=1000', 'limit'],
    ['/v1/accounts/alice?from=x', 'from'],
    ['/v1/accounts/bad%20id', 'id'],
    ['/v1/audit?limit=0', 'limit'],
  ])('answers %s with 400 naming %s', async (path, parameter) => {
    const { status, body } = await get(path);
    expect(status).toBe(400);
    validate('Error', body);
    expect(body.error).toMatchObject({ code: 'bad-parameter', parameter });
    expect((body.error as { message: string }).message).toContain(parameter);
  });

  it('answers unknown blocks, accounts and routes with 404 JSON', async () => {
    const block = await get('/v1/blocks/4');
    expect(block.status).toBe(404);
    validate('Error', block.body);
    const account = await get('/v1/accounts/nobody');
    expect(account.status).toBe(404);
    expect(account.body.error).toMatchObject({ code: 'not-found', account: 'nobody' });
    expect((await get('/v1/nothing')).status).toBe(404);
  });

  it('reports a committed transaction with an inclusion proof that verifies against the block', async () => {
    for (const [id, blockIndex, position] of [
      [`tx:${TOPIC}:0:1`, 1, 2],
      ['pay-1', 2, 1],
      ['coinbase:3', 3, 0],
    ] as const) {
      const { status, body } = await get(`/v1/transactions/${encodeURIComponent(id)}`);
      expect(status).toBe(200);
      validate('CommittedTransaction', body);
      const block = blocks[blockIndex] as Block;
      expect(body).toMatchObject({
        status: 'committed',
        transactionId: id,
        blockIndex,
        position,
        blockHash: block.hash,
        merkleRoot: block.merkleRoot,
        confirmations: 3 - blockIndex + 1,
        transaction: block.transactions[position],
      });
      const { transaction, proof, merkleRoot } = body as never;
      expect(verifyInclusionProof(transaction, proof, merkleRoot)).toBe(true);
      expect(verifyInclusionProof({ ...(transaction as object), amount: 999 } as never, proof, merkleRoot)).toBe(false);
    }
  });

  it('accepts derived and coinbase ids with raw colons in the path', async () => {
    expect((await get(`/v1/transactions/tx:${TOPIC}:0:2`)).body).toMatchObject({ status: 'committed', blockIndex: 1, position: 3 });
    expect((await get('/v1/transactions/coinbase:2')).body).toMatchObject({ status: 'committed', blockIndex: 2, position: 0 });
  });

  it('reports pending transactions, and 404 {status: unknown} for unknown ids', async () => {
    const pending = await get('/v1/transactions/waiting-1');
    expect(pending.status).toBe(200);
    validate('PendingTransaction', pending.body);
    expect(pending.body).toEqual({ status: 'pending', transactionId: 'waiting-1', partition: 1, offset: 0, enqueuedAt: new Date(now - 30_000).toISOString() });
    const unknown = await get('/v1/transactions/never-seen');
    expect(unknown.status).toBe(404);
    validate('UnknownTransaction', unknown.body);
    expect(unknown.body.status).toBe('unknown');
  });

  it('serves balances and paged histories', async () => {
    const alice = await get('/v1/accounts/alice?limit=2');
    validate('Account', alice.body);
    expect(alice.body).toMatchObject({ account: 'alice', balance: -9, overdrawn: true, overdrafts: 3, transactionCount: 3, from: 0, limit: 2, next: 2 });
    const page2 = await get('/v1/accounts/alice?from=2&limit=2');
    expect(page2.body).toMatchObject({ next: null, history: [{ transactionId: `tx:${TOPIC}:0:2`, direction: 'debit', counterparty: 'bob', amount: 3 }] });
    const minerA = await get('/v1/accounts/miner-a');
    expect(minerA.body).toMatchObject({ balance: 80, overdrawn: false, transactionCount: 3 });
    expect((minerA.body.history as unknown[])[0]).toEqual({
      transactionId: 'coinbase:1',
      blockIndex: 1,
      position: 0,
      timestamp: blocks[1]?.timestamp,
      direction: 'credit',
      counterparty: '0',
      amount: 50,
      coinbase: true,
    });
    expect((await get('/v1/accounts/carol')).body).toMatchObject({ balance: 20, history: [{ direction: 'credit', counterparty: 'miner-a' }] });
    expect((await get('/v1/accounts/miner-b')).body).toMatchObject({ balance: 50 });
    expect((await get('/v1/accounts/0?limit=1')).body).toMatchObject({
      balance: -150,
      overdrawn: false,
      overdrafts: 0,
      transactionCount: 3,
      history: [{ transactionId: 'coinbase:1', direction: 'debit', counterparty: 'miner-a', coinbase: true }],
    });
  });

  it('reports rejections, forks, commit lag, coverage anomalies and overdrafts', async () => {
    const { status, body } = await get('/v1/audit');
    expect(status).toBe(200);
    validate('AuditReport', body);
    expect(body.anomalies).toEqual({
      total: 1,
      recent: [{ offset: 6, claimedIndex: 4, claimedMiner: 'miner-x', partition: 1, claimedThrough: 9, detail: 'partition 1 ends at 1', observedAt: new Date(now).toISOString() }],
    });
    const report = body as never as {
      rejected: { total: number; byReason: Record<string, number>; recent: Array<Record<string, unknown>> };
      forks: { total: number; recent: Array<Record<string, unknown>> };
      commitLag: unknown[];
      overdrafts: { total: number; overdrawnAccountCount: number; overdrawnAccounts: unknown[] };
    };
    expect(report.rejected.total).toBe(2);
    expect(report.rejected.byReason).toMatchObject({ malformed: 1, stale: 1, fork: 0 });
    expect(report.rejected.recent.map((record) => [record.offset, record.reason])).toEqual([
      [4, 'stale'],
      [2, 'malformed'],
    ]);
    expect(report.forks).toMatchObject({ total: 1, recent: [{ offset: 4, claimedIndex: 2, canonicalHashAtIndex: blocks[2]?.hash }] });
    expect(report.commitLag).toEqual([
      { partition: 0, pending: 1, oldestAgeSeconds: 5, oldestTimestamp: now - 5_000 },
      { partition: 1, pending: 1, oldestAgeSeconds: 30, oldestTimestamp: now - 30_000 },
    ]);
    expect(report.overdrafts).toMatchObject({ total: 3, overdrawnAccountCount: 1, overdrawnAccounts: [{ account: 'alice', balance: -9, overdrafts: 3 }] });
    now += 10_000;
    expect(((await get('/v1/audit?limit=1')).body as never as { commitLag: Array<{ oldestAgeSeconds: number }>; rejected: { recent: unknown[] } }).commitLag[1]?.oldestAgeSeconds).toBe(40);
    expect(((await get('/v1/audit?limit=1')).body as never as { rejected: { recent: unknown[] } }).rejected.recent).toHaveLength(1);
  });

  it('serves its OpenAPI document', async () => {
    const { status, body } = await get('/openapi.json');
    expect(status).toBe(200);
    expect(body).toEqual(buildOpenApiDocument());
  });
});
