// Responsiveness of a service while it works in the background (the auditor's back-fill): a few requests,
// one at a time, every PROBE_INTERVAL_MS, timed per kind. A background job that starves the event loop or
// the index shows as a high p99 or max here, which a figure taken before or after it cannot show.
import { quantile, sleep } from './report.js';

const PROBE_INTERVAL_MS = 100;

export interface ProbeFigures {
  readonly what: string;
  readonly requests: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** Responses with a 5xx status or no response (a 404 of an account not yet back-filled is an answer). */
  readonly failures: number;
}

export class ResponsivenessProbe {
  readonly #times = new Map<string, number[]>();
  readonly #failures = new Map<string, number>();
  #stopped = false;
  readonly #done: Promise<void>;

  /** `paths(i)`: the requests of round i, by what they are called in the report. */
  constructor(base: string, paths: (round: number) => Record<string, string>) {
    this.#done = this.#run(base, paths);
  }

  async #run(base: string, paths: (round: number) => Record<string, string>): Promise<void> {
    for (let round = 0; !this.#stopped; round++) {
      for (const [what, path] of Object.entries(paths(round))) {
        const started = performance.now();
        let failed = false;
        try {
          const response = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(30_000) });
          await response.arrayBuffer();
          failed = response.status >= 500;
        } catch {
          failed = true;
        }
        const times = this.#times.get(what) ?? [];
        times.push(performance.now() - started);
        this.#times.set(what, times);
        if (failed) this.#failures.set(what, (this.#failures.get(what) ?? 0) + 1);
      }
      await sleep(PROBE_INTERVAL_MS);
    }
  }

  async stop(): Promise<ProbeFigures[]> {
    this.#stopped = true;
    await this.#done;
    return [...this.#times].map(([what, times]) => ({
      what,
      requests: times.length,
      p50Ms: quantile(times, 0.5),
      p99Ms: quantile(times, 0.99),
      maxMs: Math.max(...times),
      failures: this.#failures.get(what) ?? 0,
    }));
  }
}

export function formatProbe(figures: readonly ProbeFigures[]): string {
  return figures
    .map((f) => `${f.what} p50 ${f.p50Ms.toFixed(2)} p99 ${f.p99Ms.toFixed(2)} max ${f.maxMs.toFixed(0)} ms (${f.requests}${f.failures > 0 ? `, ${f.failures} failed` : ''})`)
    .join('; ');
}
