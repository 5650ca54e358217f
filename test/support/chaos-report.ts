// The chaos suite's figures: each scenario records what it measured; the summary is printed at the end of
// the run (test/support/chaos-setup.ts for `npm run test:chaos`, afterAll of test/chaos/quick.test.ts for the
// short variant inside `npm test`) and committed in docs/reliability.md.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LedgerFigures } from './chaos.js';

export interface ScenarioResult {
  scenario: string;
  /** quick (inside npm test) or full (npm run test:chaos). */
  mode: 'quick' | 'full';
  seed?: number;
  durationS: number;
  ledger?: LedgerFigures;
  faults?: Record<string, number | string>;
  races?: { miners: number; partitions: number; difficulty: number; mined: number; orphaned: number; orphanRate: number; staleAtAuditor: number; headsAgree: boolean };
  rejections?: Record<string, number>;
  fuzz?: { requests: number; byStatus: Record<string, number>; fiveXx: number; crashes: number; slowClients: number; connections: number };
  memory?: Record<string, { beforeMiB: number; afterWarmUpMiB?: number; afterMiB: number; boundMiB: number }>;
  notes?: string[];
}

const results: ScenarioResult[] = [];

/** Keeps the result for this process's summary, and writes it where the chaos global setup collects it. */
export function recordResult(result: ScenarioResult): void {
  results.push(result);
  const dir = process.env.CHAOS_RESULTS_DIR;
  if (dir === undefined) return;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${result.scenario.replace(/[^a-z0-9-]+/gi, '_')}-${process.pid}-${results.length}.json`), JSON.stringify(result, null, 2));
}

export function recordedResults(): ScenarioResult[] {
  return [...results];
}

export function collectResults(dir: string): ScenarioResult[] {
  let files: string[] = [];
  try {
    files = readdirSync(dir).filter((file) => file.endsWith('.json'));
  } catch {
    return [];
  }
  return files.sort().map((file) => JSON.parse(readFileSync(join(dir, file), 'utf8')) as ScenarioResult);
}

function table(header: string[], rows: (string | number)[][]): string {
  if (rows.length === 0) return '';
  const lines = [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`];
  for (const row of rows) lines.push(`| ${row.join(' | ')} |`);
  return `${lines.join('\n')}\n`;
}

const pct = (x: number): string => `${(x * 100).toFixed(1)} %`;
const entries = (record: Record<string, number | string> | undefined): string =>
  Object.entries(record ?? {})
    .filter(([, n]) => n !== 0)
    .map(([k, n]) => `${k}: ${n}`)
    .join(', ') || '—';

/** The summary as Markdown tables (what docs/reliability.md shows). */
export function formatSummary(all: readonly ScenarioResult[]): string {
  const parts: string[] = [];
  const ledger = all.filter((r) => r.ledger);
  parts.push(
    '### Ledger invariants\n\n' +
      table(
        ['scenario', 'mode', 'sent', 'acknowledged (202)', 'refused (4xx)', 'unknown (503)', 'committed', 'lost', 'duplicated', 'refused committed', 'unknown committed', 'blocks', 'faults', 'seconds'],
        ledger.map((r) => {
          const l = r.ledger as NonNullable<ScenarioResult['ledger']>;
          return [r.scenario, r.mode, l.sent, l.acknowledged, l.refused, l.unknown, l.committed, l.lost, l.duplicated, l.refusedCommitted, l.unknownCommitted, l.blocks, entries(r.faults), r.durationS];
        }),
      ),
  );
  const races = all.filter((r) => r.races);
  if (races.length > 0) {
    parts.push(
      '### Mining races\n\n' +
        table(
          ['scenario', 'mode', 'miners / partitions', 'difficulty', 'blocks mined (canonical)', 'orphaned (lost races)', 'orphan rate', 'stale at the auditor', 'all readers agree on the head'],
          races.map((r) => {
            const x = r.races as NonNullable<ScenarioResult['races']>;
            return [r.scenario, r.mode, `${x.miners} / ${x.partitions}`, x.difficulty, x.mined, x.orphaned, pct(x.orphanRate), x.staleAtAuditor, x.headsAgree ? 'yes' : 'NO'];
          }),
        ),
    );
  }
  const rejections = all.filter((r) => r.rejections);
  if (rejections.length > 0) {
    parts.push('### Rejections by reason\n\n' + table(['scenario', 'mode', 'rejected messages by reason'], rejections.map((r) => [r.scenario, r.mode, entries(r.rejections)])));
  }
  const fuzz = all.filter((r) => r.fuzz);
  if (fuzz.length > 0) {
    parts.push(
      '### Hostile HTTP clients\n\n' +
        table(
          ['scenario', 'mode', 'requests', 'answers by status', '5xx', 'crashes', 'slow clients', 'concurrent connections'],
          fuzz.map((r) => {
            const f = r.fuzz as NonNullable<ScenarioResult['fuzz']>;
            return [r.scenario, r.mode, f.requests, entries(f.byStatus), f.fiveXx, f.crashes, f.slowClients, f.connections];
          }),
        ),
    );
  }
  const memory = all.filter((r) => r.memory);
  if (memory.length > 0) {
    parts.push(
      '### Memory (resident set size)\n\n' +
        table(
          ['scenario', 'mode', 'process', 'before (MiB)', 'before the last round (MiB)', 'after (MiB)', 'bound on the growth (MiB)'],
          memory.flatMap((r) => Object.entries(r.memory ?? {}).map(([name, m]) => [r.scenario, r.mode, name, m.beforeMiB, m.afterWarmUpMiB ?? '—', m.afterMiB, m.boundMiB])),
        ),
    );
  }
  const notes = all.flatMap((r) => (r.notes ?? []).map((note) => `- ${r.scenario} (${r.mode}): ${note}`));
  if (notes.length > 0) parts.push(`### Notes\n\n${notes.join('\n')}\n`);
  return parts.join('\n');
}
