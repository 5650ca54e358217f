// The auditor's HTTP app with AUTH_TOKENS set: the explorer's page loads without a token (it is public code
// and must load before it can send one), while every ledger read, the live view included, needs the token.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeServer, createHttpApp } from '@chainlog/core/http';
import { createLogger } from '@chainlog/core/logging';
import { createMetricsRegistry } from '@chainlog/core/metrics';
import { AuditorState } from '../src/domain/auditor-state.js';
import { liveView } from '../src/domain/live-stats.js';
import { registerAuditorHttp } from '../src/http/app.js';
import { LiveStream } from '../src/http/live-stream.js';
import { buildOpenApiDocument } from '../src/http/openapi.js';
import { PARAMS } from './support/chain-builder.js';
import { listenOnFreePort } from './support/listen.js';

const TOKEN = 'explorer-test-token-0123456789';
let server: Server;
let base: string;
let assets: string;
let live: LiveStream;

beforeAll(async () => {
  const state = new AuditorState({ params: PARAMS, transactionsTopic: 'tx-auth' });
  assets = mkdtempSync(join(tmpdir(), 'chainlog-explorer-auth-'));
  mkdirSync(join(assets, 'assets'));
  writeFileSync(join(assets, 'index.html'), '<!doctype html><title>explorer</title>');
  writeFileSync(join(assets, 'assets', 'index-abc123.js'), 'console.log(1);');
  const { app, finish } = createHttpApp({ logger: createLogger('auditor-test', 'silent'), registry: createMetricsRegistry('auditor-test'), readiness: () => ({ ready: true }) });
  live = new LiveStream({ snapshot: () => liveView(state, true, Date.now()) });
  const served = registerAuditorHttp(app, {
    api: { state, openapi: buildOpenApiDocument(), progress: () => ({ caughtUp: true, appliedOffset: -1 }), transactionsRead: () => Promise.resolve({ outcome: 'read' as const }) },
    live,
    explorerDir: assets,
    authTokens: [TOKEN],
  });
  expect(served).toBe(true);
  finish();
  ({ server, base } = await listenOnFreePort(app));
});

afterAll(async () => {
  live.close();
  await closeServer(server, 1000);
  rmSync(assets, { recursive: true, force: true });
});

const status = async (path: string, token?: string): Promise<number> =>
  (await fetch(`${base}${path}`, token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } })).status;

describe('the auditor with AUTH_TOKENS', () => {
  it('serves the explorer page and its assets without a token', async () => {
    expect(await status('/')).toBe(200);
    expect(await status('/assets/index-abc123.js')).toBe(200);
  });

  it('answers every ledger read 401 without the token and 200 with it', async () => {
    for (const path of ['/v1/chain/head', '/v1/chain/live', '/v1/audit', '/v1/blocks', '/openapi.json']) {
      expect(await status(path), path).toBe(401);
      expect(await status(path, 'not-the-token-at-all'), path).toBe(401);
      expect(await status(path, TOKEN), path).toBe(200);
    }
    const refused = await fetch(`${base}/v1/chain/head`);
    expect(refused.headers.get('www-authenticate')).toMatch(/^Bearer realm=/);
    expect(await refused.json()).toMatchObject({ error: { code: 'unauthorized' } });
  });

  it('keeps health and readiness open', async () => {
    expect(await status('/healthz')).toBe(200);
    expect(await status('/readyz')).toBe(200);
  });
});
