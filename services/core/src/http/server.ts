// The HTTP scaffold every service shares: request ids, JSON logs, /healthz, /readyz, /metrics,
// JSON errors for every failure, and a graceful close that lets in-flight requests finish.
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
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
    req.id = incoming && /^[\w.-]{1,128}$/.test(incoming) ? incoming : randomUUID();
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
    next();
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
      throw new HttpError(404, 'not-found', `no route for ${req.method} ${req.path}`);
    });
    app.use(errorHandler);
  };
  return { app, finish };
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

/** Listens on the port (0 picks a free one) and resolves with the server once it accepts connections. */
export function listen(app: Express, port: number, host = '0.0.0.0'): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host, (error?: Error) => (error ? reject(error) : resolve(server)));
    // Slow clients must not hold sockets forever.
    server.requestTimeout = 30_000;
    server.headersTimeout = 10_000;
    server.keepAliveTimeout = 5_000;
  });
}

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
