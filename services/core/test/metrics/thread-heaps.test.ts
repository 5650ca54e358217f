// The worker threads' heaps: what each live worker last reported is summed into the process' gauges, and a
// worker that ended no longer counts.
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { forgetThreadHeap, recordThreadHeap, registerThreadHeapGauges, threadHeapReport, threadHeapTotals } from '../../src/metrics/thread-heaps.js';

async function gauges(registry: Registry): Promise<Record<string, number>> {
  const metrics = await registry.getMetricsAsJSON();
  return Object.fromEntries(metrics.map((metric) => [metric.name, Number(metric.values[0]?.value)]));
}

describe('thread heaps', () => {
  it('sums the latest report of each live worker and drops an ended one', async () => {
    const registry = new Registry();
    registerThreadHeapGauges(registry, 'test_');
    const before = threadHeapTotals();
    const [a, b] = [{}, {}];
    recordThreadHeap(a, { used: 10, committed: 100, external: 1 });
    recordThreadHeap(b, { used: 20, committed: 200, external: 2 });
    // A newer report of the same worker replaces its older one.
    recordThreadHeap(a, { used: 30, committed: 300, external: 3 });
    expect(await gauges(registry)).toEqual({
      test_worker_threads_heap_size_used_bytes: before.used + 50,
      test_worker_threads_heap_size_bytes: before.committed + 500,
      test_worker_threads_external_memory_bytes: before.external + 5,
      test_worker_threads_reporting: before.threads + 2,
    });
    forgetThreadHeap(a);
    forgetThreadHeap(b);
    expect(threadHeapTotals()).toEqual(before);
  });

  it("reports this thread's own heap", () => {
    const report = threadHeapReport();
    expect(report.used).toBeGreaterThan(0);
    expect(report.committed).toBeGreaterThanOrEqual(report.used);
    expect(report.external).toBeGreaterThanOrEqual(0);
  });
});
