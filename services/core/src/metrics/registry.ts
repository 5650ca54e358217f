import { collectDefaultMetrics, Registry } from 'prom-client';

export const METRIC_PREFIX = 'chainlog_';

/**
 * One registry per service with the default process metrics (under the chainlog_ prefix) and a
 * `service` label on every series, so dashboards can tell ingest, miners and the auditor apart.
 */
export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX });
  return registry;
}
