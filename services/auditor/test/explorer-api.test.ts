// What the explorer reads beyond the query API: pages newest first (blocks and account history), block
// headers without transactions, the live view as JSON and as server-sent events, and the explorer's
// static files with their security and cache headers. Responses are checked against the OpenAPI schemas.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeServer, createHttpApp } from '@chainlog/core/http';
import { createLogger } from '@chainlog/core/logging';
import { createMetricsRegistry } from '@chainlog/core/metrics';
import { computeBlockHash, encodeBlock, type Block } from '@chainlog/core/protocol';
import { AuditorState } from '../src/domain/auditor-state.js';
import { commitRate, liveView, RATE_WINDOW_MS } from '../src/domain/live-stats.js';
import { EXPLORER_CSP, registerExplorer } from '../src/http/explorer-assets.js';
import { LiveStream } from '../src/http/live-stream.js';
import { buildOpenApiDocument } from '../src/http/openapi.js';
import { registerApiRoutes } from '../src/http/routes.js';
import { ChainBuilder, PARAMS, signedTransaction } from './support/chain-builder.js';
import { openApiValidator } from './support/openapi-validator.js';
import { listenOnFreePort } from './support/listen.js';

const TOPIC = 'tx-explorer';
const validate = openApiValidator();
/** Blocks 1..25 are mined a second apart ending at NOW; block k pays `payer` k times… once, to `payee`. */
const BLOCKS = 25;
const NOW = 1_700_000_000_000;
let state: AuditorState;
let blocks: Block[];
let server: Server;
let base: string;
let live: LiveStream;
let assets: string;

async function get(path: string): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const response = await fetch(`${base}${path}`);
  return { status: response.status, body: (await response.json()) as Record<string, unknown>, headers: response.headers };
}

beforeAll(async () => {
  state = new AuditorState({ params: PARAMS, transactionsTopic: TOPIC, clock: () => NOW });
  const builder = new ChainBuilder();
  for (let k = 1; k <= BLOCKS; k++) {
    builder.next({ transactions: [signedTransaction(`pay-${k}`, 'payer', 'payee', k)], timestamp: NOW - (BLOCKS - k) * 1000 });
  }
  blocks = builder.blocks;
  blocks.forEach((block, offset) => {
    const result = state.chain.apply(encodeBlock(block));
    if (!result.accepted) throw new Error(`block ${block.index} rejected: ${result.detail}`);
    state.accept(result.block, offset);
  });
  assets = mkdtempSync(join(tmpdir(), 'chainlog-explorer-assets-'));
  mkdirSync(join(assets, 'assets'));
  writeFileSync(join(assets, 'index.html'), '<!doctype html><title>explorer</title>');
  writeFileSync(join(assets, 'assets', 'index-abc123.js'), 'console.log(1);');

  const { app, finish } = createHttpApp({
    logger: createLogger('auditor-test', 'silent'),
    registry: createMetricsRegistry('auditor-test'),
    readiness: () => ({ ready: true }),
  });
  registerApiRoutes(app, { state, openapi: buildOpenApiDocument(), progress: () => ({ caughtUp: true, appliedOffset: BLOCKS }), transactionsRead: () => Promise.resolve({ outcome: 'read' as const }) });
  live = new LiveStream({ snapshot: () => liveView(state, true, Date.now()), pollMs: 20, intervalMs: 100, maxClients: 2 });
  live.register(app);
  expect(registerExplorer(app, assets)).toBe(true);
  finish();
  ({ server, base } = await listenOnFreePort(app));
});

afterAll(async () => {
  live.close();
  await closeServer(server, 1000);
  rmSync(assets, { recursive: true, force: true });
});

describe('blocks newest first', () => {
  it('starts at the head and walks down to genesis page by page, each page bounded', async () => {
    const seen: number[] = [];
    let from: number | null | undefined;
    for (let pages = 0; from !== null; pages++) {
      expect(pages).toBeLessThan(10);
      const { status, body } = await get(`/v1/blocks?order=desc&limit=10${from === undefined ? '' : `&from=${from}`}`);
      expect(status).toBe(200);
      validate('BlockPage', body);
      expect(body).toMatchObject({ order: 'desc', height: BLOCKS, limit: 10 });
      seen.push(...(body.blocks as Array<{ index: number }>).map(({ index }) => index));
      from = body.next as number | null;
    }
    expect(seen).toEqual(Array.from({ length: BLOCKS + 1 }, (_, i) => BLOCKS - i));
  });

  it('keeps a page link made before the head moved, and clamps a from beyond the head', async () => {
    const { body } = await get('/v1/blocks?order=desc&from=3&limit=2');
    expect(body).toMatchObject({ from: 3, next: 1 });
    expect((body.blocks as Array<{ index: number }>).map(({ index }) => index)).toEqual([3, 2]);
    const beyond = await get('/v1/blocks?order=desc&from=900&limit=1');
    expect(beyond.body).toMatchObject({ from: BLOCKS, next: BLOCKS - 1 });
  });

  it('still lists upwards by default', async () => {
    const { body } = await get('/v1/blocks?from=24&limit=5');
    expect(body).toMatchObject({ order: 'asc', from: 24, next: null });
    expect((body.blocks as Array<{ index: number }>).map(({ index }) => index)).toEqual([24, 25]);
  });

  it('rejects an unknown order with a 400 naming the parameter', async () => {
    for (const query of ['order=newest', 'order=asc&order=desc']) {
      const { status, body } = await get(`/v1/blocks?${query}`);
      expect(status).toBe(400);
      expect(body).toMatchObject({ error: { code: 'bad-parameter', parameter: 'order' } });
    }
  });
});

describe('block headers', () => {
  it('are the block without its transactions, enough to recompute its hash', async () => {
    const block = blocks[7] as Block;
    const { status, body } = await get('/v1/blocks/7/header');
    expect(status).toBe(200);
    validate('BlockHeaderResponse', body);
    const header = body.header as Block;
    expect(header).not.toHaveProperty('transactions');
    expect(header).toMatchObject({ index: 7, hash: block.hash, merkleRoot: block.merkleRoot, signature: block.signature, nonce: block.nonce });
    expect(computeBlockHash(header)).toBe(block.hash);
    expect(body).toMatchObject({ transactionCount: 2, confirmations: BLOCKS - 7 + 1 });
  });

  it('answer 404 beyond the head', async () => {
    const { status, body } = await get(`/v1/blocks/${BLOCKS + 1}/header`);
    expect(status).toBe(404);
    expect(body).toMatchObject({ error: { code: 'not-found' } });
  });
});

describe('account history newest first', () => {
  it('pages from the newest transaction down to the oldest', async () => {
    const ids: string[] = [];
    let from: number | null | undefined;
    for (let pages = 0; from !== null; pages++) {
      expect(pages).toBeLessThan(10);
      const { body } = await get(`/v1/accounts/payer?order=desc&limit=7${from === undefined ? '' : `&from=${from}`}`);
      validate('Account', body);
      ids.push(...(body.history as Array<{ transactionId: string }>).map(({ transactionId }) => transactionId));
      from = body.next as number | null;
    }
    expect(ids).toEqual(Array.from({ length: BLOCKS }, (_, i) => `pay-${BLOCKS - i}`));
  });
});

describe('the live view', () => {
  it('counts user transactions of the blocks mined within the window', () => {
    // Blocks 1..25 are a second apart, the last at NOW: 25 blocks of one user transaction each.
    expect(commitRate(state, NOW)).toEqual({ transactionsPerSecond: round(BLOCKS / 60), blocksPerMinute: BLOCKS, windowSeconds: 60 });
    // Ten seconds later the window starts after block 10.
    expect(commitRate(state, NOW + 10_000).blocksPerMinute).toBe(BLOCKS);
    expect(commitRate(state, NOW + RATE_WINDOW_MS - 5000).blocksPerMinute).toBe(5);
    expect(commitRate(state, NOW + RATE_WINDOW_MS + 1)).toMatchObject({ transactionsPerSecond: 0, blocksPerMinute: 0 });
  });

  it('is served as JSON for polling', async () => {
    const { status, body } = await get('/v1/chain/live');
    expect(status).toBe(200);
    validate('LiveView', body);
    expect(body.head).toMatchObject({ height: BLOCKS, hash: blocks[BLOCKS]?.hash, caughtUp: true });
  });

  it('streams as server-sent events, and refuses streams beyond the limit', async () => {
    const controllers = [new AbortController(), new AbortController()];
    const responses = await Promise.all(controllers.map((controller) => fetch(`${base}/v1/chain/events`, { signal: controller.signal })));
    try {
      const [first] = responses as [Response, Response];
      expect(first.headers.get('content-type')).toMatch(/^text\/event-stream/);
      expect(first.headers.get('cache-control')).toMatch(/no-cache/);
      const events = await readEvents(first, 2);
      for (const event of events) {
        expect(event.event).toBe('live');
        validate('LiveView', JSON.parse(event.data));
      }
      const third = await fetch(`${base}/v1/chain/events`);
      expect(third.status).toBe(503);
      expect(third.headers.get('retry-after')).toBe('10');
      expect(await third.json()).toMatchObject({ error: { code: 'too-many-streams' } });
    } finally {
      controllers.forEach((controller) => controller.abort());
    }
  });
});

describe('the explorer files', () => {
  it('serves the page at / with a strict content security policy, revalidated every time', async () => {
    const response = await fetch(`${base}/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(response.headers.get('content-security-policy')).toBe(EXPLORER_CSP);
    expect(EXPLORER_CSP).toContain("script-src 'self';");
    expect(EXPLORER_CSP).not.toContain('unsafe');
    expect(EXPLORER_CSP).toContain("frame-ancestors 'none'");
    expect(response.headers.get('cache-control')).toBe('no-cache');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await response.text()).toContain('<title>explorer</title>');
  });

  it('caches content-hashed assets for a year and answers JSON 404s for missing ones', async () => {
    const asset = await fetch(`${base}/assets/index-abc123.js`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const missing = await get('/assets/nope.js');
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ error: { code: 'not-found' } });
  });

  it('registers nothing when the explorer is not built', () => {
    const { app } = createHttpApp({ logger: createLogger('auditor-test', 'silent'), registry: createMetricsRegistry('t'), readiness: () => ({ ready: true }) });
    expect(registerExplorer(app, join(assets, 'missing'))).toBe(false);
  });
});

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

/** The first `count` events of a server-sent event stream. */
async function readEvents(response: Response, count: number): Promise<Array<{ event: string; data: string }>> {
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  const events: Array<{ event: string; data: string }> = [];
  let buffer = '';
  while (events.length < count) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const fields = Object.fromEntries(block.split('\n').map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 2)]));
      if (fields.event !== undefined) events.push({ event: fields.event, data: fields.data ?? '' });
    }
  }
  return events;
}
