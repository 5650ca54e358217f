// The HTTP scaffold every service shares: request ids, JSON logs, /healthz, /readyz, /metrics,
// JSON errors for every failure, and a graceful close that lets in-flight requests finish.
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import express, { type ErrorRequestHandler, type Express, type NextFunction, type Request, type Response } from 'express';
import { Histogram, type Registry } from 'prom-client';
import type { Logger } from '../logging/logger.js';
import { errorBody, HttpError } from './errors.js';

export interface Readiness {
  ready: boolean;
  /** Why the service is not ready, or what it is ready with. */
  detail?: Record<string, unknown>;
}

export interface HttpServiceOptions {
  logger: Logger;
  registry: Registry;
  readiness: () => Readiness | Promise<Readiness>;
}

declare module 'express-serve-static-core' {
  interface Request {
    id: string;
    log: Logger;
  }
}

/** Creates the app with the operational endpoints; the service adds its routes, then calls `finish`. */
export function createHttpApp(options: HttpServiceOptions): { app: Express; finish: () => void } {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  const duration = new Histogram({
    name: 'chainlog_http_request_duration_seconds',
    help: 'HTTP request latency by route and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [options.registry],
  });

  app.use((req: Request, res: Response, next: NextFunction) => {
    const incoming = req.header('x-request-id');
    const valid = incoming !== undefined && REQUEST_ID.test(incoming);
    req.id = valid ? incoming : randomUUID();
    req.log = options.logger.child({ requestId: req.id });
    res.setHeader('X-Request-Id', req.id);
    const stopTimer = duration.startTimer();
    res.on('finish', () => {
      // The matched route pattern, never the raw path, keeps the label bounded.
      const route = (req.route as { path?: string } | undefined)?.path ?? 'unmatched';
      const routeLabel = `${req.baseUrl}${route}`;
      stopTimer({ method: req.method, route: routeLabel, status: String(res.statusCode) });
      req.log.debug({ method: req.method, path: req.path, status: res.statusCode }, 'request');
    });
    // As the OpenAPI documents declare it: a request id that does not match is refused, not replaced.
    if (incoming !== undefined && !valid) {
      throw new HttpError(400, 'invalid-request-id', 'X-Request-Id must be 1..128 characters from A-Z a-z 0-9 _ . -', {
        field: 'X-Request-Id',
        problem: 'must be 1..128 characters from A-Z a-z 0-9 _ . -',
      });
    }
    next();
  });

  // OPTIONS on a known path: the methods it allows, as JSON (Express's own answer is plain text).
  app.use((req: Request, res: Response, next: NextFunction) => {
    if (req.method !== 'OPTIONS') return next();
    const allowed = allowedMethods(app, req.path);
    if (allowed.length === 0) throw new HttpError(404, 'not-found', `no route for ${req.path}`);
    const allow = [...allowed, 'OPTIONS'];
    res.setHeader('Allow', allow.join(', '));
    res.status(200).json({ path: req.path, allow });
  });

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const readiness = await options.readiness();
    res.status(readiness.ready ? 200 : 503).json({ status: readiness.ready ? 'ready' : 'not-ready', ...readiness.detail });
  });
  app.get('/metrics', async (_req, res) => {
    res.setHeader('Content-Type', options.registry.contentType);
    res.send(await options.registry.metrics());
  });

  const finish = (): void => {
    app.use((req: Request) => {
      // A known path asked with another method (TRACE included) is a 405 naming the allowed ones.
      const allowed = allowedMethods(app, req.path);
      if (allowed.length > 0) {
        const allow = [...allowed, 'OPTIONS'].join(', ');
        throw new HttpError(405, 'method-not-allowed', `${req.method} is not allowed on ${req.path}; allowed: ${allow}`, {}, { Allow: allow });
      }
      throw new HttpError(404, 'not-found', `no route for ${req.method} ${req.path}`);
    });
    app.use(errorHandler);
  };
  return { app, finish };
}

const REQUEST_ID = /^[\w.-]{1,128}$/;

interface RouteLayer {
  route?: { methods: Record<string, boolean> };
  handle?: { stack?: RouteLayer[] };
  match(path: string): boolean;
}

/** The methods the app's routes (also inside mounted routers) answer for this path, HEAD with GET. */
export function allowedMethods(app: Express, path: string): string[] {
  const methods = new Set<string>();
  const visit = (stack: readonly RouteLayer[]): void => {
    for (const layer of stack) {
      if (layer.route !== undefined) {
        if (layer.match(path)) for (const [method, on] of Object.entries(layer.route.methods)) if (on && method !== '_all') methods.add(method.toUpperCase());
      } else if (layer.handle?.stack !== undefined && layer.match(path)) {
        visit(layer.handle.stack);
      }
    }
  };
  visit((app as unknown as { router: { stack: RouteLayer[] } }).router.stack);
  if (methods.has('GET')) methods.add('HEAD');
  return [...methods].sort();
}

const errorHandler: ErrorRequestHandler = (error: unknown, req: Request, res: Response, next: NextFunction) => {
  if (res.headersSent) {
    next(error);
    return;
  }
  const httpError = toHttpError(error);
  if (httpError.status >= 500 && httpError.status !== 503) req.log.error({ err: error }, 'request failed');
  for (const [name, value] of Object.entries(httpError.headers)) res.setHeader(name, value);
  res.status(httpError.status).json(errorBody(httpError));
};

/** Maps body-parser and other framework errors onto the JSON error format. */
function toHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  const candidate = error as { type?: string; status?: number; message?: string; limit?: number };
  switch (candidate.type) {
    case 'entity.parse.failed':
      return new HttpError(400, 'malformed-json', `request body is not valid JSON: ${candidate.message ?? ''}`.trim());
    case 'entity.too.large':
      return new HttpError(413, 'body-too-large', `request body exceeds ${candidate.limit ?? 'the limit of'} bytes`);
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new HttpError(415, 'unsupported-encoding', candidate.message ?? 'unsupported body encoding');
    case 'request.aborted':
      return new HttpError(400, 'request-aborted', 'the client aborted the request');
    default:
      if (typeof candidate.status === 'number' && candidate.status >= 400 && candidate.status < 500) {
        return new HttpError(candidate.status, 'bad-request', candidate.message ?? 'bad request');
      }
      return new HttpError(500, 'internal', 'internal error');
  }
}

/** How long a client may take to send its request: headers, and the whole request with its body. */
export interface RequestTimeouts {
  headersTimeoutMs: number;
  requestTimeoutMs: number;
}

export const DEFAULT_REQUEST_TIMEOUTS: RequestTimeouts = { headersTimeoutMs: 10_000, requestTimeoutMs: 30_000 };

/** Listens on the port (0 picks a free one) and resolves with the server once it accepts connections. */
export function listen(app: Express, port: number, host = '0.0.0.0', timeouts: RequestTimeouts = DEFAULT_REQUEST_TIMEOUTS): Promise<Server> {
  return new Promise((resolve, reject) => {
    // Slow clients must not hold sockets: the timeouts are checked every second (Node's default is 30 s,
    // which let a slow client hold a connection for up to a minute).
    const server = createServer(
      {
        headersTimeout: timeouts.headersTimeoutMs,
        requestTimeout: timeouts.requestTimeoutMs,
        connectionsCheckingInterval: 1000,
      },
      app,
    );
    server.keepAliveTimeout = 5_000;
    server.on('clientError', answerClientError);
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

/**
 * Errors before a request reaches the app (headers too large, too slow, unparsable) answered in the JSON
 * error format too; Node's own answers have no body.
 */
function answerClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  const [status, code, message] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'headers-too-large', 'the request headers are too large']
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'request-timeout', 'the request (headers and body) was not received in time']
        : [400, 'bad-request', 'the request is not valid HTTP/1.1'];
  const response = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (error.code !== 'ECONNRESET' && socket.writable && response?.headersSent !== true) {
    const body = JSON.stringify(errorBody(new HttpError(status, code, message)));
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_TEXT[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      () => socket.destroy(),
    );
    return;
  }
  socket.destroy();
}

const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' };

/** Stops accepting connections and waits (bounded) for in-flight requests to finish. */
export function closeServer(server: Server, graceMs = 10_000): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => server.closeAllConnections(), graceMs);
    force.unref();
    server.close(() => {
      clearTimeout(force);
      resolve();
    });
    server.closeIdleConnections();
  });
}
