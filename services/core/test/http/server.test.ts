// The shared HTTP scaffold at its edges: answers Node gives before the app sees a request (431, 408) are
// JSON too, slow clients are cut off within the configured time, TRACE and other methods on known paths
// get 405 with Allow.
import type { Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, describe, expect, it } from 'vitest';
import { EnvReader } from '../../src/config/env.js';
import { bearerAuth, closeServer, createHttpApp, listen, readAuthTokens } from '../../src/http/index.js';
import { createLogger } from '../../src/logging/logger.js';
import { createMetricsRegistry } from '../../src/metrics/registry.js';

/** Sends raw bytes and resolves with everything the server answers until it closes the connection. */
function raw(port: number, request: string, keepOpenMs = 0): Promise<{ text: string; elapsedMs: number }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(request);
      if (keepOpenMs > 0) setTimeout(() => socket.end(), keepOpenMs);
    });
    let text = '';
    socket.on('data', (chunk) => (text += chunk.toString()));
    socket.on('error', reject);
    socket.on('close', () => resolve({ text, elapsedMs: Date.now() - started }));
  });
}

function jsonBody(text: string): unknown {
  return JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4));
}

describe('HTTP scaffold edges', () => {
  // Two servers: the slow-client case needs timeouts short enough to see it cut off within the test, and
  // the other cases must not depend on timing (on a loaded machine a 500 ms headers timeout can cut off a
  // request that is merely waiting for the event loop).
  let server: Server;
  let port: number;
  let strictServer: Server;
  let strictPort: number;
  afterAll(async () => {
    await closeServer(server, 1000);
    await closeServer(strictServer, 1000);
  });

  async function start(timeouts?: { headersTimeoutMs: number; requestTimeoutMs: number }): Promise<Server> {
    const { app, finish } = createHttpApp({ logger: createLogger('test', 'silent'), registry: createMetricsRegistry('test'), readiness: () => ({ ready: true }) });
    app.post('/things', express.raw({ type: () => true }), (_req, res) => {
      res.status(201).json({ ok: true });
    });
    finish();
    return listen(app, 0, '127.0.0.1', timeouts);
  }

  it('starts', async () => {
    server = await start();
    port = (server.address() as AddressInfo).port;
    strictServer = await start({ headersTimeoutMs: 500, requestTimeoutMs: 1000 });
    strictPort = (strictServer.address() as AddressInfo).port;
  });

  it('answers oversized headers with 431 and a JSON body', async () => {
    const { text } = await raw(port, `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(text).toMatch(/^HTTP\/1\.1 431 /);
    expect(jsonBody(text)).toEqual({ error: { code: 'headers-too-large', message: 'the request headers are too large' } });
  });

  it('cuts off a client that sends its body too slowly with 408 and a JSON body, within seconds', async () => {
    const { text, elapsedMs } = await raw(strictPort, 'POST /things HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"a', 20_000);
    expect(text).toMatch(/^HTTP\/1\.1 408 /);
    expect(jsonBody(text)).toMatchObject({ error: { code: 'request-timeout' } });
    // requestTimeout 1 s, checked every second: well below Node's 30 s default interval.
    expect(elapsedMs).toBeLessThan(10_000);
  });

  it('answers TRACE and other methods on a known path with 405 and Allow, unknown paths with 404', async () => {
    for (const method of ['GET', 'DELETE', 'PUT']) {
      const reply = await fetch(`http://127.0.0.1:${port}/things`, { method });
      expect({ method, status: reply.status, allow: reply.headers.get('allow') }).toEqual({ method, status: 405, allow: 'POST, OPTIONS' });
    }
    // fetch refuses TRACE, so it goes raw.
    const { text } = await raw(port, 'TRACE /things HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(text).toMatch(/^HTTP\/1\.1 405 /);
    expect(text).toMatch(/\r\nAllow: POST, OPTIONS\r\n/i);
    expect(jsonBody(text)).toMatchObject({ error: { code: 'method-not-allowed' } });
    expect((await fetch(`http://127.0.0.1:${port}/healthz`, { method: 'POST' })).headers.get('allow')).toBe('GET, HEAD, OPTIONS');
    expect((await fetch(`http://127.0.0.1:${port}/nothing`)).status).toBe(404);
  });
});

describe('optional bearer authentication', () => {
  const TOKEN = 'a-token-of-32-characters-0123456';
  let server: Server;
  let base: string;
  afterAll(async () => closeServer(server, 1000));

  it('reads AUTH_TOKENS (several, for rotation) and refuses short ones without echoing them', () => {
    const reader = new EnvReader({ AUTH_TOKENS: `${TOKEN}, second-token-000000000` });
    expect(readAuthTokens(reader)).toEqual([TOKEN, 'second-token-000000000']);
    expect(readAuthTokens(new EnvReader({}))).toBeUndefined();
    const short = new EnvReader({ AUTH_TOKENS: 'tiny-secret' });
    readAuthTokens(short);
    expect(() => short.done()).toThrow(/at least 16 printable characters/);
    expect(() => short.done()).not.toThrow(/tiny-secret/);
  });

  it('needs the token for the API, keeps health, readiness and metrics open, answers 401 with WWW-Authenticate', async () => {
    const { app, finish } = createHttpApp({ logger: createLogger('test', 'silent'), registry: createMetricsRegistry('test'), readiness: () => ({ ready: true }) });
    app.use(bearerAuth([TOKEN, 'second-token-000000000'], 'chainlog-test'));
    app.get('/v1/secret', (_req, res) => {
      res.json({ ok: true });
    });
    finish();
    server = await listen(app, 0, '127.0.0.1');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    for (const path of ['/healthz', '/readyz', '/metrics']) expect((await fetch(`${base}${path}`)).status).toBe(200);
    const missing = await fetch(`${base}/v1/secret`);
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer realm="chainlog-test"');
    expect(await missing.json()).toMatchObject({ error: { code: 'unauthorized' } });
    expect((await fetch(`${base}/v1/secret`, { headers: { authorization: 'Bearer wrong-token-0000000000' } })).status).toBe(401);
    expect((await fetch(`${base}/v1/secret`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
    expect((await fetch(`${base}/v1/secret`, { headers: { authorization: 'bearer second-token-000000000' } })).status).toBe(200);
  });
});
