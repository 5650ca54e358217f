// Helpers for test/observability.integration.test.ts: the real promtool and prometheus binaries (never skipped: a
// missing tool fails the test and names the installer), Chainlog services as child processes started from
// source, and PromQL/exposition-format parsing for the "every metric used is exported" check.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { allocatePort } from '../../scripts/lib/ports.js';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const INSTALLER = 'scripts/tools/install-apt.sh';

// ---- tools ---------------------------------------------------------------------------------------

/** Fails (never skips) when the binary is missing, naming the script that installs it. */
export function requireTool(name: 'promtool' | 'prometheus'): string {
  const probe = spawnSync(name, ['--version'], { encoding: 'utf8', timeout: 10_000 });
  if (probe.error !== undefined || probe.status !== 0) {
    throw new Error(
      `${name} is required by the observability tests but is not runnable (${probe.error?.message ?? `exit ${probe.status}`}). ` +
        `Install it with ${INSTALLER} (Debian's prometheus package, which also ships promtool).`,
    );
  }
  return name;
}

export interface ToolResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout and stderr together, for assertion messages. */
  output: string;
}

/** Runs promtool with the arguments (and stdin), bounded in time. */
export function promtool(args: readonly string[], options: { input?: string; cwd?: string } = {}): ToolResult {
  requireTool('promtool');
  const result = spawnSync('promtool', args, {
    cwd: options.cwd ?? REPO_ROOT,
    input: options.input,
    encoding: 'utf8',
    timeout: 60_000,
    maxBuffer: 16 * 2 ** 20,
  });
  if (result.error !== undefined) throw result.error;
  return { code: result.status, stdout: result.stdout, stderr: result.stderr, output: `${result.stdout}${result.stderr}` };
}

// ---- a real Prometheus server ----------------------------------------------------------------------

export interface ScrapeTarget {
  job: string;
  address: string;
  /** Target labels, as the chart's ServiceMonitor or the compose Prometheus set them (namespace, pod, service). */
  labels: Record<string, string>;
}

export interface PromSample {
  metric: Record<string, string>;
  value: number;
}

export interface RuleGroupState {
  name: string;
  rules: { name: string; type: string; health: string; lastError?: string; state?: string }[];
}

export class PrometheusServer {
  readonly url: string;
  readonly #child: ChildProcess;
  readonly #dir: string;
  readonly #output: string[] = [];
  readonly exited: Promise<number | null>;

  private constructor(child: ChildProcess, dir: string, url: string) {
    this.#child = child;
    this.#dir = dir;
    this.url = url;
    const collect = (chunk: Buffer): void => {
      this.#output.push(chunk.toString());
      if (this.#output.length > 200) this.#output.splice(0, this.#output.length - 200);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  /** Starts `prometheus` on a free loopback port with a 1 s scrape and evaluation interval. */
  static async start(options: { targets: readonly ScrapeTarget[]; ruleFiles?: readonly string[] }): Promise<PrometheusServer> {
    requireTool('prometheus');
    const dir = mkdtempSync(join(tmpdir(), 'chainlog-prometheus-'));
    const config = {
      global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
      rule_files: options.ruleFiles ?? [],
      scrape_configs: options.targets.map((target) => ({
        job_name: target.job,
        honor_labels: true,
        static_configs: [{ targets: [target.address], labels: target.labels }],
      })),
    };
    // JSON is YAML.
    writeFileSync(join(dir, 'prometheus.yml'), JSON.stringify(config, null, 2));
    const port = await allocatePort();
    const child = spawn(
      'prometheus',
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const server = new PrometheusServer(child, dir, `http://127.0.0.1:${port}`);
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`prometheus exited with ${child.exitCode}:\n${server.output()}`);
      try {
        if ((await fetch(`${server.url}/-/ready`)).ok) return server;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        await server.stop();
        throw new Error(`prometheus did not become ready within 30 s:\n${server.output()}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  output(): string {
    return this.#output.join('').slice(-5000);
  }

  async #api<T>(path: string, params: Record<string, string> = {}): Promise<T> {
    const response = await fetch(`${this.url}/api/v1/${path}?${new URLSearchParams(params).toString()}`);
    const body = (await response.json()) as { status: string; data: T; error?: string; errorType?: string };
    if (body.status !== 'success') throw new Error(`Prometheus ${path} ${JSON.stringify(params)}: ${body.errorType}: ${body.error}`);
    return body.data;
  }

  /** An instant query; throws with Prometheus' message when the expression does not parse or evaluate. */
  async query(expr: string): Promise<PromSample[]> {
    const data = await this.#api<{ resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] | [number, string] }>(
      'query',
      { query: expr },
    );
    if (data.resultType === 'scalar') {
      const [, value] = data.result as [number, string];
      return [{ metric: {}, value: Number(value) }];
    }
    return (data.result as { metric: Record<string, string>; value: [number, string] }[]).map((sample) => ({
      metric: sample.metric,
      value: Number(sample.value[1]),
    }));
  }

  /** The single value of an expression that must return exactly one sample. */
  async value(expr: string): Promise<number> {
    const samples = await this.query(expr);
    if (samples.length !== 1) throw new Error(`${expr} returned ${samples.length} samples: ${JSON.stringify(samples)}`);
    return (samples[0] as PromSample).value;
  }

  async targets(): Promise<{ labels: Record<string, string>; health: string; lastError: string }[]> {
    return (await this.#api<{ activeTargets: { labels: Record<string, string>; health: string; lastError: string }[] }>('targets')).activeTargets;
  }

  async ruleGroups(): Promise<RuleGroupState[]> {
    return (await this.#api<{ groups: RuleGroupState[] }>('rules')).groups;
  }

  async stop(): Promise<void> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) {
      this.#child.kill('SIGTERM');
      const timer = setTimeout(() => this.#child.kill('SIGKILL'), 10_000);
      await this.exited;
      clearTimeout(timer);
    }
    rmSync(this.#dir, { recursive: true, force: true });
  }
}

// ---- metric names -------------------------------------------------------------------------------------

/** Names of the samples in a Prometheus text exposition (histograms as their _bucket/_sum/_count series). */
export function exposedSampleNames(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const line of exposition.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]/.exec(line);
    if (match) names.add(match[1] as string);
  }
  return names;
}

const PROMQL_KEYWORDS = new Set([
  'and', 'or', 'unless', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'offset', 'bool', 'inf', 'nan', 'atan2',
]);
const GROUPING = /\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g;

/**
 * The metric names a PromQL expression selects: identifiers that are not functions, keywords, label names
 * or label values. Good for the expressions Chainlog writes (not a full PromQL parser: a test runs every
 * expression against a real Prometheus too).
 */
export function metricNamesInExpr(expr: string): Set<string> {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""') // string literals (label values)
    .replace(/\{[^}]*\}/g, '{}') // label matchers
    .replace(/\[[^\]]*\]/g, '[]') // range and subquery durations
    .replace(GROUPING, ' ') // by (...), on (...), group_left (...)
    .replace(/\$\{?[a-zA-Z_]\w*\}?/g, ' '); // dashboard variables
  const names = new Set<string>();
  const token = /[a-zA-Z_:][a-zA-Z0-9_:]*/g;
  for (let match = token.exec(stripped); match !== null; match = token.exec(stripped)) {
    const name = match[0];
    const before = stripped.slice(0, match.index);
    const after = stripped.slice(match.index + name.length);
    if (/^\s*\(/.test(after)) continue; // a function call
    if (PROMQL_KEYWORDS.has(name.toLowerCase())) continue;
    if (/[0-9.]$/.test(before)) continue; // a duration or number suffix such as 5m or 1e3
    names.add(name);
  }
  return names;
}

// ---- dashboards -----------------------------------------------------------------------------------------

export interface DashboardPanel {
  id?: number;
  type: string;
  title: string;
  datasource?: { type?: string; uid?: string };
  targets?: { refId: string; expr?: string; datasource?: { type?: string; uid?: string } }[];
  gridPos?: { h: number; w: number; x: number; y: number };
  panels?: DashboardPanel[];
}

export interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  templating: { list: { name: string; type: string; query?: unknown; datasource?: { type?: string; uid?: string } }[] };
  panels: DashboardPanel[];
}

/** Every panel, rows' nested panels included. */
export function allPanels(dashboard: Dashboard): DashboardPanel[] {
  return dashboard.panels.flatMap((panel) => [panel, ...(panel.panels ?? [])]);
}

/** Every query of every panel, with the panel's title. */
export function dashboardQueries(dashboard: Dashboard): { panel: string; refId: string; expr: string }[] {
  return allPanels(dashboard).flatMap((panel) =>
    (panel.targets ?? []).filter((target) => target.expr !== undefined).map((target) => ({ panel: panel.title, refId: target.refId, expr: target.expr as string })),
  );
}

/** A dashboard expression made runnable against Prometheus: Grafana's variables replaced by values. */
export function substituteDashboardVariables(expr: string, values: Record<string, string>): string {
  return expr.replace(/\$\{(\w+)\}|\$(\w+)/g, (whole, braced: string | undefined, bare: string | undefined) => {
    const name = (braced ?? bare) as string;
    const value = values[name];
    if (value === undefined) throw new Error(`no value for dashboard variable $${name} in ${expr}`);
    return value;
  });
}
