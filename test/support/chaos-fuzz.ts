// The hostile HTTP client: a bounded, seeded fuzz of ingest's POST /v1/transactions and the auditor's query
// API over raw node:http and node:net (so nothing normalises what we send): random and mutated JSON, invalid
// UTF-8, wrong content types and encodings (a gzip bomb too), huge bodies, deep nesting, odd paths, queries
// and methods, slow clients that dribble bytes, and many concurrent connections. The processes must answer
// every request without a 5xx (the broker is up), stay alive, and keep their memory bounded.
import { request, Agent } from 'node:http';
import { connect, type Socket } from 'node:net';
import { gzipSync, brotliCompressSync } from 'node:zlib';
import { expect } from 'vitest';
import { getJson, waitForHttp, type ServiceProcess } from './processes.js';
import { sleep, type ChaosBroker, type Outcomes, type Stack } from './chaos.js';
import { contractBreach, openApiCase, type OpenApiCase } from './chaos-openapi.js';

export interface FuzzCase {
  target: 'ingest' | 'auditor';
  label: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}

export interface FuzzOptions {
  ingestUrl: string;
  auditorUrl: string;
  random: () => number;
  /** Random requests (both services). */
  requests: number;
  concurrency: number;
  /** Clients that send a whole request one byte at a time, over about slowDurationMs. */
  slowClients: number;
  slowDurationMs: number;
  /** Clients that never finish their headers; with waitForSlowloris, wait until the server drops them. */
  slowloris: number;
  waitForSlowloris?: boolean;
  /** Connections opened at once, each with one request. */
  connections: number;
  /** Ids ingest acknowledged go here: they must be committed like any other. */
  outcomes?: Outcomes;
  idPrefix: string;
  /** Only requests for these services (default both). */
  targets?: FuzzCase['target'][];
}

export interface FuzzResult {
  requests: number;
  byStatus: Record<string, number>;
  fiveXx: { label: string; status: number; body: string }[];
  /** Requests whose connection the server closed before answering (e.g. while a refused body was still being sent). */
  noAnswer: string[];
  slowClients: { answered: number; statuses: Record<string, number>; maxHealthzMs: number };
  slowloris: { opened: number; closedByServer: number; closeMs: number[] };
  connections: { opened: number; answered: number; byStatus: Record<string, number> };
  acknowledged: number;
  /** Requests generated from the OpenAPI documents (chaos-openapi.ts) and the answers that broke their contract. */
  openApi: { requests: number; operations: string[]; breaches: string[] };
}

// A fresh connection per request: with keep-alive, a request sent on a socket the server is just closing as idle
// fails with "socket hang up" on the client side, which would read as a server fault.
const agent = new Agent({ keepAlive: false, maxSockets: 64 });

// Compressed once: gzipping 64 MiB blocks the test's event loop for seconds, which would stall the slow clients.
let bomb: Buffer | undefined;
const gzipBomb = (): Buffer => (bomb ??= gzipSync(Buffer.alloc(64 * 1024 * 1024, 0x20)));

function send(base: string, fuzz: FuzzCase, timeoutMs = 30_000): Promise<{ status: number; body: string }> {
  const url = new URL(base);
  return new Promise((resolve) => {
    const req = request(
      { host: url.hostname, port: url.port, method: fuzz.method, path: fuzz.path, headers: { ...fuzz.headers, ...(fuzz.body ? { 'content-length': String(fuzz.body.length) } : {}) }, agent, timeout: timeoutMs },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          if (size < 65_536) chunks.push(chunk);
          size += chunk.length;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', () => resolve({ status: res.statusCode ?? 0, body: '' }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    // A connection the server closed without an answer (e.g. after a 4xx it sends while we still write).
    req.on('error', (error) => resolve({ status: 0, body: error.message }));
    if (fuzz.body) req.end(fuzz.body);
    else req.end();
  });
}

// ---------------------------------------------------------------------------------------------------
// Generators.

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)] as T;
}

function randomString(random: () => number, max = 40): string {
  const alphabets = ['abcdefghijklmnopqrstuvwxyz', 'ABCXYZ0123456789._-:@', ' "\\/\n\t{}[]%', 'éü漢字🙂\u0000\u200b\ud800'];
  const alphabet = pick(random, alphabets);
  const length = Math.floor(random() * max);
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[Math.floor(random() * alphabet.length)];
  return out;
}

function randomJson(random: () => number, depth = 0): unknown {
  const roll = random();
  if (depth > 4 || roll < 0.35) {
    return pick(random, [
      () => null,
      () => random() < 0.5,
      () => Math.floor(random() * 1000) - 500,
      () => random() * 1e21,
      () => Number.MAX_SAFE_INTEGER + 2,
      () => -0,
      () => randomString(random),
      () => 'x'.repeat(Math.floor(random() * 5000)),
    ])();
  }
  if (roll < 0.65) return Array.from({ length: Math.floor(random() * 5) }, () => randomJson(random, depth + 1));
  const object: Record<string, unknown> = {};
  for (let i = Math.floor(random() * 5); i > 0; i--) object[pick(random, ['from', 'to', 'amount', 'id', 'timestamp', 'publicKey', 'signature', '__proto__', 'constructor', randomString(random, 10)])] = randomJson(random, depth + 1);
  return object;
}

/** Sends a path segment as raw as a request line allows: only bytes HTTP forbids there are %-encoded. */
function rawPath(value: string): string {
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    const char = String.fromCharCode(byte);
    out += byte <= 0x20 || byte >= 0x7f || '"<>\\^`{|}#?'.includes(char) ? `%${byte.toString(16).toUpperCase().padStart(2, '0')}` : char;
  }
  return out;
}

function mutatedTransaction(random: () => number, id: string): Record<string, unknown> {
  const tx: Record<string, unknown> = { id, from: `fuzz-${Math.floor(random() * 8)}`, to: `fuzz-${Math.floor(random() * 8)}`, amount: 1 + Math.floor(random() * 50) };
  const mutations = Math.floor(random() * 3);
  for (let i = 0; i < mutations; i++) {
    const field = pick(random, ['id', 'from', 'to', 'amount', 'timestamp', 'publicKey', 'signature', 'memo']);
    const action = random();
    if (action < 0.3) delete tx[field];
    else if (action < 0.8) tx[field] = randomJson(random, 3);
    else tx[field] = pick(random, ['0', '', 'a'.repeat(65), 'a'.repeat(129), '00'.repeat(32), 'ff'.repeat(64), Number.POSITIVE_INFINITY, 3.5, -1, 2 ** 53, '3']);
  }
  return tx;
}

const json = { 'content-type': 'application/json' };

export function fuzzCase(random: () => number, n: number, idPrefix: string): FuzzCase {
  const id = `${idPrefix}-${n}`;
  const kind = Math.floor(random() * 20);
  // A fifth of the requests come from the services' OpenAPI documents, checked against what they declare.
  if (kind >= 16) return openApiCase(random, n, idPrefix);
  const post = (label: string, body: Buffer | string, headers: Record<string, string> = json): FuzzCase => ({
    target: 'ingest',
    label,
    method: 'POST',
    path: '/v1/transactions',
    headers,
    body: Buffer.isBuffer(body) ? body : Buffer.from(body),
  });
  const get = (label: string, path: string, method = 'GET', body?: Buffer): FuzzCase => ({ target: 'auditor', label, method, path, headers: body ? json : {}, ...(body ? { body } : {}) });
  switch (kind) {
    case 0:
    case 1:
    case 2:
      return post('mutated transaction', JSON.stringify(mutatedTransaction(random, id)));
    case 3:
      return post('mutated batch', JSON.stringify(Array.from({ length: 1 + Math.floor(random() * 4) }, (_, i) => mutatedTransaction(random, `${id}-${i}`))), {
        ...json,
        ...(random() < 0.3 ? { 'idempotency-key': pick(random, [id, 'bad key!', 'k'.repeat(200), '']) } : {}),
      });
    case 4:
      return post('random JSON', JSON.stringify(randomJson(random)) ?? 'null');
    case 5:
      return post('random bytes', Buffer.from(Array.from({ length: Math.floor(random() * 2048) }, () => Math.floor(random() * 256))));
    case 6: {
      const bad = pick(random, [[0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xe2, 0x82]]);
      const text = Buffer.concat([Buffer.from(`{"id":"${id}","from":"a`), Buffer.from(bad), Buffer.from('","to":"b","amount":1}')]);
      return post('invalid UTF-8', random() < 0.2 ? Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), text]) : text);
    }
    case 7: {
      const type = pick(random, ['text/plain', 'application/xml', 'multipart/form-data; boundary=x', 'application/json; charset=latin1', 'application/json; charset=utf-16', 'application/x-www-form-urlencoded', 'application/json, text/plain', 'a'.repeat(4000)]);
      return post('wrong content type', JSON.stringify({ id, from: 'a', to: 'b', amount: 1 }), random() < 0.1 ? {} : { 'content-type': type });
    }
    case 8: {
      const encoding = pick(random, ['gzip', 'gzip-bomb', 'bad-gzip', 'br', 'compress', 'identity, gzip']);
      const tx = Buffer.from(JSON.stringify({ id, from: 'fuzz-enc', to: 'shop', amount: 1 }));
      if (encoding === 'gzip') return post('gzip', gzipSync(tx), { ...json, 'content-encoding': 'gzip' });
      if (encoding === 'br') return post('brotli', brotliCompressSync(tx), { ...json, 'content-encoding': 'br' });
      if (encoding === 'gzip-bomb') return post('gzip bomb (64 MiB of spaces)', gzipBomb(), { ...json, 'content-encoding': 'gzip' });
      if (encoding === 'bad-gzip') return post('corrupt gzip', Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08, 0]), Buffer.from('not really gzip')]), { ...json, 'content-encoding': 'gzip' });
      return post('unknown encoding', tx, { ...json, 'content-encoding': encoding });
    }
    case 9: {
      const depth = pick(random, [1000, 10_000, 100_000]);
      return random() < 0.5
        ? post(`deep arrays (${depth})`, '['.repeat(depth) + ']'.repeat(depth))
        : post(`deep objects (${depth})`, '{"from":'.repeat(depth) + '1' + '}'.repeat(depth));
    }
    case 10:
      return post('huge body (2 MiB)', `{"id":"${id}","from":"a","to":"b","amount":1,"x":"${'x'.repeat(2 * 1024 * 1024)}"}`);
    case 11: {
      const raw = pick(random, [
        `{"id":"${id}","from":"a","from":"b","to":"c","amount":1}`,
        `{"id":"${id}","from":"a","to":"b","amount":1e400}`,
        `{"id":"${id}","from":"a","to":"b","amount":3.0}`,
        `{"id":"${id}","from":"a","to":"b","amount":-0}`,
        `{"__proto__":{"polluted":1},"id":"${id}","from":"a","to":"b","amount":1}`,
        `{"id":"${id}","from":"a","to":"b","amount":1}garbage`,
        '',
        '[]',
        `[${'{"from":"a","to":"b","amount":1},'.repeat(1200)}{"from":"a","to":"b","amount":1}]`,
      ]);
      return post('tricky JSON', raw);
    }
    case 12: {
      const value = pick(random, [randomString(random, 80), '%', '%E0%A4%A', '..%2F..%2Fetc%2Fpasswd', 'tx:transactions:0:1', '%00', 'a'.repeat(3000), 'coinbase:1', rawPath(randomString(random))]);
      return get('transaction lookup', `/v1/transactions/${rawPath(value)}`);
    }
    case 13: {
      const value = pick(random, ['-1', '1e3', '0x10', '99999999999999999999', '1.5', '', ' ', String(Math.floor(random() * 50)), 'NaN']);
      const query = pick(random, ['', '?from=1&limit=2', '?limit=1&limit=2', '?limit[]=1', '?from=-1', '?limit=101', '?from=9007199254740993', `?limit=${'9'.repeat(40)}`, '?%=%']);
      return pick(random, [get('block', `/v1/blocks/${encodeURIComponent(value)}`), get('blocks page', `/v1/blocks${query}`), get('audit', `/v1/audit${query.replace('from', 'limit')}`)]);
    }
    case 14: {
      const account = pick(random, ['0', 'acct-1', 'shop', 'a'.repeat(65), 'bad account', '%ZZ', randomString(random, 20)]);
      return get('account', `/v1/accounts/${rawPath(account)}${pick(random, ['', '?limit=0', '?from=1&limit=100', '?limit=x'])}`);
    }
    default: {
      const method = pick(random, ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'TRACE']);
      const path = pick(random, ['/v1/chain/head', '/v1/blocks', '/v1/audit', '/', '/../../etc/passwd', '/v1/transactions', `/${'x/'.repeat(500)}`, '/metrics', '/openapi.json']);
      return random() < 0.5 ? get('odd method / path', path, method, Buffer.from('{}')) : { ...get('odd method / path', path, method), target: 'ingest' };
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// Slow and many clients over raw sockets.

function rawRequest(base: string, text: Buffer, options: { byteDelayMs?: number; timeoutMs?: number } = {}): Promise<{ status: number; closedMs: number }> {
  const url = new URL(base);
  return new Promise((resolve) => {
    const started = Date.now();
    const socket: Socket = connect(Number(url.port), url.hostname);
    let response = '';
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(response);
      resolve({ status: match ? Number(match[1]) : 0, closedMs: Date.now() - started });
    };
    const timer = setTimeout(finish, options.timeoutMs ?? 60_000);
    // Every request says Connection: close, so the server closes the socket once it has answered.
    socket.on('data', (chunk: Buffer) => (response += chunk.toString('latin1')));
    socket.on('close', finish);
    socket.on('error', finish);
    socket.on('connect', async () => {
      if (options.byteDelayMs === undefined) {
        socket.write(text);
        return;
      }
      for (let i = 0; i < text.length && !done; i++) {
        socket.write(text.subarray(i, i + 1));
        await sleep(options.byteDelayMs);
      }
    });
  });
}

function httpText(method: string, path: string, host: string, body?: string, headers: Record<string, string> = {}): Buffer {
  const lines = [`${method} ${path} HTTP/1.1`, `Host: ${host}`, 'Connection: close', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  if (body !== undefined) lines.push('Content-Type: application/json', `Content-Length: ${Buffer.byteLength(body)}`);
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n${body ?? ''}`);
}

/** Opens slowloris sockets: a request line and one header byte per second, never finished. */
function slowloris(base: string, count: number): { sockets: Socket[]; closed: Promise<number>[] } {
  const url = new URL(base);
  const sockets: Socket[] = [];
  const closed: Promise<number>[] = [];
  for (let i = 0; i < count; i++) {
    const started = Date.now();
    const socket = connect(Number(url.port), url.hostname);
    sockets.push(socket);
    closed.push(
      new Promise((resolve) => {
        let timer: NodeJS.Timeout | undefined;
        socket.on('connect', () => {
          socket.write(`GET /v1/chain/head HTTP/1.1\r\nHost: ${url.host}\r\nX-Slow: `);
          timer = setInterval(() => socket.write('a'), 1000);
        });
        const end = (): void => {
          clearInterval(timer);
          resolve(Date.now() - started);
        };
        socket.on('close', end);
        socket.on('error', end);
      }),
    );
  }
  return { sockets, closed };
}

async function timed(url: string): Promise<number> {
  const started = Date.now();
  try {
    await (await fetch(url, { signal: AbortSignal.timeout(30_000) })).arrayBuffer();
  } catch {
    return 30_000;
  }
  return Date.now() - started;
}

// ---------------------------------------------------------------------------------------------------

export async function runFuzz(options: FuzzOptions): Promise<FuzzResult> {
  const { random } = options;
  const byStatus: Record<string, number> = {};
  const fiveXx: FuzzResult['fiveXx'] = [];
  const noAnswer: string[] = [];
  let acknowledged = 0;
  const count = (status: number): void => void (byStatus[String(status)] = (byStatus[String(status)] ?? 0) + 1);

  gzipBomb();
  // Slow clients and slowloris sockets run underneath the random requests.
  const ingestHost = new URL(options.ingestUrl).host;
  const slowBody = (i: number): string => JSON.stringify({ id: `${options.idPrefix}-slow-${i}`, from: 'fuzz-slow', to: 'shop', amount: 1 });
  const slowText = (i: number): Buffer => httpText('POST', '/v1/transactions', ingestHost, slowBody(i));
  const slow = Array.from({ length: options.slowClients }, (_, i) =>
    rawRequest(options.ingestUrl, slowText(i), { byteDelayMs: Math.max(1, Math.floor(options.slowDurationMs / slowText(i).length)), timeoutMs: options.slowDurationMs + 75_000 }),
  );
  const loris = [...Array.from({ length: Math.ceil(options.slowloris / 2) }, () => options.ingestUrl), ...Array.from({ length: Math.floor(options.slowloris / 2) }, () => options.auditorUrl)].map((url) => slowloris(url, 1));
  let maxHealthzMs = 0;
  let probing = true;
  const probe = (async () => {
    while (probing) {
      maxHealthzMs = Math.max(maxHealthzMs, await timed(`${options.ingestUrl}/healthz`), await timed(`${options.auditorUrl}/v1/chain/head`));
      await sleep(250);
    }
  })();

  let next = 0;
  let openApiRequests = 0;
  const openApiOperations = new Set<string>();
  const breaches: string[] = [];
  const worker = async (): Promise<void> => {
    while (next < options.requests) {
      const n = next++;
      let fuzz = fuzzCase(random, n, options.idPrefix);
      while (options.targets !== undefined && !options.targets.includes(fuzz.target)) fuzz = fuzzCase(random, n, options.idPrefix);
      const { status, body } = await send(fuzz.target === 'ingest' ? options.ingestUrl : options.auditorUrl, fuzz);
      count(status);
      // /readyz answering 503 reports a state (catching up under the fuzz's load), as its document declares: not a fault.
      const readiness = status === 503 && /^\/readyz(\?|$)/.test(fuzz.path);
      if (status >= 500 && !readiness) fiveXx.push({ label: `${fuzz.target} ${fuzz.method} ${fuzz.path.slice(0, 80)} (${fuzz.label})`, status, body: body.slice(0, 300) });
      if (status === 0) noAnswer.push(`${fuzz.target} ${fuzz.method} ${fuzz.path.slice(0, 40)} (${fuzz.label}): ${body.slice(0, 60)}`);
      if (status === 202) acknowledged += recordAcknowledged(body, options.outcomes);
      if ('declared' in fuzz) {
        const generated = fuzz as OpenApiCase;
        openApiRequests++;
        openApiOperations.add(generated.operation);
        const breach = contractBreach(generated, status, body);
        if (breach !== undefined) breaches.push(`${breach} (${generated.method} ${generated.path.slice(0, 80)}: ${body.slice(0, 120)})`);
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));

  // Many connections at once, each with one request (half reads at the auditor, half writes at ingest).
  const connectionStatuses: Record<string, number> = {};
  const connections = await Promise.all(
    Array.from({ length: options.connections }, (_, i) =>
      i % 2 === 0
        ? rawRequest(options.auditorUrl, httpText('GET', '/v1/chain/head', new URL(options.auditorUrl).host), { timeoutMs: 60_000 })
        : rawRequest(options.ingestUrl, httpText('POST', '/v1/transactions', ingestHost, JSON.stringify({ id: `${options.idPrefix}-conn-${i}`, from: 'fuzz-conn', to: 'shop', amount: 1 })), { timeoutMs: 60_000 }),
    ),
  );
  connections.forEach(({ status }, i) => {
    connectionStatuses[String(status)] = (connectionStatuses[String(status)] ?? 0) + 1;
    count(status);
    if (status >= 500) fiveXx.push({ label: `connection ${i}`, status, body: '' });
    if (status === 202) {
      options.outcomes?.record(`${options.idPrefix}-conn-${i}`, 202);
      acknowledged++;
    }
  });

  const slowResults = await Promise.all(slow);
  const slowStatuses: Record<string, number> = {};
  slowResults.forEach(({ status }, i) => {
    slowStatuses[String(status)] = (slowStatuses[String(status)] ?? 0) + 1;
    count(status);
    if (status >= 500) fiveXx.push({ label: `slow client ${i}`, status, body: '' });
    if (status === 202) {
      options.outcomes?.record(`${options.idPrefix}-slow-${i}`, 202);
      acknowledged++;
    }
  });
  probing = false;
  await probe;

  let closeMs: number[] = [];
  if (options.waitForSlowloris) {
    closeMs = await Promise.all(loris.flatMap((l) => l.closed.map((p) => Promise.race([p, sleep(90_000).then(() => -1)]))));
  }
  for (const l of loris) for (const socket of l.sockets) socket.destroy();
  return {
    requests: options.requests + options.connections + options.slowClients,
    byStatus,
    fiveXx,
    noAnswer,
    slowClients: { answered: slowResults.filter((r) => r.status > 0).length, statuses: slowStatuses, maxHealthzMs },
    slowloris: { opened: loris.length, closedByServer: closeMs.filter((ms) => ms >= 0).length, closeMs },
    connections: { opened: options.connections, answered: connections.filter((c) => c.status > 0).length, byStatus: connectionStatuses },
    acknowledged,
    openApi: { requests: openApiRequests, operations: [...openApiOperations].sort(), breaches },
  };
}

function recordAcknowledged(body: string, outcomes: Outcomes | undefined): number {
  try {
    const parsed = JSON.parse(body) as { id?: string; transactions?: { id: string }[] };
    const ids = parsed.transactions ? parsed.transactions.map((t) => t.id) : parsed.id ? [parsed.id] : [];
    for (const id of ids) outcomes?.record(id, 202);
    return ids.length;
  } catch {
    return 0;
  }
}

export function mib(kib: number | undefined): number {
  return kib === undefined ? -1 : Math.round(kib / 1024);
}

/** RSS of each process, in KiB. */
export function rss(processes: ServiceProcess[]): Record<string, number | undefined> {
  return Object.fromEntries(processes.map((p) => [p.name, p.rssKib()]));
}

// ---------------------------------------------------------------------------------------------------
// The whole scenario, shared by the quick and the full run.

export interface HostileHttpOptions {
  stack: Stack;
  outcomes: Outcomes;
  random: () => number;
  idPrefix: string;
  /** Fuzz rounds; with more than one, the first warms up and the growth after it is the leak check. */
  rounds: number;
  round: Omit<FuzzOptions, 'ingestUrl' | 'auditorUrl' | 'random' | 'outcomes' | 'idPrefix' | 'targets'>;
  /** Growth of a process's RSS over the whole run that counts as bounded. */
  boundMiB: number;
  /**
   * Growth over the last round (rounds > 1) that counts as no leak: every round before it is warm-up. V8
   * grows its heap over the first rounds and keeps it (ingest alone, 6 full rounds: 97 → 148 → 167 → 178 →
   * 170 → 173 → 181 MiB), so growth after only the first round measures heap sizing, not a leak.
   */
  steadyBoundMiB?: number;
  /** Stop the stack's broker and fuzz ingest while it is down: the only 5xx allowed is 503 kafka-unavailable. */
  outage?: { broker: ChaosBroker; requests: number };
}

export interface HostileHttpResult {
  rounds: FuzzResult[];
  requests: number;
  byStatus: Record<string, number>;
  fiveXx: FuzzResult['fiveXx'];
  memory: Record<string, { beforeMiB: number; afterWarmUpMiB: number; afterMiB: number; boundMiB: number }>;
  pids: { before: (number | undefined)[]; after: (number | undefined)[] };
  exits: { before: Record<string, number>; after: Record<string, number> };
  /** Unplanned exits of ingest and the auditor during the fuzz rounds. */
  crashes: number;
  healthy: boolean;
  outage?: { requests: number; byStatus: Record<string, number>; not503: FuzzResult['fiveXx']; recoveredMs: number };
}

export async function runHostileHttp(options: HostileHttpOptions): Promise<HostileHttpResult> {
  const { stack } = options;
  const targets = [stack.ingest, stack.auditor];
  const pids = targets.map((p) => p.pid);
  const exitsBefore = stack.unexpectedExits();
  const before = rss(targets);
  let afterWarmUp = before;
  const rounds: FuzzResult[] = [];
  for (let round = 0; round < options.rounds; round++) {
    rounds.push(
      await runFuzz({
        ...options.round,
        ingestUrl: stack.ingestUrl,
        auditorUrl: stack.auditorUrl,
        random: options.random,
        outcomes: options.outcomes,
        idPrefix: `${options.idPrefix}-r${round}`,
      }),
    );
    await sleep(2000);
    if (round === options.rounds - 2) afterWarmUp = rss(targets);
  }
  const after = rss(targets);
  const healthy =
    (await getJson(`${stack.ingestUrl}/healthz`).catch(() => ({ status: 0 }))).status === 200 &&
    (await getJson(`${stack.auditorUrl}/healthz`).catch(() => ({ status: 0 }))).status === 200;
  const pidsAfter = targets.map((p) => p.pid);
  const exitsAfter = stack.unexpectedExits();

  let outage: HostileHttpResult['outage'];
  if (options.outage !== undefined) {
    const { broker } = options.outage;
    await broker.stop();
    const during = await runFuzz({
      ingestUrl: stack.ingestUrl,
      auditorUrl: stack.auditorUrl,
      random: options.random,
      idPrefix: `${options.idPrefix}-outage`,
      requests: options.outage.requests,
      concurrency: 8,
      slowClients: 0,
      slowDurationMs: 0,
      slowloris: 0,
      connections: 0,
      targets: ['ingest'],
    });
    const down = Date.now();
    await broker.restart('SIGTERM', 0);
    await waitForHttp(`${stack.ingestUrl}/readyz`, { timeoutMs: 120_000, process: stack.ingest });
    outage = {
      requests: during.requests,
      byStatus: during.byStatus,
      not503: during.fiveXx.filter((x) => x.status !== 503 || !x.body.includes('kafka-unavailable')),
      recoveredMs: Date.now() - down,
    };
  }

  const merged: Record<string, number> = {};
  for (const r of rounds) for (const [status, n] of Object.entries(r.byStatus)) merged[status] = (merged[status] ?? 0) + n;
  return {
    rounds,
    requests: rounds.reduce((n, r) => n + r.requests, 0),
    byStatus: merged,
    fiveXx: rounds.flatMap((r) => r.fiveXx),
    memory: Object.fromEntries(
      targets.map((p) => [p.name, { beforeMiB: mib(before[p.name]), afterWarmUpMiB: mib(afterWarmUp[p.name]), afterMiB: mib(after[p.name]), boundMiB: options.boundMiB }]),
    ),
    pids: { before: pids, after: pidsAfter },
    exits: { before: exitsBefore, after: exitsAfter },
    crashes: targets.reduce((n, p) => n + (exitsAfter[p.name] ?? 0) - (exitsBefore[p.name] ?? 0), 0),
    healthy,
    ...(outage ? { outage } : {}),
  };
}

/** The figures of the requests generated from the OpenAPI documents, for the report. */
export function openApiNote(result: HostileHttpResult): string {
  const requests = result.rounds.reduce((n, round) => n + round.openApi.requests, 0);
  const operations = new Set(result.rounds.flatMap((round) => round.openApi.operations));
  const breaches = result.rounds.flatMap((round) => round.openApi.breaches);
  return `generated from the OpenAPI documents: ${requests} requests over ${operations.size} operations, ${breaches.length} answers outside what the documents declare${breaches.length > 0 ? `: ${breaches.slice(0, 3).join('; ')}` : ''}`;
}

/** The hostile HTTP client's acceptance criteria (quick and full). */
export function expectHttpSurvived(result: HostileHttpResult, options: Pick<HostileHttpOptions, 'boundMiB' | 'steadyBoundMiB' | 'rounds' | 'round'>): void {
  expect(result.fiveXx).toEqual([]);
  // Every answer to a request generated from the OpenAPI documents is one they declare, with its body.
  expect(result.rounds.flatMap((round) => round.openApi.breaches)).toEqual([]);
  expect(result.pids.after).toEqual(result.pids.before);
  expect(result.crashes, JSON.stringify(result.exits)).toBe(0);
  expect(result.healthy).toBe(true);
  for (const round of result.rounds) {
    expect(round.slowClients.answered).toBe(options.round.slowClients);
    expect(round.connections.answered).toBe(round.connections.opened);
    if (options.round.waitForSlowloris) expect(round.slowloris.closedByServer).toBe(round.slowloris.opened);
  }
  for (const [name, m] of Object.entries(result.memory)) {
    expect(m.afterMiB - m.beforeMiB, `${name} RSS growth (MiB)`).toBeLessThanOrEqual(options.boundMiB);
    if (options.rounds > 1 && options.steadyBoundMiB !== undefined) {
      expect(m.afterMiB - m.afterWarmUpMiB, `${name} RSS growth over the last round (MiB)`).toBeLessThanOrEqual(options.steadyBoundMiB);
    }
  }
  if (result.outage) expect(result.outage.not503).toEqual([]);
}
