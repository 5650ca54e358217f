/**
 * The live head for the explorer: `GET /v1/chain/live` answers the current LiveView as JSON (for polling),
 * `GET /v1/chain/events` streams it as server-sent events (`event: live`), sent when the head changes
 * (checked every `pollMs`) and at least every `intervalMs` otherwise, so pending ages stay fresh.
 *
 * One timer serves every client and runs only while some are connected. Clients are capped (503 beyond)
 * and a client that does not read its stream is disconnected instead of buffering without bound.
 */
import { AUDITOR_ROUTES, type LiveView } from '@chainlog/core/api';
import { HttpError } from '@chainlog/core/http';
import type { Express, Request, Response } from 'express';
import { checkQuery } from './params.js';

export interface LiveStreamOptions {
  readonly snapshot: () => LiveView;
  readonly pollMs?: number;
  readonly intervalMs?: number;
  readonly maxClients?: number;
}

/** Bytes a client may leave unread before it is disconnected (a few hundred events). */
const MAX_UNREAD_BYTES = 256 * 1024;
/** What EventSource waits before reconnecting after the stream ends. */
const RETRY_MS = 3000;

export class LiveStream {
  readonly #clients = new Set<Response>();
  readonly #snapshot: () => LiveView;
  readonly #pollMs: number;
  readonly #intervalMs: number;
  readonly #maxClients: number;
  #timer: NodeJS.Timeout | undefined;
  #lastHash: string | null | undefined;
  #lastSentAt = 0;
  #closed = false;

  constructor(options: LiveStreamOptions) {
    this.#snapshot = options.snapshot;
    this.#pollMs = options.pollMs ?? 250;
    this.#intervalMs = options.intervalMs ?? 2000;
    this.#maxClients = options.maxClients ?? 1000;
  }

  get clients(): number {
    return this.#clients.size;
  }

  register(app: Express): void {
    app.get(AUDITOR_ROUTES.live, (req, res) => {
      checkQuery(req.query, []);
      res.json(this.#snapshot());
    });
    app.get(AUDITOR_ROUTES.events, (req, res) => this.#open(req, res));
  }

  /** Ends every stream (on shutdown: an open stream would otherwise hold the server's close). */
  close(): void {
    this.#closed = true;
    this.#stopTimer();
    for (const client of this.#clients) client.end();
    this.#clients.clear();
  }

  #open(req: Request, res: Response): void {
    checkQuery(req.query, []);
    if (this.#closed) throw new HttpError(503, 'shutting-down', 'the auditor is shutting down');
    if (this.#clients.size >= this.#maxClients) {
      throw new HttpError(503, 'too-many-streams', `${this.#maxClients} live streams are open; poll GET /v1/chain/live instead`, {}, {
        'Retry-After': '10',
      });
    }
    res.status(200);
    res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    res.setHeader('Cache-Control', 'no-cache, no-transform');
    // Proxies such as nginx (an Ingress) would otherwise buffer the stream.
    res.setHeader('X-Accel-Buffering', 'no');
    res.flushHeaders();
    res.write(`retry: ${RETRY_MS}\n\n`);
    this.#clients.add(res);
    req.on('close', () => {
      this.#clients.delete(res);
      if (this.#clients.size === 0) this.#stopTimer();
    });
    this.#send(res, this.#snapshot());
    this.#startTimer();
  }

  #startTimer(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => this.#tick(), this.#pollMs);
    this.#timer.unref();
  }

  #stopTimer(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #tick(): void {
    const view = this.#snapshot();
    const now = Date.now();
    if (view.head.hash === this.#lastHash && now - this.#lastSentAt < this.#intervalMs) return;
    this.#lastHash = view.head.hash;
    this.#lastSentAt = now;
    for (const client of this.#clients) this.#send(client, view);
  }

  #send(client: Response, view: LiveView): void {
    if (client.writableLength > MAX_UNREAD_BYTES) {
      this.#clients.delete(client);
      client.destroy();
      return;
    }
    client.write(`event: live\nid: ${view.head.height}\ndata: ${JSON.stringify(view)}\n\n`);
  }
}
