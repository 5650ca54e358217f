// The miner's HTTP app: /healthz, /readyz and /metrics from core, plus GET /status (JSON, for people).
import type { Express } from 'express';
import type { Registry } from 'prom-client';
import { createHttpApp, type Readiness } from '@chainlog/core/http';
import type { Logger } from '@chainlog/core/logging';

export interface MinerHttpOptions {
  logger: Logger;
  registry: Registry;
  readiness: () => Readiness;
  status: () => Record<string, unknown>;
}

export function createMinerApp(options: MinerHttpOptions): Express {
  const { app, finish } = createHttpApp({ logger: options.logger, registry: options.registry, readiness: options.readiness });
  app.get('/status', (_req, res) => {
    res.json(options.status());
  });
  finish();
  return app;
}
