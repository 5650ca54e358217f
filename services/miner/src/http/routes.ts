// The miner's HTTP endpoints: /healthz, /readyz and /metrics from core, plus GET /status (JSON, for people).
import type { Server } from 'node:http';
import type { Registry } from 'prom-client';
import { createHttpApp, listen, type Readiness } from '@chainlog/core/http';
import type { Logger } from '@chainlog/core/logging';

export interface MinerHttpOptions {
  port: number;
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
  return listen(app, options.port);
}
