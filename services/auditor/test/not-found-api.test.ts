// The transaction route's read-your-writes (routes.ts over domain/not-found-answer.ts; an AuditorState fed
// directly, the topic check scripted): an id found nowhere is looked up again after the transactions topic was
// checked, and is `unknown` only when the check says every record was read; otherwise a retryable 503 that
// the OpenAPI document declares. The check on a real broker: transactions-read.integration.test.ts.
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeServer, createHttpApp } from '@chainlog/core/http';
import { createLogger } from '@chainlog/core/logging';
import { createMetricsRegistry } from '@chainlog/core/metrics';
import { encodeBlock } from '@chainlog/core/protocol';
import { AuditorState } from '../src/domain/auditor-state.js';
import type { NotFoundOutcome, TransactionsRead } from '../src/domain/not-found-answer.js';
import { buildOpenApiDocument } from '../src/http/openapi.js';
import { PENDING_RETRY_SECONDS, registerApiRoutes } from '../src/http/routes.js';
import { ChainBuilder, PARAMS, topicTransaction } from './support/chain-builder.js';
import { listenOnFreePort } from './support/listen.js';
import { openApiValidator } from './support/openapi-validator.js';

const TOPIC = 'tx-not-found';
const validate = openApiValidator();
let server: Server;
let base: string;
let state: AuditorState;
/** What the next topic check does and answers; `checks` counts them. */
let check: () => TransactionsRead = () => ({ outcome: 'read' });
let checks = 0;
const outcomes: NotFoundOutcome[] = [];

async function get(path: string): Promise<{ status: number; body: Record<string, unknown>; retryAfter: string | null }> {
  const response = await fetch(`${base}${path}`);
  return { status: response.status, body: (await response.json()) as Record<string, unknown>, retryAfter: response.headers.get('retry-after') };
}

beforeAll(async () => {
  const builder = new ChainBuilder();
  builder.next({ transactions: [topicTransaction(TOPIC, 0, 0)], sources: [{ topic: TOPIC, partition: 0, firstOffset: 0, lastOffset: 0 }] });
  state = new AuditorState({ params: PARAMS, transactionsTopic: TOPIC, pendingTrackLimit: 1 });
  for (const block of builder.blocks) {
    const result = state.chain.apply(encodeBlock(block));
    if (result.accepted) state.accept(result.block, block.index);
  }
  const { app, finish } = createHttpApp({ logger: createLogger('auditor-test', 'silent'), registry: createMetricsRegistry('auditor-test'), readiness: () => ({ ready: true }) });
  registerApiRoutes(app, {
    state,
    openapi: buildOpenApiDocument(),
    progress: () => ({ caughtUp: true, appliedOffset: 1 }),
    transactionsRead: () => {
      checks++;
      return Promise.resolve(check());
    },
    onNotFound: (outcome) => outcomes.push(outcome),
  });
  finish();
  ({ server, base } = await listenOnFreePort(app));
});

afterAll(async () => {
  await closeServer(server, 1000);
});

describe('a transaction lookup that finds nothing at first', () => {
  it('answers what it finds without checking the topic', async () => {
    const before = checks;
    expect((await get(`/v1/transactions/tx:${TOPIC}:0:0`)).body).toMatchObject({ status: 'committed', blockIndex: 1 });
    expect(checks).toBe(before);
  });

  it('answers pending for a record the check made the follower read (the record acknowledged just before the request)', async () => {
    check = () => {
      state.pending.observe(0, 1, 'just-acknowledged', Date.now());
      return { outcome: 'read' };
    };
    const { status, body } = await get('/v1/transactions/just-acknowledged');
    expect(status).toBe(200);
    validate('PendingTransaction', body);
    expect(body).toMatchObject({ status: 'pending', partition: 0, offset: 1 });
    expect(outcomes.at(-1)).toBe('found');
  });

  it('answers 404 unknown once every record on the topic is read and none has the id', async () => {
    check = () => ({ outcome: 'read' });
    const before = checks;
    const { status, body } = await get('/v1/transactions/never-sent');
    expect(status).toBe(404);
    validate('UnknownTransaction', body);
    expect(body).toMatchObject({ status: 'unknown', transactionId: 'never-sent' });
    expect(checks).toBe(before + 1);
    expect(outcomes.at(-1)).toBe('unknown');
  });

  it('answers 503 pending-catching-up with Retry-After when the follower has not read up to the ends', async () => {
    check = () => ({ outcome: 'behind', unread: [{ partition: 0, position: 2, end: 7 }] });
    const { status, body, retryAfter } = await get('/v1/transactions/not-read-yet');
    expect(status).toBe(503);
    expect(retryAfter).toBe(String(PENDING_RETRY_SECONDS));
    validate('PendingCatchingUp', body);
    expect(body.error).toMatchObject({ code: 'pending-catching-up', partitionsBehind: 1, recordsBehind: 5 });
    expect(outcomes.at(-1)).toBe('pending-catching-up');
  });

  it('answers 503 pending-catching-up when the end offsets could not be fetched', async () => {
    check = () => ({ outcome: 'unreachable', detail: 'the broker did not answer within 2000 ms' });
    const { status, body } = await get('/v1/transactions/broker-down');
    expect(status).toBe(503);
    validate('PendingCatchingUp', body);
    expect((body.error as { message: string }).message).toContain('did not answer within 2000 ms');
  });

  it('answers 503 pending-untracked while pending transactions beyond the track limit may hold the id', async () => {
    check = () => ({ outcome: 'read' });
    // The track limit is 1 and 'just-acknowledged' is indexed: this one is counted, not indexed.
    state.pending.observe(0, 2, 'beyond-the-limit', Date.now());
    const { status, body, retryAfter } = await get('/v1/transactions/beyond-the-limit');
    expect(status).toBe(503);
    expect(retryAfter).toBe(String(PENDING_RETRY_SECONDS));
    validate('PendingUntracked', body);
    expect(body.error).toMatchObject({ code: 'pending-untracked', untrackedPending: 1 });
    expect(outcomes.at(-1)).toBe('pending-untracked');
  });
});
