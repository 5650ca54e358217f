// Observability, proven with the real tools (docs/observability.md):
// - the alert rules: one source (the chart's file, copied for a plain Prometheus), `promtool check rules`,
//   and `promtool test rules` with a firing and a quiet case for every alert;
// - the Grafana dashboards: structure, the datasource variable, no hard-coded datasource;
// - ingest, a miner and the auditor started as processes from source against the real broker, plus the
//   operator's registry, scraped by a real Prometheus (1 s interval): `promtool check metrics` on every
//   /metrics, the key figures equal what the test drove, every dashboard query runs and returns data, every
//   metric a dashboard or an alert uses is exported, the rules evaluate cleanly, and the logs correlate
//   transaction ids and block indexes across the services.
// promtool and prometheus missing fails the tests (scripts/tools/install-apt.sh installs them).
import { readdirSync, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { closeServer, createHttpApp, listen } from '@chainlog/core/http';
import { ensureTopics } from '@chainlog/core/kafka';
import { createLogger } from '@chainlog/core/logging';
import { createMetricsRegistry } from '@chainlog/core/metrics';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { allocatePort } from '../scripts/lib/ports.js';
import { createLedgerMetrics, createOperatorMetrics, initLedgerSeries } from '../services/operator/src/metrics.js';
import { eventually, kafkaBrokers, testKafka, uniqueTopic } from './support/kafka.js';
import {
  allPanels,
  dashboardQueries,
  exposedSampleNames,
  metricNamesInExpr,
  PrometheusServer,
  promtool,
  REPO_ROOT,
  requireTool,
  substituteDashboardVariables,
  type Dashboard,
} from './support/prometheus.js';
import { ServiceProcess, type LogLine } from './support/processes.js';

const CHART_RULES = 'charts/chainlog/files/alerts/chainlog.rules.yaml';
const PLAIN_RULES = 'deploy/prometheus/chainlog.rules.yaml';
const RULE_TESTS = 'deploy/prometheus/chainlog.rules.test.yaml';
const DASHBOARD_DIR = 'charts/chainlog/files/dashboards';

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface RuleTestFile {
  rule_files: string[];
  tests: { name?: string; alert_rule_test?: { alertname: string; eval_time: string; exp_alerts?: unknown[] }[] }[];
}

const read = (path: string): string => readFileSync(join(REPO_ROOT, path), 'utf8');
const rules = (): Rule[] => (parseYaml(read(CHART_RULES)) as { groups: { rules: Rule[] }[] }).groups.flatMap((group) => group.rules);
const alerts = (): Rule[] => rules().filter((rule) => rule.alert !== undefined);
const dashboardFiles = (): string[] => readdirSync(join(REPO_ROOT, DASHBOARD_DIR)).filter((file) => file.endsWith('.json')).sort();
const dashboard = (file: string): Dashboard => JSON.parse(read(`${DASHBOARD_DIR}/${file}`)) as Dashboard;

/** Metric names a dashboard uses: panel queries and variable queries (label_values(<selector>, label)). */
function dashboardMetricNames(board: Dashboard): Map<string, string> {
  const used = new Map<string, string>();
  for (const query of dashboardQueries(board)) for (const name of metricNamesInExpr(query.expr)) used.set(name, `${board.uid}: ${query.panel}`);
  for (const variable of board.templating.list) {
    const definition = typeof variable.query === 'string' ? variable.query : (variable.query as { query?: string } | undefined)?.query;
    const selector = /label_values\(\s*([^,]+),/.exec(definition ?? '')?.[1];
    if (selector !== undefined) for (const name of metricNamesInExpr(selector)) used.set(name, `${board.uid}: variable ${variable.name}`);
  }
  return used;
}

describe('alert rules', () => {
  it('have one source: the plain rules file is the chart\'s, byte for byte', () => {
    expect(read(PLAIN_RULES), `run: cp ${CHART_RULES} ${PLAIN_RULES}`).toBe(read(CHART_RULES));
  });

  it('pass promtool check rules', () => {
    for (const file of [CHART_RULES, PLAIN_RULES]) {
      const result = promtool(['check', 'rules', file]);
      expect(result.code, result.output).toBe(0);
      expect(result.output).toContain(`SUCCESS: ${rules().length} rules found`);
    }
  });

  it('each have a severity, a summary, a runbook-style description and unique names', () => {
    const names = alerts().map((rule) => rule.alert);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toEqual(
      expect.arrayContaining([
        'ChainlogTargetDown',
        'ChainlogKafkaUnreachable',
        'ChainlogIngestErrorRatioHigh',
        'ChainlogNoBlocksWhilePending',
        'ChainlogPartitionStalled',
        'ChainlogPartitionUnowned',
        'ChainlogBlocksRejected',
        'ChainlogCoverageAnomaly',
        'ChainlogChainHeightDisagreement',
      ]),
    );
    const documentation = read('docs/observability.md');
    for (const rule of alerts()) {
      expect(['critical', 'warning', 'info'], rule.alert).toContain(rule.labels?.severity);
      expect(rule.annotations?.summary, rule.alert).toMatch(/\S/);
      expect((rule.annotations?.description ?? '').length, `${rule.alert} description`).toBeGreaterThan(200);
      expect(documentation, `docs/observability.md must describe ${rule.alert}`).toContain(`### ${rule.alert}`);
    }
  });

  it('each have a promtool unit test that fires and one that stays quiet', () => {
    const file = parseYaml(read(RULE_TESTS)) as RuleTestFile;
    expect(file.rule_files).toEqual(['chainlog.rules.yaml']);
    const assertions = file.tests.flatMap((test) => test.alert_rule_test ?? []);
    for (const rule of alerts()) {
      const own = assertions.filter((assertion) => assertion.alertname === rule.alert);
      expect(own.some((assertion) => (assertion.exp_alerts ?? []).length > 0), `${rule.alert}: a firing case`).toBe(true);
      expect(own.some((assertion) => (assertion.exp_alerts ?? []).length === 0), `${rule.alert}: a quiet case`).toBe(true);
    }
  });

  it('pass promtool test rules', () => {
    const result = promtool(['test', 'rules', RULE_TESTS]);
    expect(result.code, result.output).toBe(0);
    expect(result.output).toContain('SUCCESS');
  });
});

describe('Grafana dashboards', () => {
  it('are the overview and the mining dashboards', () => {
    expect(dashboardFiles()).toEqual(['chainlog-mining.json', 'chainlog-overview.json']);
  });

  it.each(dashboardFiles())('%s: schema 39, a datasource variable, every query on ${datasource}, sane layout', (file) => {
    const board = dashboard(file);
    expect(board.uid).toBe(file.replace(/\.json$/, ''));
    expect(board.schemaVersion).toBe(39);
    expect(board.templating.list[0]).toMatchObject({ name: 'datasource', type: 'datasource', query: 'prometheus' });
    const variableNames = board.templating.list.map((variable) => variable.name);
    for (const variable of board.templating.list.filter((candidate) => candidate.type === 'query')) {
      expect(variable.datasource, variable.name).toEqual({ type: 'prometheus', uid: '${datasource}' });
    }
    // No hard-coded data source anywhere: every uid in the file is the variable.
    const uids = [...JSON.stringify(board).matchAll(/"uid":"([^"]*)"/g)].map((match) => match[1]);
    expect(new Set(uids)).toEqual(new Set([board.uid, '${datasource}']));

    const panels = allPanels(board);
    const ids = panels.map((panel) => panel.id);
    expect(new Set(ids).size, 'unique panel ids').toBe(ids.length);
    for (const panel of panels) {
      expect(panel.gridPos, panel.title).toBeDefined();
      const { x, w } = panel.gridPos as { x: number; w: number };
      expect(x + w, `${panel.title} fits the 24 columns`).toBeLessThanOrEqual(24);
      if (panel.type === 'row') continue;
      expect(panel.datasource, panel.title).toEqual({ type: 'prometheus', uid: '${datasource}' });
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      for (const target of panel.targets ?? []) {
        expect(target.datasource, `${panel.title} ${target.refId}`).toEqual({ type: 'prometheus', uid: '${datasource}' });
        expect(target.expr, `${panel.title} ${target.refId}`).toMatch(/\S/);
        // Filtered by the namespace variable, so several installations in one Prometheus stay apart.
        expect(target.expr, `${panel.title} ${target.refId}`).toContain('namespace="$namespace"');
        for (const used of (target.expr as string).matchAll(/\$(\w+)/g)) {
          expect([...variableNames, '__rate_interval', '__range', '__interval'], `${panel.title}: $${used[1]}`).toContain(used[1]);
        }
        // Histograms are read through rate() of their buckets.
        if (target.expr?.includes('histogram_quantile')) expect(target.expr).toMatch(/histogram_quantile\([\d.]+, sum by \([^)]*\ble\b[^)]*\) \(rate\(\w+_bucket\{/);
      }
    }
  });

  it('the overview shows throughput, commit latency percentiles, chain height per service, miners vs partitions, errors and bounded state', () => {
    const exprs = dashboardQueries(dashboard('chainlog-overview.json')).map((query) => query.expr).join('\n');
    for (const expected of [
      'chainlog_ingest_transactions_accepted_total',
      'chainlog_auditor_transactions_committed_total',
      'histogram_quantile(0.99, sum by (le) (rate(chainlog_transaction_commit_latency_seconds_bucket',
      'max by (service, pod) (chainlog_chain_height',
      'chainlog_operator_unowned_partitions',
      'chainlog_miner_owned_partitions',
      'chainlog_ingest_transactions_rejected_total',
      'chainlog_auditor_blocks_rejected_total',
      'chainlog_miner_oldest_pending_transaction_age_seconds',
      'chainlog_miner_replay_window_seconds',
      'chainlog_ingest_backlogged_partitions',
      'chainlog_auditor_index_missing_blocks',
      'chainlog_auditor_backfill_blocks_total',
    ]) {
      expect(exprs).toContain(expected);
    }
  });

  it('the mining dashboard shows hash rate, pending, lag, blocks mined and orphaned, owned partitions per miner and partition', () => {
    const exprs = dashboardQueries(dashboard('chainlog-mining.json')).map((query) => query.expr).join('\n');
    for (const expected of [
      'rate(chainlog_miner_hashes_total',
      'chainlog_miner_pending_transactions',
      'chainlog_miner_partition_lag',
      'chainlog_miner_blocks_mined_total',
      'chainlog_miner_blocks_orphaned_total',
      'chainlog_miner_owned_partitions',
      'chainlog_auditor_oldest_pending_transaction_age_seconds',
    ]) {
      expect(exprs).toContain(expected);
    }
  });
});

describe('metric names in PromQL', () => {
  it('are the selected series, not functions, keywords, labels or durations', () => {
    expect([
      ...metricNamesInExpr(
        'histogram_quantile(0.99, sum by (le, service) (rate(a_bucket{namespace="$namespace", route=~"/v1/.*"}[$__rate_interval]))) / on (namespace) group_left (pod) max without (instance) (b offset 5m) or vector(0) and c_total > bool 1e3',
      ),
    ].sort()).toEqual(['a_bucket', 'b', 'c_total']);
  });
});

// ---- the running system ------------------------------------------------------------------------------

const NAMESPACE = 'observability-test';
const PARTITIONS = 2;
const DIFFICULTY = '4';

describe('services scraped by a real Prometheus', () => {
  const topics = {
    TOPIC_TRANSACTIONS: uniqueTopic('obs-tx'),
    TOPIC_BLOCKCHAIN: uniqueTopic('obs-chain'),
    TOPIC_AUDIT: uniqueTopic('obs-audit'),
    TOPIC_DEAD_LETTER: uniqueTopic('obs-dlq'),
  };
  const services: Record<'ingest' | 'miner' | 'auditor', ServiceProcess | undefined> = { ingest: undefined, miner: undefined, auditor: undefined };
  let operatorServer: Server | undefined;
  let operatorUrl = '';
  let prometheus: PrometheusServer | undefined;
  const exposition = new Map<string, string>();
  /** What the test drove. */
  const ids: string[] = [];
  const committedAt = new Map<string, number>();
  let height = -1;
  const timings: Record<string, number> = {};

  const service = (name: keyof typeof services): ServiceProcess => {
    const running = services[name];
    if (running === undefined) throw new Error(`${name} did not start`);
    return running;
  };
  const prom = (): PrometheusServer => {
    if (prometheus === undefined) throw new Error('prometheus did not start');
    return prometheus;
  };

  beforeAll(async () => {
    const started = Date.now();
    requireTool('prometheus');
    requireTool('promtool');
    const admin = testKafka().admin();
    await admin.connect();
    await ensureTopics(admin, [
      { topic: topics.TOPIC_TRANSACTIONS, partitions: PARTITIONS },
      { topic: topics.TOPIC_BLOCKCHAIN, partitions: 1 },
      { topic: topics.TOPIC_AUDIT, partitions: 1 },
      { topic: topics.TOPIC_DEAD_LETTER, partitions: 1 },
    ]);
    await admin.disconnect();

    const common = { KAFKA_BROKERS: kafkaBrokers(), ...topics, DIFFICULTY };
    const [ingestPort, minerPort, auditorPort] = [await allocatePort(), await allocatePort(), await allocatePort()];
    services.auditor = new ServiceProcess('auditor', 'auditor', { ...common, HTTP_PORT: String(auditorPort) }).start();
    services.miner = new ServiceProcess('miner', 'miner', {
      ...common,
      HTTP_PORT: String(minerPort),
      MINER_ID: 'obs-miner-0',
      MINER_ORDINAL: '0',
      MINER_REPLICAS: '1',
      MINER_GROUP_ID: uniqueTopic('obs-miners'),
      MAX_BLOCK_WAIT_MS: '200',
    }).start();
    services.ingest = new ServiceProcess('ingest', 'ingest', { ...common, HTTP_PORT: String(ingestPort), AUDITOR_PUBLIC_URL: `http://127.0.0.1:${auditorPort}` }).start();

    // The operator needs a Kubernetes API to run; its registry (metrics module + core's HTTP app) stands in.
    const registry = createMetricsRegistry('operator');
    const operatorMetrics = createOperatorMetrics(registry, () => true);
    operatorMetrics.partitions.set(PARTITIONS);
    operatorMetrics.desiredMiners.set(PARTITIONS);
    operatorMetrics.readyMiners.set(PARTITIONS);
    operatorMetrics.unownedPartitions.set(0);
    operatorMetrics.reconcileDuration.observe(0.02);
    // ... and the Ledger controller's (operator.mode=ledgers, the chart's default): the dashboards and alerts read either.
    const ledgerMetrics = createLedgerMetrics(registry);
    const ledgerLabels = { namespace: NAMESPACE, ledger: 'obs' };
    initLedgerSeries(ledgerMetrics, ledgerLabels);
    ledgerMetrics.partitions.set(ledgerLabels, PARTITIONS);
    ledgerMetrics.miners.set(ledgerLabels, PARTITIONS);
    ledgerMetrics.readyMiners.set(ledgerLabels, PARTITIONS);
    ledgerMetrics.reconcileDuration.observe(ledgerLabels, 0.02);
    const { app, finish } = createHttpApp({ logger: createLogger('operator', 'silent'), registry, readiness: () => ({ ready: true }) });
    finish();
    operatorServer = await listen(app, 0, '127.0.0.1');
    operatorUrl = `http://127.0.0.1:${(operatorServer.address() as AddressInfo).port}`;

    const target = (name: string, url: string) => ({
      job: `chainlog-${name}`,
      address: url.replace('http://', ''),
      labels: { namespace: NAMESPACE, service: name, pod: `${name}-0` },
    });
    prometheus = await PrometheusServer.start({
      targets: [
        target('ingest', service('ingest').url),
        target('miner', service('miner').url),
        target('auditor', service('auditor').url),
        target('operator', operatorUrl),
      ],
      ruleFiles: [join(REPO_ROOT, PLAIN_RULES)],
    });
    await Promise.all([service('auditor').ready(60_000), service('miner').ready(60_000), service('ingest').ready(60_000)]);
    timings.startMs = Date.now() - started;

    // Drive: one batch of 10, two single transactions, one refused transaction.
    const post = (body: unknown) =>
      fetch(`${service('ingest').url}/v1/transactions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const batch = Array.from({ length: 10 }, (_, i) => ({ id: `obs-${i}`, from: `sender-${i % 5}`, to: 'shop', amount: i + 1 }));
    expect((await post(batch)).status).toBe(202);
    for (const single of [{ id: 'obs-single-0', from: 'alice', to: 'bob', amount: 3 }, { id: 'obs-single-1', from: 'bob', to: 'alice', amount: 1 }]) {
      expect((await post(single)).status).toBe(202);
    }
    expect((await post({ from: 'alice', to: 'bob', amount: -1 })).status).toBe(400);
    ids.push(...batch.map((transaction) => transaction.id), 'obs-single-0', 'obs-single-1');

    // Wait until every transaction is committed, as the auditor's API says.
    const driven = Date.now();
    await eventually(
      async () => {
        for (const id of ids.filter((candidate) => !committedAt.has(candidate))) {
          const status = (await (await fetch(`${service('auditor').url}/v1/transactions/${id}`)).json()) as { status: string; blockIndex?: number };
          expect(status.status, `${id}\n${service('miner').tail(5)}`).toBe('committed');
          committedAt.set(id, status.blockIndex as number);
        }
      },
      45_000,
      250,
    );
    height = ((await (await fetch(`${service('auditor').url}/v1/chain/head`)).json()) as { height: number }).height;
    timings.commitMs = Date.now() - driven;

    // Let Prometheus scrape the final state (and evaluate the rules) before the checks.
    await eventually(
      async () => {
        expect(await prom().value(`sum(chainlog_auditor_transactions_committed_total{namespace="${NAMESPACE}"})`)).toBe(ids.length);
        expect(await prom().value(`sum(chainlog_ingest_transactions_accepted_total{namespace="${NAMESPACE}"})`)).toBe(ids.length);
        expect((await prom().query(`chainlog_chain_height{namespace="${NAMESPACE}"}`)).map((sample) => sample.value)).toEqual([height, height]);
      },
      20_000,
      500,
    );
    for (const [name, url] of [
      ['ingest', service('ingest').url],
      ['miner', service('miner').url],
      ['auditor', service('auditor').url],
      ['operator', operatorUrl],
    ] as const) {
      exposition.set(name, await (await fetch(`${url}/metrics`)).text());
    }
    timings.totalMs = Date.now() - started;
  }, 120_000);

  afterAll(async () => {
    await Promise.allSettled(Object.values(services).map((running) => running?.stop()));
    if (operatorServer) await closeServer(operatorServer, 1000);
    await prometheus?.stop();
    console.info(`observability: services ready in ${timings.startMs} ms, committed in ${timings.commitMs} ms, set up in ${timings.totalMs} ms`);
  }, 60_000);

  it('every service\'s /metrics passes promtool check metrics', () => {
    expect([...exposition.keys()].sort()).toEqual(['auditor', 'ingest', 'miner', 'operator']);
    for (const [name, text] of exposition) {
      const result = promtool(['check', 'metrics'], { input: text });
      expect(result.code, `${name}: ${result.output}`).toBe(0);
      expect(result.output.trim(), name).toBe('');
      // Every series carries the service label, and no label carries ids or hashes.
      for (const line of text.split('\n').filter((candidate) => candidate !== '' && !candidate.startsWith('#'))) {
        expect(line, name).toContain(`service="${name}"`);
        expect(line, name).not.toMatch(/="[0-9a-f]{16,}"|="obs-|="tx:/);
      }
    }
  });

  it('Prometheus scrapes every service and the key figures are what the test drove', async () => {
    // On a loaded machine one scrape can time out; every target must be up again within a few scrapes.
    await eventually(async () => {
      const targets = await prom().targets();
      expect(targets.map((target) => `${target.labels.job} ${target.health}`).sort()).toEqual(
        ['chainlog-auditor up', 'chainlog-ingest up', 'chainlog-miner up', 'chainlog-operator up'],
      );
    }, 15_000, 500);
    const ns = `namespace="${NAMESPACE}"`;
    const p = prom();
    expect(await p.value(`sum(chainlog_ingest_transactions_accepted_total{${ns}})`)).toBe(ids.length);
    expect(await p.value(`sum(chainlog_ingest_transactions_rejected_total{${ns}, reason="invalid-field"})`)).toBe(1);
    expect(await p.value(`sum(chainlog_ingest_transactions_rejected_total{${ns}})`)).toBe(1);
    expect(await p.value(`sum(chainlog_http_request_duration_seconds_count{${ns}, service="ingest", route="/v1/transactions", status="202"})`)).toBe(3);
    expect(await p.value(`sum(chainlog_http_request_duration_seconds_count{${ns}, service="ingest", route="/v1/transactions", status="400"})`)).toBe(1);
    expect(await p.value(`min(chainlog_ingest_kafka_available{${ns}})`)).toBe(1);
    expect(await p.value(`max(chainlog_ingest_topic_partitions{${ns}})`)).toBe(PARTITIONS);

    expect(await p.value(`sum(chainlog_auditor_transactions_committed_total{${ns}})`)).toBe(ids.length);
    expect(await p.value(`sum(chainlog_auditor_source_messages_committed_total{${ns}})`)).toBe(ids.length);
    expect((await p.query(`chainlog_auditor_source_messages_committed_total{${ns}}`)).map((sample) => sample.metric.partition).sort()).toEqual(['0', '1']);
    expect(await p.value(`sum(chainlog_transaction_commit_latency_seconds_count{${ns}})`)).toBe(ids.length);
    const p99 = await p.value(`histogram_quantile(0.99, sum by (le) (chainlog_transaction_commit_latency_seconds_bucket{${ns}}))`);
    expect(Number.isFinite(p99) && p99 >= 0, `commit latency p99 ${p99}`).toBe(true);
    expect(await p.value(`sum(chainlog_auditor_pending_transactions{${ns}})`)).toBe(0);
    expect(await p.value(`max(chainlog_auditor_oldest_pending_transaction_age_seconds{${ns}})`)).toBe(0);
    expect(await p.value(`sum(chainlog_auditor_blocks_rejected_total{${ns}})`)).toBe(0);

    // Chain height per service: the miner and the auditor agree with the auditor's API.
    const heights = await p.query(`chainlog_chain_height{${ns}}`);
    expect(Object.fromEntries(heights.map((sample) => [sample.metric.service, sample.value]))).toEqual({ miner: height, auditor: height });
    expect(height).toBe(Math.max(...committedAt.values()));
    // Every block after genesis was mined by the one miner and accepted by the auditor.
    expect(await p.value(`sum(chainlog_miner_blocks_mined_total{${ns}})`)).toBe(height);
    // Live or replayed at the auditor's start (genesis may precede it), every block counted once.
    expect(await p.value(`sum(chainlog_auditor_blocks_accepted_total{${ns}}) + sum(chainlog_auditor_blocks_replayed_total{${ns}})`)).toBe(height + 1);
    expect(await p.value(`sum(chainlog_miner_blocks_orphaned_total{${ns}})`)).toBe(0);
    expect(await p.value(`sum(chainlog_miner_owned_partitions{${ns}})`)).toBe(PARTITIONS);
    expect(await p.value(`sum(chainlog_miner_pending_transactions{${ns}})`)).toBe(0);
    expect(await p.value(`sum(chainlog_miner_hashes_total{${ns}})`)).toBeGreaterThan(0);
    expect(await p.value(`max(chainlog_operator_unowned_partitions{${ns}})`)).toBe(0);
  });

  it('every dashboard query runs on Prometheus and returns data', async () => {
    const values = { namespace: NAMESPACE, pod: '.*', partition: '.*', __rate_interval: '20s', __range: '5m', __interval: '5s' };
    // Rates need two scrapes in their window: on a loaded machine a slow scrape can leave a gap, so retry.
    await eventually(async () => {
      const empty: string[] = [];
      for (const file of dashboardFiles()) {
        for (const query of dashboardQueries(dashboard(file))) {
          const samples = await prom().query(substituteDashboardVariables(query.expr, values));
          if (samples.length === 0) empty.push(`${file} "${query.panel}" ${query.refId}: ${query.expr}`);
        }
      }
      expect(empty).toEqual([]);
    }, 20_000, 1000);
  });

  it('every metric a dashboard or an alert uses is exported by a service', () => {
    const exported = new Set([...exposition.values()].flatMap((text) => [...exposedSampleNames(text)]));
    const used = new Map<string, string>();
    for (const file of dashboardFiles()) for (const [name, where] of dashboardMetricNames(dashboard(file))) used.set(name, where);
    for (const rule of rules()) for (const name of metricNamesInExpr(rule.expr)) used.set(name, `alert ${rule.alert ?? rule.record}`);
    const builtIn = new Set(['up']);
    const missing = [...used].filter(([name]) => !builtIn.has(name) && !exported.has(name)).map(([name, where]) => `${name} (${where})`);
    expect(missing).toEqual([]);
    // The extraction found the metrics (a broken extractor would pass the check above vacuously).
    expect(used.size).toBeGreaterThan(40);
  });

  it('the alert rules evaluate without errors and none fires on a healthy ledger', async () => {
    const groups = await eventually(async () => {
      const current = await prom().ruleGroups();
      const states = current.flatMap((group) => group.rules);
      expect(states.length).toBe(rules().length);
      expect(states.filter((rule) => rule.health !== 'ok').map((rule) => `${rule.name}: ${rule.health} ${rule.lastError ?? ''}`)).toEqual([]);
      return current;
    }, 15_000, 500);
    expect(groups.map((group) => group.name)).toEqual(['chainlog.availability', 'chainlog.chain', 'chainlog.operator']);
    expect(await prom().query('ALERTS{alertstate="firing"}')).toEqual([]);
  });

  it('logs name the transaction ids and block indexes at ingest accept, miner publish and auditor commit', () => {
    const lines = (name: keyof typeof services, msg: string): LogLine[] => service(name).logs.filter((line) => line.msg === msg);
    const accepted = lines('ingest', 'transactions accepted').flatMap((line) => line.transactionIds as string[]);
    expect(accepted.sort()).toEqual([...ids].sort());

    const blockOf = (name: 'miner' | 'auditor', msg: string): Map<string, number> => {
      const found = new Map<string, number>();
      for (const line of lines(name, msg)) {
        expect(typeof line.blockIndex, `${name} ${msg}`).toBe('number');
        for (const id of line.transactionIds as string[]) found.set(id, line.blockIndex as number);
      }
      return found;
    };
    const mined = blockOf('miner', 'mined block');
    const committed = blockOf('auditor', 'block committed');
    expect(Object.fromEntries(mined)).toEqual(Object.fromEntries(committedAt));
    expect(Object.fromEntries(committed)).toEqual(Object.fromEntries(committedAt));
    for (const name of ['ingest', 'miner', 'auditor'] as const) {
      expect(service(name).logs.filter((line) => line.level === 'error' || line.level === 'fatal'), name).toEqual([]);
    }
  });
});
