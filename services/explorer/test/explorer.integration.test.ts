// The explorer in a real browser, light enough for `npm test` (about 20 s, no `npm start`): the explorer built
// into a temporary folder, served by the auditor's own HTTP app (registerAuditorHttp) over a small signed chain
// fed to its read model, with AUTH_TOKENS set; Debian's chromium driven by playwright-core (installed by the
// test bootstrap's apt step). It checks what only a browser shows: the page loads under the strict
// Content-Security-Policy and runs the protocol's code there (proofs, hashes and signatures verify, no eval), it
// asks for the access token and sends it, and the audit page lists source-coverage anomalies.
// `npm run test:explorer` is the full end-to-end suite against `npm start`.
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { closeServer, createHttpApp } from '@chainlog/core/http';
import { createLogger } from '@chainlog/core/logging';
import { createMetricsRegistry } from '@chainlog/core/metrics';
import { encodeBlock } from '@chainlog/core/protocol';
import { AuditorState } from '../../auditor/src/domain/auditor-state.js';
import { liveView } from '../../auditor/src/domain/live-stats.js';
import { registerAuditorHttp } from '../../auditor/src/http/app.js';
import { LiveStream } from '../../auditor/src/http/live-stream.js';
import { buildOpenApiDocument } from '../../auditor/src/http/openapi.js';
import { ChainBuilder, PARAMS, signedTransaction } from '../../auditor/test/support/chain-builder.js';
import { launchBrowser } from './support/browser.js';
import { listenOnFreePort } from '../../auditor/test/support/listen.js';

const TOKEN = 'light-explorer-test-token-42';
const WAIT = { timeout: 20_000 };
let dist: string;
let server: Server;
let live: LiveStream;
let base: string;
let browser: Browser;
/** Uncaught errors, CSP violations and console errors other than the 401/404 answers the pages expect. */
const problems: string[] = [];
const pages: Page[] = [];

beforeAll(async () => {
  dist = mkdtempSync(join(tmpdir(), 'chainlog-explorer-light-'));
  await build({ configFile: fileURLToPath(new URL('../vite.config.ts', import.meta.url)), logLevel: 'error', build: { outDir: dist, emptyOutDir: true } });

  const state = new AuditorState({ params: PARAMS, transactionsTopic: 'tx-light' });
  const builder = new ChainBuilder();
  builder.next({ transactions: [signedTransaction('pay-1', 'alice', 'bob', 3), signedTransaction('pay-2', 'bob', 'carol', 1)] });
  builder.next({ transactions: [signedTransaction('pay-3', 'carol', 'alice', 2)] });
  builder.blocks.forEach((block, offset) => {
    const result = state.chain.apply(encodeBlock(block));
    if (!result.accepted) throw new Error(`block ${block.index} rejected: ${result.detail}`);
    state.accept(result.block, offset);
  });
  state.recordAnomaly({ offset: 9, claimedIndex: 3, claimedMiner: 'miner-x', partition: 1, claimedThrough: 40, detail: 'partition 1 ends at 12' });

  const { app, finish } = createHttpApp({ logger: createLogger('explorer-light', 'silent'), registry: createMetricsRegistry('explorer-light'), readiness: () => ({ ready: true }) });
  live = new LiveStream({ snapshot: () => liveView(state, true, Date.now()) });
  const served = registerAuditorHttp(app, {
    api: { state, openapi: buildOpenApiDocument(), progress: () => ({ caughtUp: true, appliedOffset: 1 }), transactionsRead: () => Promise.resolve({ outcome: 'read' as const }) },
    live,
    explorerDir: dist,
    authTokens: [TOKEN],
  });
  expect(served).toBe(true);
  finish();
  ({ server, base } = await listenOnFreePort(app));
  base = `${base}/`;
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  live?.close();
  if (server !== undefined) await closeServer(server, 1000);
  rmSync(dist, { recursive: true, force: true });
});

afterEach(async () => {
  for (const page of pages.splice(0)) await page.context().close();
  expect(problems.splice(0)).toEqual([]);
});

async function open(hash: string): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  pages.push(page);
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    const text = message.text();
    if (message.type() === 'error' && !/status of 40[14]/.test(text)) problems.push(`console: ${text}`);
  });
  await page.goto(`${base}${hash}`);
  return page;
}

async function signIn(page: Page, token: string): Promise<void> {
  await page.getByLabel('Access token', { exact: true }).fill(token, WAIT);
  // The form keeps the token and loads the page again with it.
  await Promise.all([page.waitForEvent('load', WAIT), page.getByRole('button', { name: 'Use this token' }).click()]);
}

describe('the explorer in chromium (light)', () => {
  it('asks for the access token, refuses a wrong one, then verifies a proof with the right one under the strict CSP', async () => {
    const page = await open('#/tx/pay-2');
    await page.getByText('This auditor requires an access token.').waitFor(WAIT);
    await signIn(page, 'not-the-right-token-at-all');
    await page.getByText('The auditor refused this access token.').waitFor(WAIT);
    await signIn(page, TOKEN);
    await page.locator('[data-status="committed"]').waitFor(WAIT);
    await page.locator('main [data-verdict="verified"]').first().waitFor(WAIT);
    for (const check of ['Inclusion proof', 'Block hash', 'Proof of work', 'Transaction signature']) {
      expect(await page.locator('main li.passed', { has: page.locator('strong', { hasText: new RegExp(`^${check}$`) }) }).count(), check).toBe(1);
    }
  });

  it('keeps the token for the tab, polls the live head with it, and forgets it on request', async () => {
    const page = await open('#/');
    await signIn(page, TOKEN);
    await page.getByTestId('head-height').filter({ hasText: '#2' }).waitFor(WAIT);
    await Promise.all([page.waitForEvent('load', WAIT), page.getByRole('button', { name: 'Forget the access token' }).click()]);
    await page.getByLabel('Access token', { exact: true }).waitFor(WAIT);
  });

  it('lists source-coverage anomalies on the audit page', async () => {
    const page = await open('#/audit');
    await signIn(page, TOKEN);
    await page.getByTestId('anomalies-total').filter({ hasText: '1' }).waitFor(WAIT);
    const row = page.locator('section[aria-labelledby="anomalies-title"] tbody tr');
    expect(await row.count()).toBe(1);
    expect(await row.textContent()).toContain('partition 1 ends at 12');
  });
});
