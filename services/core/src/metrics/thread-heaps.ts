// The V8 heaps of a process' worker threads. Each worker thread is an isolate of its own: its heap is not in
// the main thread's process.memoryUsage() nor in prom-client's nodejs_heap_* gauges, so without this it shows
// only as "native" memory (RSS minus the main heap). A worker reports its v8.getHeapStatistics() now and then
// (threadHeapReport); the thread that owns it keeps the latest report here until the worker ends.
import { getHeapStatistics } from 'node:v8';
import { Gauge, type Registry } from 'prom-client';

export interface ThreadHeap {
  /** Bytes of live and not yet collected objects (v8 used_heap_size). */
  readonly used: number;
  /** Bytes the heap has committed (v8 total_heap_size): what it costs in RSS. */
  readonly committed: number;
  /** Bytes of memory outside the heap that its objects own (ArrayBuffers, Buffers: v8 external_memory). */
  readonly external: number;
}

/** How often a worker thread reports its heap. */
export const THREAD_HEAP_REPORT_MS = 2000;

const heaps = new Map<object, ThreadHeap>();

/** This thread's heap, as a worker reports it to its owner. */
export function threadHeapReport(): ThreadHeap {
  const stats = getHeapStatistics() as ReturnType<typeof getHeapStatistics> & { external_memory?: number };
  return { used: stats.used_heap_size, committed: stats.total_heap_size, external: stats.external_memory ?? 0 };
}

/** The latest report of the worker `owner` stands for (a Worker or a feed: any object, once per thread). */
export function recordThreadHeap(owner: object, heap: ThreadHeap): void {
  heaps.set(owner, heap);
}

/** The worker ended: its heap is gone. */
export function forgetThreadHeap(owner: object): void {
  heaps.delete(owner);
}

/** The sum over the live worker threads that reported. */
export function threadHeapTotals(): ThreadHeap & { readonly threads: number } {
  let used = 0;
  let committed = 0;
  let external = 0;
  for (const heap of heaps.values()) {
    used += heap.used;
    committed += heap.committed;
    external += heap.external;
  }
  return { used, committed, external, threads: heaps.size };
}

/** Gauges of the worker threads' heaps, beside prom-client's of the main thread. */
export function registerThreadHeapGauges(registry: Registry, prefix: string): void {
  const registers = [registry];
  const gauge = (name: string, help: string, pick: (totals: ReturnType<typeof threadHeapTotals>) => number): void => {
    new Gauge({
      name: `${prefix}${name}`,
      help,
      registers,
      collect() {
        this.set(pick(threadHeapTotals()));
      },
    });
  };
  gauge('worker_threads_heap_size_used_bytes', 'V8 heap used by the worker threads that report it (the main thread: nodejs_heap_size_used_bytes)', (t) => t.used);
  gauge('worker_threads_heap_size_bytes', 'V8 heap committed by the worker threads that report it (in RSS, not in nodejs_heap_size_total_bytes)', (t) => t.committed);
  gauge('worker_threads_external_memory_bytes', 'Memory outside the V8 heap owned by the worker threads\' objects (ArrayBuffers, Buffers)', (t) => t.external);
  gauge('worker_threads_reporting', 'Worker threads whose heap the worker_threads_* gauges include', (t) => t.threads);
}
