// Test helpers: real blocks built with the protocol, and an in-process CLI run against a fake HTTP server.
import { assembleBlock, type Block, GENESIS_BLOCK, inclusionProof, sealBlock, type Transaction } from '@chainlog/core/protocol';
import { runCli } from '../src/cli.js';
import type { CommittedTransactionView } from '@chainlog/core/api';

export const TRANSACTIONS: Transaction[] = [
  { id: 'tx-1', from: 'alice', to: 'bob', amount: 3, timestamp: 1_700_000_000_000 },
  { id: 'tx-2', from: 'bob', to: 'carol', amount: 2, timestamp: 1_700_000_000_001 },
  { id: 'tx-3', from: 'carol', to: 'dave', amount: 1, timestamp: 1_700_000_000_002 },
];

/** Block #1 on top of genesis with the three transactions (after the coinbase), difficulty 0. */
export function testBlock(): Block {
  const candidate = assembleBlock({
    previous: GENESIS_BLOCK,
    transactions: TRANSACTIONS,
    sources: [{ topic: 'transactions', partition: 0, firstOffset: 0, lastOffset: 2 }],
    miner: 'miner-0',
    timestamp: 1_700_000_001_000,
    difficulty: 0,
    reward: 50,
  });
  return sealBlock(candidate, 0);
}

/** What the auditor answers for a committed transaction of `block`. */
export function committedView(block: Block, id: string): CommittedTransactionView {
  const position = block.transactions.findIndex((transaction) => transaction.id === id);
  const proof = inclusionProof(block, id);
  if (position < 0 || proof === undefined) throw new Error(`${id} is not in block ${block.index}`);
  return {
    status: 'committed',
    transactionId: id,
    blockIndex: block.index,
    position,
    blockHash: block.hash,
    confirmations: 1,
    transaction: block.transactions[position] as Transaction,
    proof,
    merkleRoot: block.merkleRoot,
  };
}

export interface Request {
  method: string;
  url: string;
  body: unknown;
}

export type Route = (request: Request) => { status: number; body: unknown } | undefined;

/** A fetch that answers from the routes (first match wins) and records every request. */
export function fakeFetch(routes: Route[]): { fetch: typeof fetch; requests: Request[] } {
  const requests: Request[] = [];
  const fake = async (input: string | URL | globalThis.Request, init?: RequestInit): Promise<Response> => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const request: Request = {
      method: init?.method ?? 'GET',
      url,
      body: typeof init?.body === 'string' ? JSON.parse(init.body) : undefined,
    };
    requests.push(request);
    for (const route of routes) {
      const answer = route(request);
      if (answer !== undefined) {
        return new Response(JSON.stringify(answer.body), { status: answer.status, headers: { 'content-type': 'application/json' } });
      }
    }
    return new Response(JSON.stringify({ error: { code: 'not-found', message: `no route for ${request.method} ${url}` } }), { status: 404 });
  };
  return { fetch: fake as typeof fetch, requests };
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function run(
  argv: string[],
  options: {
    fetch?: typeof fetch;
    stdin?: string;
    stdinIsTTY?: boolean;
    env?: Record<string, string>;
    files?: Record<string, string>;
    signal?: AbortSignal;
  } = {},
): Promise<RunResult> {
  let stdout = '';
  let stderr = '';
  const stdinText = options.stdin;
  const stdin = Object.assign(
    (async function* () {
      if (stdinText !== undefined) yield Buffer.from(stdinText);
    })(),
    { isTTY: options.stdinIsTTY ?? stdinText === undefined },
  );
  let clock = 1_000_000;
  const code = await runCli({
    argv,
    env: options.env ?? {},
    stdout: { write: (chunk: string) => (stdout += chunk) },
    stderr: { write: (chunk: string) => (stderr += chunk) },
    stdin,
    signal: options.signal ?? new AbortController().signal,
    ...(options.fetch ? { fetch: options.fetch } : {}),
    readFile: async (path) => {
      const text = options.files?.[path];
      if (text === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
      return text;
    },
    // Time moves 100 ms per reading, so polling loops end quickly in tests.
    now: () => (clock += 100),
  });
  return { code, stdout, stderr };
}
