// Lookup latency of a running auditor over HTTP: transaction status (which carries the inclusion proof),
// the same through the proof's block header, and account balance, for random committed transactions and
// their accounts, one request at a time on a keep-alive connection. The baseline in the same process is
// /healthz: the HTTP round trip with no lookup at all.
import { quantile } from './report.js';

export interface LookupSample {
  readonly ids: readonly string[];
  readonly accounts: readonly string[];
}

export interface LookupFigures {
  readonly what: string;
  readonly requests: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Responses that were not 200 (a lookup that failed is a finding, not a sample). */
  readonly failures: number;
}

async function getJson(base: string, path: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${base}${path}`);
  return { status: response.status, body: await response.json() };
}

/** Random committed transactions (their ids and accounts) from `blocks` random blocks of the chain, read through the API. */
export async function sampleCommitted(base: string, blocks: number, perBlock: number, random: () => number = Math.random): Promise<LookupSample> {
  const head = (await getJson(base, '/v1/chain/head')).body as { height: number };
  const ids: string[] = [];
  const accounts = new Set<string>();
  for (let i = 0; i < blocks; i++) {
    const index = 1 + Math.floor(random() * head.height);
    const { status, body } = await getJson(base, `/v1/blocks/${index}`);
    if (status !== 200) throw new Error(`block ${index}: HTTP ${status} ${JSON.stringify(body).slice(0, 300)}`);
    const transactions = (body as { block: { transactions: { id: string; from: string; to: string }[] } }).block.transactions;
    for (let j = 0; j < perBlock; j++) {
      const transaction = transactions[Math.floor(random() * transactions.length)];
      if (transaction === undefined) continue;
      ids.push(transaction.id);
      accounts.add(transaction.from === '0' ? transaction.to : transaction.from);
    }
  }
  return { ids: shuffle(ids, random), accounts: shuffle([...accounts], random) };
}

function shuffle<T>(values: T[], random: () => number): T[] {
  for (let i = values.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [values[i], values[j]] = [values[j] as T, values[i] as T];
  }
  return values;
}

async function timed(base: string, what: string, paths: readonly string[]): Promise<LookupFigures> {
  const times: number[] = [];
  let failures = 0;
  for (const path of paths) {
    const started = performance.now();
    const response = await fetch(`${base}${path}`);
    await response.arrayBuffer();
    times.push(performance.now() - started);
    if (response.status !== 200) failures++;
  }
  return { what, requests: paths.length, p50Ms: quantile(times, 0.5), p99Ms: quantile(times, 0.99), failures };
}

/** p50/p99 of each kind of lookup, after a warm-up of the connection (the first requests are not counted). */
export async function measureLookups(base: string, sample: LookupSample, count: number): Promise<LookupFigures[]> {
  const pick = <T>(values: readonly T[], n: number): T[] => Array.from({ length: n }, (_, i) => values[i % values.length] as T);
  await timed(base, 'warm-up', pick(['/healthz'], 50));
  const ids = pick(sample.ids, count);
  const accounts = pick(sample.accounts, count);
  return [
    await timed(base, 'baseline: GET /healthz (HTTP round trip, no lookup)', pick(['/healthz'], count)),
    await timed(base, 'status + inclusion proof: GET /v1/transactions/:id', ids.map((id) => `/v1/transactions/${encodeURIComponent(id)}`)),
    await timed(base, 'balance: GET /v1/accounts/:id?limit=1', accounts.map((account) => `/v1/accounts/${encodeURIComponent(account)}?limit=1`)),
    await timed(base, 'balance + 20 history entries: GET /v1/accounts/:id', accounts.map((account) => `/v1/accounts/${encodeURIComponent(account)}`)),
  ];
}
