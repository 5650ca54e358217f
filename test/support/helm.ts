// Helpers for the chart tests: the real helm and kubeconform binaries (installed by scripts/tools into
// $CHAINLOG_CACHE/bin), run with an isolated Helm home and parsed YAML output. A missing tool fails the
// test with the command that installs it: chart tests are never skipped.
import { execFile } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CHART_DIR = join(REPO_ROOT, 'charts', 'chainlog');

export function cacheDir(): string {
  return process.env.CHAINLOG_CACHE ?? join(homedir(), '.cache', 'chainlog');
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The tool in $CHAINLOG_CACHE/bin, else on PATH; throws naming the install script when it is missing. */
export function locateTool(name: string, installScript: string): string {
  const candidates = [join(cacheDir(), 'bin', name), ...(process.env.PATH ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, name))];
  const found = candidates.find(isExecutable);
  if (found === undefined) {
    throw new Error(`${name} not found in ${join(cacheDir(), 'bin')} or on PATH: install it with \`bash ${installScript}\``);
  }
  return found;
}

export function helmBinary(): string {
  return locateTool('helm', 'scripts/tools/install-helm.sh');
}

export interface KubeconformTool {
  binary: string;
  /** -schema-location templates: Kubernetes built-in kinds, then the monitoring.coreos.com CRDs. */
  schemaLocations: string[];
  kubernetesVersion: string;
}

/** The Kubernetes minor version the offline schemas are for (scripts/tools/versions.env). */
export function kubeSchemaMinor(): string {
  const versions = readFileSync(join(REPO_ROOT, 'scripts', 'tools', 'versions.env'), 'utf8');
  return /^KUBE_SCHEMA_MINOR=(\S+)/m.exec(versions)?.[1] ?? '1.34';
}

export function kubeconformTool(): KubeconformTool {
  const install = 'scripts/tools/install-kubeconform.sh';
  const binary = locateTool('kubeconform', install);
  const minor = kubeSchemaMinor();
  const schemas = join(cacheDir(), 'kube-schemas');
  const builtIn = join(schemas, `v${minor}.0-standalone-strict`);
  const crds = join(schemas, 'crds');
  if (!existsSync(builtIn)) throw new Error(`the Kubernetes ${minor} JSON schemas are missing (${builtIn}): install them with \`bash ${install}\``);
  if (!existsSync(join(crds, 'servicemonitor-monitoring-v1.json'))) {
    throw new Error(`the monitoring.coreos.com CRD schemas are missing (${crds}): install them with \`bash ${install}\``);
  }
  return {
    binary,
    kubernetesVersion: `${minor}.0`,
    schemaLocations: [
      `${schemas}/{{.NormalizedKubernetesVersion}}-standalone{{.StrictSuffix}}/{{.ResourceKind}}{{.KindSuffix}}.json`,
      `${crds}/{{.ResourceKind}}{{.KindSuffix}}.json`,
    ],
  };
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

function run(binary: string, args: string[], env: NodeJS.ProcessEnv, input?: string): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = execFile(binary, args, { env, maxBuffer: 64 * 1024 * 1024, cwd: REPO_ROOT }, (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') {
        reject(error);
        return;
      }
      resolvePromise({ code: error ? Number(error.code) : 0, stdout, stderr });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

let helmHome: string | undefined;

function home(): string {
  if (helmHome === undefined) {
    helmHome = mkdtempSync(join(tmpdir(), 'chainlog-helm-'));
  }
  return helmHome;
}

/** Removes the temporary Helm home and values files (call from afterAll). */
export function cleanupHelm(): void {
  if (helmHome !== undefined) rmSync(helmHome, { recursive: true, force: true });
  helmHome = undefined;
}

/** Runs helm with its config, cache and data directories in a temporary directory (no user repos or plugins). */
export function helm(args: string[]): Promise<RunResult> {
  const dir = home();
  const env = {
    ...process.env,
    HELM_CACHE_HOME: join(dir, 'cache'),
    HELM_CONFIG_HOME: join(dir, 'config'),
    HELM_DATA_HOME: join(dir, 'data'),
    KUBECONFIG: join(dir, 'no-kubeconfig'),
  };
  return run(helmBinary(), args, env);
}

export type Values = Record<string, unknown>;

let valuesCounter = 0;

/** Writes values to a temporary file (JSON is YAML) and returns the -f arguments. */
function valuesArgs(values: Values[]): string[] {
  const dir = home();
  return values.flatMap((value) => {
    const file = join(dir, `values-${valuesCounter++}.json`);
    writeFileSync(file, JSON.stringify(value));
    return ['-f', file];
  });
}

export interface TemplateOptions {
  release?: string;
  namespace?: string;
  chart?: string;
  extraArgs?: string[];
}

/** `helm template`; resolves with the result whether or not it succeeded. */
export function helmTemplateRaw(values: Values[] = [], options: TemplateOptions = {}): Promise<RunResult> {
  return helm([
    'template',
    options.release ?? 'chainlog',
    options.chart ?? CHART_DIR,
    '--namespace',
    options.namespace ?? 'ledger',
    ...valuesArgs(values),
    ...(options.extraArgs ?? []),
  ]);
}

/** `helm template` that must succeed; returns the manifest stream. */
export async function helmTemplate(values: Values[] = [], options: TemplateOptions = {}): Promise<string> {
  const result = await helmTemplateRaw(values, options);
  if (result.code !== 0) throw new Error(`helm template failed (exit ${result.code}):\n${result.stderr}`);
  return result.stdout;
}

export function helmLint(values: Values[] = []): Promise<RunResult> {
  return helm(['lint', '--strict', CHART_DIR, ...valuesArgs(values)]);
}

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
  [key: string]: unknown;
}

/** Parses a multi-document YAML stream; fails on any YAML error or warning. */
export function parseManifests(stream: string): K8sObject[] {
  const documents = parseAllDocuments(stream, { prettyErrors: true });
  const objects: K8sObject[] = [];
  for (const document of documents) {
    const problems = [...document.errors, ...document.warnings];
    if (problems.length > 0) throw new Error(`invalid YAML in rendered manifests: ${problems.map((p) => p.message).join('; ')}`);
    const value = document.toJS() as K8sObject | null;
    if (value !== null && value !== undefined) objects.push(value);
  }
  return objects;
}

export async function render(values: Values[] = [], options: TemplateOptions = {}): Promise<K8sObject[]> {
  return parseManifests(await helmTemplate(values, options));
}

/** Validates a manifest stream against the offline Kubernetes (and monitoring CRD) schemas, strictly. */
export function kubeconform(manifests: string): Promise<RunResult> {
  const tool = kubeconformTool();
  return new Promise((resolvePromise, reject) => {
    const args = [
      '-strict',
      '-summary',
      '-output',
      'text',
      '-kubernetes-version',
      tool.kubernetesVersion,
      ...tool.schemaLocations.flatMap((location) => ['-schema-location', location]),
      '-',
    ];
    const child = execFile(tool.binary, args, { maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') {
        reject(error);
        return;
      }
      resolvePromise({ code: error ? Number(error.code) : 0, stdout, stderr });
    });
    child.stdin?.end(manifests);
  });
}

// --- Navigating rendered objects -------------------------------------------------------------------

export interface Container {
  name: string;
  command?: string[];
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: Record<string, unknown> }[];
  [key: string]: unknown;
}

export interface PodSpec {
  containers: Container[];
  [key: string]: unknown;
}

export function find(objects: K8sObject[], kind: string, nameSuffix: string): K8sObject {
  const matches = objects.filter((object) => object.kind === kind && object.metadata.name.endsWith(nameSuffix));
  if (matches.length !== 1) {
    const present = objects.map((object) => `${object.kind}/${object.metadata.name}`).join(', ');
    throw new Error(`expected one ${kind} named *${nameSuffix}, found ${matches.length} among: ${present}`);
  }
  return matches[0] as K8sObject;
}

export function podSpec(workload: K8sObject): PodSpec {
  const template = (workload.spec as { template?: { spec?: PodSpec } } | undefined)?.template;
  if (template?.spec === undefined) throw new Error(`${workload.kind}/${workload.metadata.name} has no pod template`);
  return template.spec;
}

export function workloads(objects: K8sObject[]): K8sObject[] {
  return objects.filter((object) => ['Deployment', 'StatefulSet', 'Job', 'DaemonSet'].includes(object.kind));
}

/** The container's plain env values by name (valueFrom entries map to undefined). */
export function envOf(container: Container): Map<string, string | undefined> {
  return new Map((container.env ?? []).map((entry) => [entry.name, entry.value]));
}
