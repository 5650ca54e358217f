// Global setup of `npm run test:chaos`: a directory where each scenario records its figures
// (chaos-report.ts), and at the end the summary table on stdout (and in CHAOS_REPORT, when set).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collectResults, formatSummary } from './chaos-report.js';

let dir: string | undefined;
const started = Date.now();

export function setup(): void {
  dir = mkdtempSync(join(tmpdir(), 'chainlog-chaos-results-'));
  // Inherited by the test workers, which are started after the global setup.
  process.env.CHAOS_RESULTS_DIR = dir;
}

export function teardown(): void {
  if (dir === undefined) return;
  const results = collectResults(dir);
  const seeds = [...new Set(results.map((r) => r.seed).filter((s) => s !== undefined))];
  const header = `Chainlog chaos suite, ${new Date().toISOString()}, ${Math.round((Date.now() - started) / 1000)} s, seeds ${seeds.join(', ') || '—'}`;
  const summary = results.length > 0 ? formatSummary(results) : 'no scenario recorded figures\n';
  process.stdout.write(`\n${header}\n\n${summary}\n`);
  const target = process.env.CHAOS_REPORT;
  if (target) writeFileSync(target, `<!-- ${header} -->\n\n${summary}`);
  rmSync(dir, { recursive: true, force: true });
}
