// The miner's HTTP endpoints: /healthz, /readyz and /metrics from core, plus GET /status (JSON, for people).
import type { Server } from 'node:http';
import type { Registry } from 'prom-client';
import { createHttpApp, listen, type Logger, type Readiness } from '@chainlog/core';

export interface MinerHttpOptions {
  port: number;
  /** Address to bind (HTTP_HOST). */
  host?: string;
  logger: Logger;
  registry: Registry;
  readiness: () => Readiness;
  status: () => Record<string, unknown>;
}

export async function startMinerHttp(options: MinerHttpOptions): Promise<Server> {
  const { app, finish } = createHttpApp({ logger: options.logger, registry: options.registry, readiness: options.readiness });
  app.get('/status', (_req, res) => {
    res.json(options.status());
  });
  finish();
  return listen(app, options.port, options.host);
}
