import { collectDefaultMetrics, Registry } from 'prom-client';
import { registerThreadHeapGauges } from './thread-heaps.js';

export const METRIC_PREFIX = 'chainlog_';

/**
 * prom-client's default gauges that end in `_total`, which Prometheus reserves for counters (`promtool check
 * metrics` rejects them). Each is the sum of the per-type gauge of the same name without the suffix
 * (`chainlog_nodejs_active_handles{type}` and so on), so dropping them loses nothing.
 */
const MISNAMED_DEFAULT_GAUGES = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

/**
 * One registry per service with the default process metrics (under the chainlog_ prefix) and a
 * `service` label on every series, so dashboards can tell ingest, miners and the auditor apart.
 */
export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX });
  for (const name of MISNAMED_DEFAULT_GAUGES) registry.removeSingleMetric(`${METRIC_PREFIX}${name}`);
  registerThreadHeapGauges(registry, METRIC_PREFIX);
  return registry;
}
