// Static checks of the container and deployment files this machine cannot run (no Docker engine, no
// cluster): docker-compose.yml, the Dockerfile, .dockerignore, deploy/compose and skaffold.yaml must refer
// only to things that exist, and give each service only settings it reads. Each checker returns a list of
// problems; the last tests feed them broken inputs to show that they do find problems.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, posix, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseStartOptions } from '../scripts/lib/start-options.js';
import { servicePlan, type PlannedService } from '../scripts/lib/start-plan.js';
import { envNamesRead } from './support/env-names.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

type Json = Record<string, unknown>;

function readYaml(path: string): Json {
  return parse(readFileSync(join(ROOT, path), 'utf8'), { merge: true }) as Json;
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function exists(path: string): boolean {
  return existsSync(join(ROOT, path));
}

// ---- which environment variables each service reads ----

/** Variables that Node.js or the container runtime use, not the service's config. */
const RUNTIME_VARIABLES = new Set(['NODE_ENV', 'NODE_OPTIONS', 'TZ', 'HOME']);

/** services/<svc>/dist/<path>.js → services/<svc>/src/<path>.ts */
function sourceOf(distFile: string): string | undefined {
  const match = /^(?:\.\/|\/app\/)?(services\/[a-z-]+)\/dist\/(.+)\.js$/.exec(distFile);
  return match === null ? undefined : `${match[1]}/src/${match[2]}.ts`;
}

// ---- docker-compose.yml ----

const CONDITIONS = new Set(['service_started', 'service_healthy', 'service_completed_successfully']);

function isChainlogImage(service: Json): boolean {
  const build = service.build;
  const dockerfile = isObject(build) ? (build.dockerfile ?? 'Dockerfile') : typeof build === 'string' ? 'Dockerfile' : undefined;
  return dockerfile === 'Dockerfile' || String(service.image ?? '').includes('chainlog');
}

/** The script a chainlog container runs with node: from the entrypoint, else from the command. */
function chainlogEntry(service: Json): string | undefined {
  const words = [...(Array.isArray(service.entrypoint) ? service.entrypoint : []), ...(Array.isArray(service.command) ? service.command : [])];
  return words.find((word): word is string => typeof word === 'string' && word.endsWith('.js'));
}

function dependsOn(service: Json): Array<[string, string]> {
  const value = service.depends_on;
  if (Array.isArray(value)) return value.map((name) => [String(name), 'service_started']);
  if (isObject(value)) return Object.entries(value).map(([name, spec]) => [name, isObject(spec) ? String(spec.condition ?? 'service_started') : 'service_started']);
  return [];
}

function environment(service: Json): Record<string, string> {
  const value = service.environment;
  if (Array.isArray(value)) return Object.fromEntries(value.map((item) => String(item).split(/=(.*)/s).slice(0, 2) as [string, string]));
  if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, String(item)]));
  return {};
}

export function composeProblems(compose: Json, dockerfileHasHealthcheck: boolean): string[] {
  const problems: string[] = [];
  const services = compose.services;
  if (!isObject(services)) return ['no services'];
  const volumes = isObject(compose.volumes) ? Object.keys(compose.volumes) : [];
  for (const [name, raw] of Object.entries(services)) {
    if (!isObject(raw)) {
      problems.push(`${name}: not a mapping`);
      continue;
    }
    const service = raw;
    if (service.image === undefined && service.build === undefined) problems.push(`${name}: neither image nor build`);
    if (isObject(service.build)) {
      const context = String(service.build.context ?? '.');
      if (!exists(context)) problems.push(`${name}: build context ${context} does not exist`);
      const dockerfile = posix.join(context, String(service.build.dockerfile ?? 'Dockerfile'));
      if (!exists(dockerfile)) problems.push(`${name}: ${dockerfile} does not exist`);
    }
    for (const [target, condition] of dependsOn(service)) {
      const other = services[target];
      if (!isObject(other)) {
        problems.push(`${name}: depends_on ${target}, which is not a service`);
        continue;
      }
      if (!CONDITIONS.has(condition)) problems.push(`${name}: depends_on ${target} with unknown condition ${condition}`);
      if (condition === 'service_healthy') {
        const check = other.healthcheck;
        const disabled = isObject(check) && check.disable === true;
        const own = isObject(check) && Array.isArray(check.test);
        if (disabled || (!own && !(isChainlogImage(other) && dockerfileHasHealthcheck))) {
          problems.push(`${name}: waits for ${target} to be healthy, but ${target} has no healthcheck`);
        }
      }
      if (condition === 'service_completed_successfully' && other.restart !== 'no') {
        problems.push(`${name}: waits for ${target} to complete, but ${target} restarts (restart: "no" makes it a one-shot)`);
      }
      if (other.profiles !== undefined && service.profiles === undefined) {
        problems.push(`${name}: depends on ${target}, which only runs in profiles ${JSON.stringify(other.profiles)}`);
      }
    }
    for (const mount of Array.isArray(service.volumes) ? service.volumes : []) {
      const source = typeof mount === 'string' ? mount.split(':')[0] : isObject(mount) ? String(mount.source) : '';
      if (source === undefined || source === '') continue;
      if (source.startsWith('.') || source.startsWith('/')) {
        if (!exists(source)) problems.push(`${name}: mounts ${source}, which does not exist`);
      } else if (!volumes.includes(source)) {
        problems.push(`${name}: mounts volume ${source}, which is not declared under volumes`);
      }
    }
    if (isChainlogImage(service)) {
      const entry = chainlogEntry(service);
      const source = entry === undefined ? undefined : sourceOf(entry);
      if (entry === undefined || source === undefined) {
        problems.push(`${name}: runs no services/<svc>/dist/*.js`);
        continue;
      }
      if (!exists(source)) {
        problems.push(`${name}: runs ${entry}, but ${source} does not exist`);
        continue;
      }
      const read = envNamesRead(source);
      for (const variable of Object.keys(environment(service))) {
        if (!read.has(variable) && !RUNTIME_VARIABLES.has(variable)) problems.push(`${name}: sets ${variable}, which ${source.split('/')[1]} does not read`);
      }
      if (String(service.user ?? '').startsWith('0') || service.user === 'root') problems.push(`${name}: runs as root`);
    }
  }
  return problems;
}

/** Prometheus targets must be compose services, on the port their HTTP_PORT names. */
export function prometheusProblems(prometheus: Json, compose: Json): string[] {
  const problems: string[] = [];
  const services = isObject(compose.services) ? compose.services : {};
  const jobs = Array.isArray(prometheus.scrape_configs) ? prometheus.scrape_configs : [];
  if (jobs.length === 0) problems.push('prometheus.yml has no scrape_configs');
  for (const job of jobs) {
    for (const group of isObject(job) && Array.isArray(job.static_configs) ? job.static_configs : []) {
      for (const target of isObject(group) && Array.isArray(group.targets) ? group.targets : []) {
        const [host, port] = String(target).split(':');
        const service = services[host as string];
        if (!isObject(service)) {
          problems.push(`prometheus scrapes ${target}, but ${host} is not a compose service`);
          continue;
        }
        const httpPort = environment(service).HTTP_PORT;
        if (httpPort !== port) problems.push(`prometheus scrapes ${target}, but ${host} listens on HTTP_PORT ${httpPort}`);
      }
    }
  }
  return problems;
}

// ---- Dockerfile and .dockerignore ----

interface Instruction {
  stage: number;
  keyword: string;
  args: string;
}

export function parseDockerfile(text: string): Instruction[] {
  const instructions: Instruction[] = [];
  let stage = -1;
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (pending === '' && (line.trim() === '' || line.trim().startsWith('#'))) continue;
    if (line.trim().startsWith('#')) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    const full = (pending + line).trim();
    pending = '';
    const [keyword = '', ...rest] = full.split(/\s+/);
    const upper = keyword.toUpperCase();
    if (upper === 'FROM') stage += 1;
    instructions.push({ stage, keyword: upper, args: rest.join(' ') });
  }
  return instructions;
}

function globToRegExp(pattern: string): RegExp {
  const escaped = pattern
    .replace(/^\/+|\/+$/g, '')
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*\*\//g, '@@ANY@@')
    .replace(/\*/g, '[^/]*')
    .replace(/\?/g, '[^/]')
    .replaceAll('@@ANY@@', '(?:.*/)?');
  return new RegExp(`^${escaped}(?:/.*)?$`);
}

export function dockerignored(patterns: readonly string[], path: string): boolean {
  let ignored = false;
  for (const pattern of patterns) {
    const negated = pattern.startsWith('!');
    if (globToRegExp(negated ? pattern.slice(1) : pattern).test(path.replace(/^\.\//, '').replace(/\/+$/, ''))) ignored = !negated;
  }
  return ignored;
}

function readDockerignore(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

function workspaces(): string[] {
  return (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { workspaces: string[] }).workspaces;
}

export function dockerfileProblems(text: string, ignore: readonly string[]): string[] {
  const problems: string[] = [];
  const instructions = parseDockerfile(text);
  const args = new Map<string, string>();
  for (const { stage, keyword, args: value } of instructions) {
    if (keyword === 'ARG' && stage === -1) {
      const [name, fallback] = value.split('=');
      if (name !== undefined && fallback !== undefined) args.set(name, fallback);
    }
  }
  const stages = instructions.filter((instruction) => instruction.keyword === 'FROM');
  if (stages.length < 2) problems.push('not a multi-stage build');
  for (const from of stages) {
    const image = (from.args.split(/\s+/)[0] ?? '').replace(/\$\{(\w+)\}/g, (_, name: string) => args.get(name) ?? '');
    if (!/^node:20([.-]|$)/.test(image)) problems.push(`FROM ${image}: the services need Node.js 20`);
  }
  const last = stages.length - 1;
  const inStage = (stage: number, keyword: string): Instruction[] => instructions.filter((instruction) => instruction.stage === stage && instruction.keyword === keyword);

  for (const { args: value, stage } of instructions.filter((instruction) => instruction.keyword === 'COPY' || instruction.keyword === 'ADD')) {
    if (/--from=/.test(value)) continue;
    const words = value.split(/\s+/).filter((word) => !word.startsWith('--'));
    for (const source of words.slice(0, -1)) {
      if (!exists(source)) problems.push(`COPY ${source} (stage ${stage}): no such file in the repository`);
      else if (dockerignored(ignore, source)) problems.push(`COPY ${source} (stage ${stage}): excluded by .dockerignore`);
    }
  }
  // npm ci needs every workspace's manifest copied before it runs, or it fails (npm ci with workspaces).
  for (let stage = 0; stage <= last; stage++) {
    const steps = instructions.filter((instruction) => instruction.stage === stage);
    const install = steps.findIndex((step) => step.keyword === 'RUN' && step.args.includes('npm ci'));
    if (install < 0) continue;
    const copies = steps.slice(0, install).filter((step) => step.keyword === 'COPY').map((copy) => copy.args);
    for (const workspace of workspaces()) {
      if (!copies.some((copy) => copy.startsWith(`${workspace}/package.json `) || copy.startsWith('. ') || copy.startsWith('services/ '))) {
        problems.push(`stage ${stage} runs npm ci without ${workspace}/package.json`);
      }
    }
    if (!copies.some((copy) => copy.includes('package-lock.json'))) problems.push(`stage ${stage} runs npm ci without package-lock.json`);
  }
  if (!instructions.some((instruction) => instruction.keyword === 'RUN' && instruction.stage < last && /tsc -b tsconfig\.build\.json|npm run build/.test(instruction.args))) {
    problems.push('no build stage runs tsc -b tsconfig.build.json');
  }
  if (!inStage(last, 'RUN').some((run) => /npm ci .*--omit=dev/.test(run.args))) problems.push('the runtime stage does not install production dependencies only (npm ci --omit=dev)');
  const users = inStage(last, 'USER');
  const user = users.at(-1)?.args.split(':')[0];
  if (user === undefined) problems.push('the runtime stage has no USER: it would run as root');
  else if (!/^\d+$/.test(user) || user === '0') problems.push(`USER ${user}: use a numeric non-root uid (Kubernetes runAsNonRoot needs one)`);
  else if (user !== '10001') problems.push(`USER ${user}: the chart runs as 10001`);
  const healthcheck = inStage(last, 'HEALTHCHECK').at(-1);
  if (healthcheck === undefined || !healthcheck.args.includes('/healthz') || !healthcheck.args.includes('HTTP_PORT')) {
    problems.push('no HEALTHCHECK of /healthz on HTTP_PORT');
  }
  const execForm = (args: string | undefined): string[] | undefined => {
    try {
      const value = JSON.parse(args ?? '') as unknown;
      return Array.isArray(value) ? value.map(String) : undefined;
    } catch {
      return undefined;
    }
  };
  const entrypoint = execForm(inStage(last, 'ENTRYPOINT').at(-1)?.args);
  if (entrypoint?.join(' ') !== 'node') problems.push('ENTRYPOINT must be ["node"] (the chart runs node services/<svc>/dist/main.js)');
  const cmd = inStage(last, 'CMD').at(-1)?.args;
  const script = execForm(cmd)?.[0];
  const source = script === undefined ? undefined : sourceOf(script);
  if (source === undefined || !exists(source)) problems.push(`CMD ${cmd ?? '(none)'} does not run a service that exists`);
  const copiedDist = inStage(last, 'COPY')
    .filter((copy) => copy.args.includes('--from='))
    .map((copy) => copy.args);
  for (const workspace of workspaces()) {
    if (!copiedDist.some((copy) => copy.includes(`${workspace}/dist`))) problems.push(`the runtime stage lacks ${workspace}/dist`);
  }
  const workdir = inStage(last, 'WORKDIR').at(-1)?.args;
  if (workdir !== '/app') problems.push(`WORKDIR ${workdir ?? '(none)'}: the chart expects /app`);
  return problems;
}

export function dockerignoreProblems(patterns: readonly string[]): string[] {
  return ['node_modules', 'services/core/node_modules', 'services/core/dist', '.data', '.git', 'coverage']
    .filter((path) => !dockerignored(patterns, path))
    .map((path) => `.dockerignore does not exclude ${path}`);
}

// ---- skaffold.yaml ----

function valuesHave(values: Json, dotted: string): boolean {
  let node: unknown = values;
  for (const key of dotted.split('.')) {
    if (!isObject(node) || !(key in node)) return false;
    node = node[key];
  }
  return true;
}

function applyPatches(document: Json, patches: unknown[]): { document: Json; problems: string[] } {
  const copy = structuredClone(document);
  const problems: string[] = [];
  for (const patch of patches) {
    if (!isObject(patch) || typeof patch.path !== 'string') {
      problems.push(`bad patch ${JSON.stringify(patch)}`);
      continue;
    }
    const keys = patch.path.split('/').slice(1).map((key) => key.replaceAll('~1', '/').replaceAll('~0', '~'));
    const last = keys.pop() as string;
    let node: unknown = copy;
    for (const key of keys) node = isObject(node) ? node[key] : Array.isArray(node) ? node[Number(key)] : undefined;
    if (!isObject(node) && !Array.isArray(node)) {
      problems.push(`patch ${patch.path}: its parent does not exist`);
      continue;
    }
    if (patch.op === 'add' || patch.op === 'replace') (node as Json)[last] = patch.value;
    else if (patch.op === 'remove') delete (node as Json)[last];
    else problems.push(`patch ${patch.path}: unsupported op ${String(patch.op)}`);
  }
  return { document: copy, problems };
}

function releaseProblems(config: Json, where: string): string[] {
  const problems: string[] = [];
  const build = isObject(config.build) ? config.build : {};
  const artifacts = Array.isArray(build.artifacts) ? build.artifacts.filter(isObject) : [];
  if (artifacts.length === 0) problems.push(`${where}: builds no image`);
  for (const artifact of artifacts) {
    const context = String(artifact.context ?? '.');
    const dockerfile = posix.join(context, String(isObject(artifact.docker) ? (artifact.docker.dockerfile ?? 'Dockerfile') : 'Dockerfile'));
    if (!exists(dockerfile)) problems.push(`${where}: artifact ${String(artifact.image)} has no ${dockerfile}`);
  }
  const deploy = isObject(config.deploy) && isObject(config.deploy.helm) ? config.deploy.helm : undefined;
  const releases = deploy !== undefined && Array.isArray(deploy.releases) ? deploy.releases.filter(isObject) : [];
  if (releases.length === 0) problems.push(`${where}: deploys no Helm release`);
  for (const release of releases) {
    const chart = String(release.chartPath ?? '');
    if (!exists(join(chart, 'Chart.yaml'))) {
      problems.push(`${where}: chartPath ${chart} is not a chart`);
      continue;
    }
    const values = parse(readFileSync(join(ROOT, chart, 'values.yaml'), 'utf8')) as Json;
    const templates = isObject(release.setValueTemplates) ? release.setValueTemplates : {};
    const settings = { ...templates, ...(isObject(release.setValues) ? release.setValues : {}) };
    for (const key of Object.keys(settings)) if (!valuesHave(values, key)) problems.push(`${where}: ${chart}/values.yaml has no ${key}`);
    for (const artifact of artifacts) {
      const id = String(artifact.image).replace(/[^A-Za-z0-9]/g, '_');
      if (templates['image.repository'] !== `{{.IMAGE_REPO_${id}}}`) problems.push(`${where}: image.repository is not {{.IMAGE_REPO_${id}}}`);
      if (templates['image.tag'] !== `{{.IMAGE_TAG_${id}}}`) problems.push(`${where}: image.tag is not {{.IMAGE_TAG_${id}}}`);
    }
  }
  for (const forward of Array.isArray(config.portForward) ? config.portForward.filter(isObject) : []) {
    const component = /^chainlog-([a-z]+)$/.exec(String(forward.resourceName))?.[1];
    const chart = String(releases[0]?.chartPath ?? 'charts/chainlog');
    if (component === undefined || !exists(join(chart, 'templates', component, 'service.yaml'))) {
      problems.push(`${where}: port-forwards ${String(forward.resourceName)}, which the chart does not define`);
    }
  }
  return problems;
}

export function skaffoldProblems(skaffold: Json): string[] {
  const problems: string[] = [];
  const match = /^skaffold\/v4beta(\d+)$/.exec(String(skaffold.apiVersion));
  if (match === null || Number(match[1]) < 11) problems.push(`apiVersion ${String(skaffold.apiVersion)}: use skaffold/v4beta11 or newer`);
  if (skaffold.kind !== 'Config') problems.push('kind is not Config');
  problems.push(...releaseProblems(skaffold, 'skaffold.yaml'));
  const profiles = Array.isArray(skaffold.profiles) ? skaffold.profiles.filter(isObject) : [];
  for (const name of ['kind', 'minikube', 'local']) {
    const profile = profiles.find((candidate) => candidate.name === name);
    if (profile === undefined) {
      problems.push(`no ${name} profile`);
      continue;
    }
    const patched = applyPatches(skaffold, Array.isArray(profile.patches) ? profile.patches : []);
    problems.push(...patched.problems.map((problem) => `profile ${name}: ${problem}`));
    const document: Json = { ...patched.document, ...(isObject(profile.build) ? { build: { ...(patched.document.build as Json), ...profile.build } } : {}) };
    problems.push(...releaseProblems(document, `profile ${name}`));
    const deploy = document.deploy as Json | undefined;
    const release = isObject(deploy) && isObject(deploy.helm) && Array.isArray(deploy.helm.releases) ? (deploy.helm.releases[0] as Json) : undefined;
    if (!isObject(release?.setValues) || release.setValues['kafka.bundled.enabled'] !== true) problems.push(`profile ${name}: does not turn the bundled Kafka on`);
  }
  return problems;
}

// ---- npm start ----

export function startPlanProblems(plan: readonly PlannedService[]): string[] {
  const problems: string[] = [];
  for (const { name, service, env } of plan) {
    const source = `services/${service}/src/main.ts`;
    if (!exists(source)) {
      problems.push(`${name}: ${source} does not exist`);
      continue;
    }
    const read = envNamesRead(source);
    for (const variable of Object.keys(env)) {
      // kafkajs reads this one itself.
      if (!read.has(variable) && variable !== 'KAFKAJS_NO_PARTITIONER_WARNING') problems.push(`${name}: npm start sets ${variable}, which ${service} does not read`);
    }
  }
  return problems;
}

// ---- the tests ----

const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const ignore = readDockerignore(readFileSync(join(ROOT, '.dockerignore'), 'utf8'));

describe('docker-compose.yml', () => {
  const compose = readYaml('docker-compose.yml');

  it('parses and refers only to services, files and settings that exist', () => {
    expect(composeProblems(compose, true)).toEqual([]);
  });

  it('runs Kafka (apache/kafka 4.x, KRaft) with a healthcheck, topic-init, ingest, two miners and the auditor', () => {
    const services = compose.services as Record<string, Json>;
    expect(String(services.kafka?.image)).toMatch(/^apache\/kafka:4\.\d+\.\d+$/);
    expect(environment(services.kafka as Json).KAFKA_PROCESS_ROLES).toBe('broker,controller');
    expect(isObject(services.kafka?.healthcheck)).toBe(true);
    expect(chainlogEntry(services['topic-init'] as Json)).toBe('services/operator/dist/provision-topics.js');
    expect(environment(services['topic-init'] as Json).TRANSACTIONS_PARTITIONS).toMatch(/2/);
    const miners = Object.entries(services).filter(([, service]) => chainlogEntry(service) === 'services/miner/dist/main.js');
    expect(miners.map(([, service]) => environment(service).MINER_ORDINAL).sort()).toEqual(['0', '1']);
    expect(miners.every(([, service]) => environment(service).MINER_REPLICAS === '2')).toBe(true);
    for (const name of ['ingest', 'auditor']) expect(dependsOn(services[name] as Json)).toContainEqual(['topic-init', 'service_completed_successfully']);
    for (const [, service] of Object.entries(services).filter(([, candidate]) => isChainlogImage(candidate))) {
      expect(service.read_only).toBe(true);
    }
  });

  it('wires Prometheus to every service\'s metrics and Grafana to the chart\'s dashboards', () => {
    const services = compose.services as Record<string, Json>;
    expect(services.prometheus?.profiles).toEqual(['monitoring']);
    expect(services.grafana?.profiles).toEqual(['monitoring']);
    const prometheus = readYaml('deploy/compose/prometheus.yml');
    expect(prometheusProblems(prometheus, compose)).toEqual([]);
    const scraped = JSON.stringify(prometheus.scrape_configs);
    for (const name of Object.keys(services).filter((service) => /^(ingest|miner-\d+|auditor)$/.test(service))) expect(scraped).toContain(`${name}:`);
    const mounts = (services.grafana?.volumes as string[]).map((mount) => mount.split(':')[0] as string);
    const dashboards = mounts.find((mount) => mount.includes('dashboards')) as string;
    expect(dashboards).toBe('./charts/chainlog/files/dashboards');
    expect(readdirSync(join(ROOT, dashboards)).filter((file) => file.endsWith('.json')).length).toBeGreaterThan(0);
    const provisioning = mounts.find((mount) => mount.includes('provisioning')) as string;
    expect(statSync(join(ROOT, provisioning)).isDirectory()).toBe(true);
    const provider = readYaml(`${provisioning}/dashboards/chainlog.yaml`);
    const target = (services.grafana?.volumes as string[]).find((mount) => mount.startsWith(dashboards))?.split(':')[1];
    expect((provider.providers as Json[])[0]?.options).toMatchObject({ path: target });
  });
});

describe('Dockerfile and .dockerignore', () => {
  it('builds in stages, copies only what exists, runs as 10001 with a healthcheck', () => {
    expect(dockerfileProblems(dockerfile, ignore)).toEqual([]);
  });

  it('.dockerignore keeps generated and local files out of the build context', () => {
    expect(dockerignoreProblems(ignore)).toEqual([]);
  });
});

describe('npm start', () => {
  it('gives each service only settings it reads', () => {
    const options = parseStartOptions(['--difficulty', '4', '--partitions', '3'], {});
    if (options === 'help') throw new Error('unexpected help');
    const plan = servicePlan(options, '127.0.0.1:9092', 3);
    expect(plan.map((entry) => entry.name)).toEqual(['ingest', 'miner-0', 'miner-1', 'miner-2', 'auditor']);
    expect(startPlanProblems(plan)).toEqual([]);
    const broken = plan.map((entry) => (entry.name === 'auditor' ? { ...entry, env: { ...entry.env, MINER_ORDINAL: '0' } } : entry));
    expect(startPlanProblems(broken)).toEqual(['auditor: npm start sets MINER_ORDINAL, which auditor does not read']);
  });

  it('is permissioned unless --open: each miner gets only its own key file, every reader the same allow-list', () => {
    const options = parseStartOptions(['--partitions', '2'], {});
    if (options === 'help') throw new Error('unexpected help');
    expect(options).toMatchObject({ open: false, host: '127.0.0.1' });
    const keys = { minerKeyFiles: ['/d/keys/miner-0.key', '/d/keys/miner-1.key'], allowedMinerKeys: ['a'.repeat(64), 'b'.repeat(64)], clientPublicKey: 'c'.repeat(64) };
    const plan = servicePlan(options, '127.0.0.1:9092', 2, keys);
    expect(startPlanProblems(plan)).toEqual([]);
    const env = Object.fromEntries(plan.map(({ name, env: vars }) => [name, vars]));
    expect(plan.map(({ name, env: vars }) => [name, vars.MINER_PRIVATE_KEY_FILE, vars.MINER_PRIVATE_KEY])).toEqual([
      ['ingest', undefined, undefined],
      ['miner-0', '/d/keys/miner-0.key', undefined],
      ['miner-1', '/d/keys/miner-1.key', undefined],
      ['auditor', undefined, undefined],
    ]);
    for (const name of ['ingest', 'miner-0', 'miner-1', 'auditor']) {
      expect(env[name]).toMatchObject({ ALLOWED_MINER_KEYS: keys.allowedMinerKeys.join(','), REQUIRE_TRANSACTION_SIGNATURES: 'true', HTTP_HOST: '127.0.0.1' });
      // The ledger rules: the sample accounts bound to the CLI key and funded, the same on every reader.
      expect(env[name]).toMatchObject({ ENFORCE_BALANCES: 'true', ACCOUNT_KEYS: expect.stringContaining(`alice=${'c'.repeat(64)}`), GENESIS_ALLOCATIONS: expect.stringContaining('alice=1000000') });
    }

    const open = parseStartOptions(['--open', '--host', '0.0.0.0'], {});
    if (open === 'help') throw new Error('unexpected help');
    const openPlan = servicePlan(open, '127.0.0.1:9092', 2);
    for (const { env: vars } of openPlan) {
      expect(Object.keys(vars).filter((name) => /KEY|SIGNATURES/.test(name))).toEqual([]);
      expect(vars.HTTP_HOST).toBe('0.0.0.0');
    }
    expect(() => parseStartOptions(['--host', 'a b'], {})).toThrow(/--host must be/);
  });
});

describe('skaffold.yaml', () => {
  it('builds the Dockerfile and deploys the chart with the built image, with kind and minikube profiles', () => {
    expect(skaffoldProblems(readYaml('skaffold.yaml'))).toEqual([]);
  });
});

describe('the checks find problems', () => {
  const compose = readYaml('docker-compose.yml');
  const services = compose.services as Record<string, Json>;

  it('in a compose file', () => {
    const broken = structuredClone(compose);
    const brokenServices = broken.services as Record<string, Json>;
    (brokenServices.ingest as Json).depends_on = { 'topic-setup': { condition: 'service_completed_successfully' } };
    ((brokenServices['miner-0'] as Json).environment as Json).MINER_INDEX = '0';
    (brokenServices.auditor as Json).command = ['services/auditor/dist/server.js'];
    (brokenServices.prometheus as Json).volumes = ['./deploy/compose/prometheus.yaml:/etc/prometheus/prometheus.yml:ro'];
    (brokenServices.cli as Json).depends_on = { 'topic-init': { condition: 'service_healthy' } };
    (brokenServices['miner-1'] as Json).depends_on = { kafka: { condition: 'service_completed_successfully' } };
    expect(composeProblems(broken, true)).toEqual(
      expect.arrayContaining([
        'ingest: depends_on topic-setup, which is not a service',
        'miner-0: sets MINER_INDEX, which miner does not read',
        'miner-1: waits for kafka to complete, but kafka restarts (restart: "no" makes it a one-shot)',
        'auditor: runs services/auditor/dist/server.js, but services/auditor/src/server.ts does not exist',
        'cli: waits for topic-init to be healthy, but topic-init has no healthcheck',
        'prometheus: mounts ./deploy/compose/prometheus.yaml, which does not exist',
      ]),
    );
    expect(composeProblems(compose, false)).toContainEqual('cli: waits for ingest to be healthy, but ingest has no healthcheck');
    const wrongPort = readYaml('deploy/compose/prometheus.yml');
    ((((wrongPort.scrape_configs as Json[])[0] as Json).static_configs as Json[])[0] as Json).targets = ['ingest:9999', 'nginx:80'];
    expect(prometheusProblems(wrongPort, compose)).toEqual([
      'prometheus scrapes ingest:9999, but ingest listens on HTTP_PORT 8080',
      'prometheus scrapes nginx:80, but nginx is not a compose service',
    ]);
    expect(services.kafka).toBeDefined();
  });

  it('in a Dockerfile', () => {
    expect(dockerfileProblems(dockerfile.replace('USER 10001:10001', 'USER root'), ignore)).toContainEqual(
      'USER root: use a numeric non-root uid (Kubernetes runAsNonRoot needs one)',
    );
    expect(dockerfileProblems(dockerfile.replace(/^USER .*$/m, ''), ignore)).toContainEqual('the runtime stage has no USER: it would run as root');
    expect(dockerfileProblems(dockerfile.replace('COPY services/miner/package.json services/miner/\n', ''), ignore)).toContainEqual(
      'stage 0 runs npm ci without services/miner/package.json',
    );
    expect(dockerfileProblems(dockerfile.replace('COPY tsconfig.base.json', 'COPY tsconfig.base.jsonc'), ignore)).toContainEqual(
      'COPY tsconfig.base.jsonc (stage 0): no such file in the repository',
    );
    expect(dockerfileProblems(dockerfile, [...ignore, 'services/cli/bin'])).toContainEqual('COPY services/cli/bin/ (stage 1): excluded by .dockerignore');
    expect(dockerfileProblems(dockerfile.replace('CMD ["services/ingest/dist/main.js"]', 'CMD ["services/gateway/dist/main.js"]'), ignore)).toContainEqual(
      'CMD ["services/gateway/dist/main.js"] does not run a service that exists',
    );
    expect(dockerfileProblems(dockerfile.replaceAll('node:20-bookworm-slim', 'node:18-slim'), ignore)).toContainEqual('FROM node:18-slim: the services need Node.js 20');
    expect(dockerfileProblems(dockerfile.replace('ENTRYPOINT ["node"]', 'ENTRYPOINT node'), ignore)).toContainEqual(
      'ENTRYPOINT must be ["node"] (the chart runs node services/<svc>/dist/main.js)',
    );
    expect(dockerfileProblems(dockerfile.replace('--omit=dev ', ''), ignore)).toContainEqual(
      'the runtime stage does not install production dependencies only (npm ci --omit=dev)',
    );
    expect(dockerignoreProblems(ignore.filter((pattern) => pattern !== '**/node_modules'))).toEqual([
      '.dockerignore does not exclude node_modules',
      '.dockerignore does not exclude services/core/node_modules',
    ]);
  });

  it('in skaffold.yaml', () => {
    const skaffold = readYaml('skaffold.yaml');
    const broken = structuredClone(skaffold);
    const release = (((broken.deploy as Json).helm as Json).releases as Json[])[0] as Json;
    release.setValueTemplates = { 'image.repo': '{{.IMAGE_REPO_chainlog}}', 'image.tag': '{{.IMAGE_TAG_chainlog}}' };
    broken.apiVersion = 'skaffold/v2beta29';
    ((broken.profiles as Json[])[0] as Json).patches = [{ op: 'add', path: '/deploy/helm/releases/0/setValues/kafka.embedded', value: true }];
    expect(skaffoldProblems(broken)).toEqual(
      expect.arrayContaining([
        'apiVersion skaffold/v2beta29: use skaffold/v4beta11 or newer',
        'skaffold.yaml: charts/chainlog/values.yaml has no image.repo',
        'skaffold.yaml: image.repository is not {{.IMAGE_REPO_chainlog}}',
        'profile kind: charts/chainlog/values.yaml has no kafka.embedded',
        'profile kind: does not turn the bundled Kafka on',
      ]),
    );
    const renamed = structuredClone(skaffold);
    ((((renamed.deploy as Json).helm as Json).releases as Json[])[0] as Json).chartPath = 'charts/ledger';
    expect(skaffoldProblems(renamed)).toContainEqual('skaffold.yaml: chartPath charts/ledger is not a chart');
  });

  it('reads the env var names a service reads', () => {
    const miner = envNamesRead('services/miner/src/main.ts');
    for (const name of ['MINER_ORDINAL', 'MINER_REPLICAS', 'KAFKA_BROKERS', 'DIFFICULTY', 'MINER_PRIVATE_KEY_FILE', 'HTTP_PORT']) expect(miner.has(name), name).toBe(true);
    expect(miner.has('MAX_BATCH_SIZE')).toBe(false);
    expect(envNamesRead('services/ingest/src/main.ts').has('MAX_BATCH_SIZE')).toBe(true);
    expect(dockerignored(['**/dist', '!services/keep/dist'], 'services/keep/dist')).toBe(false);
    expect(dockerignored(['**/dist'], 'services/core/dist/index.js')).toBe(true);
  });
});
