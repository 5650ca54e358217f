// The query API of an auditor that continued from a checkpoint and has not back-filled the blocks below it
// yet (an AuditorState fed directly, no Kafka): what it cannot decide is a retryable 503 index-building with
// Retry-After and the back-fill's progress, as the OpenAPI document declares; what it holds is answered.
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeServer, createHttpApp } from '@chainlog/core/http';
import { createLogger } from '@chainlog/core/logging';
import { createMetricsRegistry } from '@chainlog/core/metrics';
import { type Block, Chain, type ChainState, encodeBlock } from '@chainlog/core/protocol';
import { AuditorState } from '../src/domain/auditor-state.js';
import { buildOpenApiDocument } from '../src/http/openapi.js';
import { INDEX_BUILDING_RETRY_SECONDS, registerApiRoutes } from '../src/http/routes.js';
import { ChainBuilder, PARAMS, topicTransaction } from './support/chain-builder.js';
import { listenOnFreePort } from './support/listen.js';
import { openApiValidator } from './support/openapi-validator.js';

const TOPIC = 'tx-index-building';
const WINDOWED = { ...PARAMS, replayWindowMs: 60_000 };
const validate = openApiValidator();
let server: Server;
let base: string;
let blocks: Block[];
let state: AuditorState;

async function get(path: string): Promise<{ status: number; body: Record<string, unknown>; retryAfter: string | null }> {
  const response = await fetch(`${base}${path}`);
  return { status: response.status, body: (await response.json()) as Record<string, unknown>, retryAfter: response.headers.get('retry-after') };
}

beforeAll(async () => {
  const builder = new ChainBuilder();
  for (let block = 0; block < 4; block++) {
    builder.next({
      transactions: [topicTransaction(TOPIC, 0, block, { to: 'bob' })],
      sources: [{ topic: TOPIC, partition: 0, firstOffset: block, lastOffset: block }],
    });
  }
  blocks = builder.blocks;
  // The checkpoint at block 2: its state, as a replay computes it.
  const replay = new Chain(WINDOWED);
  for (const block of blocks.slice(0, 3)) replay.apply(encodeBlock(block));
  const checkpoint = replay.state() as ChainState;
  state = new AuditorState({ params: WINDOWED, transactionsTopic: TOPIC });
  state.chain.continueFrom(checkpoint);
  state.backfill(checkpoint.tip, 2, checkpoint.transactionCount - checkpoint.tip.transactions.length);
  for (const block of blocks.slice(3)) {
    const result = state.chain.apply(encodeBlock(block));
    if (result.accepted) state.accept(result.block, block.index);
  }
  const { app, finish } = createHttpApp({ logger: createLogger('auditor-test', 'silent'), registry: createMetricsRegistry('auditor-test'), readiness: () => ({ ready: true }) });
  registerApiRoutes(app, { state, openapi: buildOpenApiDocument(), progress: () => ({ caughtUp: true, appliedOffset: 4 }), transactionsRead: () => Promise.resolve({ outcome: 'read' as const }) });
  finish();
  ({ server, base } = await listenOnFreePort(app));
});

afterAll(async () => {
  await closeServer(server, 1000);
});

describe('the query API while the index is back-filled', () => {
  it('answers what the index holds: the blocks from the checkpoint on and their transactions', async () => {
    // Genesis has no transaction; blocks 1..4 a coinbase and one record each, counted from genesis.
    expect((await get('/v1/chain/head')).body).toMatchObject({ height: 4, hash: blocks[4]?.hash, transactionCount: 4 * 2 });
    const late = await get(`/v1/transactions/${blocks[4]?.transactions[1]?.id}`);
    expect(late.status).toBe(200);
    expect(late.body).toMatchObject({ status: 'committed', blockIndex: 4, position: 1 });
    expect((await get('/v1/blocks/2')).status).toBe(200);
    expect((await get('/v1/blocks?from=2&limit=3')).status).toBe(200);
    expect((await get('/v1/blocks/5')).status).toBe(404);
  });

  it.each([
    ['a transaction committed below the checkpoint', () => `/v1/transactions/${blocks[1]?.transactions[1]?.id}`],
    ['an id the back-fill may still find', () => '/v1/transactions/never-committed'],
    ['a block below the checkpoint', () => '/v1/blocks/1'],
    ['a page reaching below the checkpoint', () => '/v1/blocks?order=desc'],
    ['an account (balances need every block)', () => '/v1/accounts/bob'],
  ])('answers 503 index-building with Retry-After for %s', async (_what, path) => {
    const { status, body, retryAfter } = await get(path());
    expect(status).toBe(503);
    expect(retryAfter).toBe(String(INDEX_BUILDING_RETRY_SECONDS));
    validate('IndexBuilding', body);
    expect(body.error).toMatchObject({ code: 'index-building', height: 4, contiguousHeight: -1, missingBlocks: 2, ledgerHeight: -1 });
  });

  it('answers from the back-filled blocks once they are indexed, and 404 for an id no block has', async () => {
    const verifier = new Chain(WINDOWED);
    for (const block of blocks.slice(0, 3)) {
      const result = verifier.apply(encodeBlock(block));
      if (result.accepted) state.backfill(result.block, block.index, verifier.transactionCount - block.transactions.length);
    }
    while (state.ledgerBehind) state.advanceLedger(1);
    expect((await get(`/v1/transactions/${blocks[1]?.transactions[1]?.id}`)).body).toMatchObject({ status: 'committed', blockIndex: 1 });
    expect((await get('/v1/transactions/never-committed')).status).toBe(404);
    expect((await get('/v1/accounts/bob')).body).toMatchObject({ balance: 12, transactionCount: 4 });
  });
});
