// Shared by the benchmarks: the machine and its load, tables, percentiles, and a small flag parser.
// Every benchmark prints a table and the ratio of the measured figure to a baseline measured in the same
// run on the same machine: the machine is shared and noisy, so only the ratios are comparable between runs.
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';

export type Row = Record<string, string | number | undefined>;

/** "1.23 1.10 0.98": the 1, 5 and 15 minute load averages. */
export function loadAverage(): string {
  return loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');
}

export function machine(): string {
  const cpu = cpus()[0]?.model.trim() ?? 'unknown cpu';
  return `${cpu}, ${availableParallelism()} cores, node ${process.version}, ${process.platform}/${process.arch}`;
}

/** Prints the header every benchmark starts with. */
export function printHeader(title: string, settings: Record<string, unknown>): void {
  console.log(`# ${title}`);
  console.log(`machine: ${machine()}`);
  console.log(`load average at start: ${loadAverage()}`);
  console.log(`settings: ${JSON.stringify(settings)}`);
  console.log('');
}

/** A left-aligned text table (numbers right-aligned), every column as wide as its widest cell. */
export function table(rows: readonly Row[], columns: readonly string[] = [...new Set(rows.flatMap((row) => Object.keys(row)))]): string {
  const cell = (value: string | number | undefined): string => (value === undefined ? '' : String(value));
  const widths = columns.map((column) => Math.max(column.length, ...rows.map((row) => cell(row[column]).length)));
  const isNumeric = columns.map((column) => rows.every((row) => row[column] === undefined || typeof row[column] === 'number'));
  const line = (values: readonly string[]): string =>
    `| ${values.map((value, i) => (isNumeric[i] ? value.padStart(widths[i] ?? 0) : value.padEnd(widths[i] ?? 0))).join(' | ')} |`;
  const separator = `|${widths.map((width, i) => (isNumeric[i] ? `${'-'.repeat(width + 1)}:` : '-'.repeat(width + 2))).join('|')}|`;
  return [line(columns), separator, ...rows.map((row) => line(columns.map((column) => cell(row[column]))))].join('\n');
}

export function printTable(title: string, rows: readonly Row[], columns?: readonly string[]): void {
  console.log(`## ${title}`);
  console.log(table(rows, columns));
  console.log('');
}

/** The q-quantile (0..1) of the values, nearest rank; NaN when there are none. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] as number;
}

export function median(values: readonly number[]): number {
  return quantile(values, 0.5);
}

/** A rate with 3 significant digits and a unit suffix (k, M). */
export function rate(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (value >= 1e6) return `${(value / 1e6).toPrecision(3)}M`;
  if (value >= 1e3) return `${(value / 1e3).toPrecision(3)}k`;
  return value.toPrecision(3);
}

export function ms(value: number): number {
  return Number.isFinite(value) ? Math.round(value * 10) / 10 : Number.NaN;
}

export function ratio(value: number, baseline: number): string {
  return baseline > 0 && Number.isFinite(value) ? `${((value / baseline) * 100).toFixed(0)}%` : 'n/a';
}

export function mib(bytes: number): number {
  return Math.round((bytes / 2 ** 20) * 10) / 10;
}

/** Checks a figure against its target and prints one line saying whether it is met. */
export function verdict(what: string, value: number, target: number, unit: string, higherIsBetter = true): boolean {
  const met = higherIsBetter ? value >= target : value < target;
  const shown = (n: number): string => (unit === '%' ? `${(n * 100).toFixed(0)}%` : `${rate(n)} ${unit}`);
  console.log(`target ${met ? 'MET' : 'MISSED'}: ${what} = ${shown(value)} (target ${higherIsBetter ? '≥' : '<'} ${shown(target)})`);
  return met;
}

/** node:util parseArgs (every option a string or a boolean); `--help` prints the usage and exits. */
export function flags(usage: string, options: Record<string, { type: 'string' | 'boolean' }>): Record<string, string | boolean | undefined> {
  const parsed = parseArgs({ options: { ...options, help: { type: 'boolean' } }, allowPositionals: false });
  const values = parsed.values as Record<string, string | boolean | undefined>;
  if (values.help === true) {
    console.log(usage);
    process.exit(0);
  }
  return values;
}

export function intFlag(value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < 0) throw new Error(`not a non-negative number: ${String(value)}`);
  return parsed;
}

export function listFlag(value: unknown, fallback: readonly number[]): number[] {
  if (value === undefined) return [...fallback];
  return String(value)
    .split(',')
    .map((part) => intFlag(part.trim(), 0));
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** CPU seconds (user + system) a process has used so far, from /proc (Linux); undefined elsewhere. */
export function processCpuSeconds(pid: number | undefined): number | undefined {
  return pid === undefined ? undefined : statCpuSeconds(`/proc/${pid}/stat`);
}

/**
 * CPU seconds this process's main thread has used so far (Linux; undefined elsewhere): what bounds a reader
 * whose other threads (a worker consuming a topic) run on other cores. process.cpuUsage() counts every thread.
 */
export function mainThreadCpuSeconds(): number | undefined {
  return statCpuSeconds(`/proc/self/task/${process.pid}/stat`);
}

function statCpuSeconds(file: string): number | undefined {
  try {
    const stat = readFileSync(file, 'utf8');
    // Fields after the command (which may contain spaces) start at state; utime and stime are 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

/** Measures the CPU the given processes use between start() and the returned function's call, in cores. */
export function cpuMeter(pids: Record<string, number | undefined>): () => Record<string, number | undefined> {
  const started = performance.now();
  const before = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, processCpuSeconds(pid)]));
  return () => {
    const seconds = (performance.now() - started) / 1000;
    return Object.fromEntries(
      Object.entries(pids).map(([name, pid]) => {
        const start = before[name];
        const end = processCpuSeconds(pid);
        return [name, start === undefined || end === undefined ? undefined : Math.round(((end - start) / seconds) * 100) / 100];
      }),
    );
  };
}
