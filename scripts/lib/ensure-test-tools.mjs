// Second step of `npm test` (after ensure-deps.mjs, before vitest) and the tools step of .ci/run: installs what
// the integration tests run, once, into the cache (CHAINLOG_CACHE, default ~/.cache/chainlog): the Debian
// packages (prometheus, promtool, kcat, openssl, chromium), etcd, kube-apiserver, helm and kubeconform with its offline
// schemas, by running scripts/tools/install-<step>.sh, then the Kafka broker jars. Plain JavaScript: it runs
// before anything is compiled.
//
// Warm, it only reads one stamp per step: a step is done when its stamp holds the hash of what decides the
// install (versions.env, the installer, lib.sh, the step's wrapper module) and its files exist, so a warm
// `npm test` spends milliseconds here. Cold, it says what it is about to build and how long that takes before
// starting, prints a progress line while each step runs, and on a failure names the step, the reason (the
// installer's ERROR line) and the command to retry.
//
//   node scripts/lib/ensure-test-tools.mjs [step...]   steps: apt etcd kube-apiserver helm kubeconform kafka-jars
//   CHAINLOG_SKIP_TOOLS=1                               skips this step entirely (a machine managed otherwise)
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import process from 'node:process';
import { createInterface } from 'node:readline';
import { clearInterval, setInterval } from 'node:timers';
import { fileURLToPath } from 'node:url';
import { stripVTControlCharacters } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const toolsDir = join(root, 'scripts', 'tools');
const cache = process.env.CHAINLOG_CACHE ?? join(homedir(), '.cache', 'chainlog');
const bin = join(cache, 'bin');
const say = (line) => process.stdout.write(`chainlog: ${line}\n`);

/** KEY=VALUE lines of scripts/tools/versions.env: the one place versions are pinned. */
function pinnedVersions() {
  const versions = {};
  for (const line of readFileSync(join(toolsDir, 'versions.env'), 'utf8').split('\n')) {
    const match = /^([A-Z0-9_]+)=(\S+)/.exec(line);
    if (match) versions[match[1]] = match[2];
  }
  return versions;
}

const KAFKA_VERSION_SOURCE = /KAFKA_VERSION = process\.env\.CHAINLOG_KAFKA_VERSION \?\? '([^']+)'/;

/**
 * The steps in install order. `cold` is what a first install takes on 2 free cores (docs/tools.md has the measured
 * figures, and what a loaded machine takes); `files` must exist for a stamped step to count as installed.
 */
function steps() {
  const v = pinnedVersions();
  const kafkaVersion = process.env.CHAINLOG_KAFKA_VERSION ?? KAFKA_VERSION_SOURCE.exec(readFileSync(join(root, 'scripts', 'lib', 'kafka-broker.ts'), 'utf8'))?.[1];
  return [
    {
      name: 'apt',
      what: 'installing the Debian packages prometheus, promtool, kcat, openssl and chromium (apt-get)',
      cold: 'a few minutes (chromium, about 250 MB installed, is most of it)',
      files: ['/usr/bin/prometheus', '/usr/bin/promtool', '/usr/bin/kcat', '/usr/bin/openssl', '/usr/bin/chromium'],
    },
    { name: 'etcd', what: `building etcd ${v.ETCD_VERSION} from source (Go)`, cold: 'about 1-2 min on 2 cores', module: 'etcd', files: [join(bin, 'etcd')] },
    { name: 'kube-apiserver', what: `building kube-apiserver ${v.KUBE_VERSION} from source (Go)`, cold: 'about 4-10 min on 2 cores', module: 'kube-apiserver', files: [join(bin, 'kube-apiserver')] },
    { name: 'helm', what: `building helm ${v.HELM_VERSION} from source (Go)`, cold: 'about 3-5 min on 2 cores', files: [join(bin, 'helm')] },
    {
      name: 'kubeconform',
      what: `building kubeconform ${v.KUBECONFORM_VERSION} and the offline Kubernetes ${v.KUBE_SCHEMA_MINOR} schemas`,
      cold: 'about 3-5 min on 2 cores',
      module: 'kube-schemas',
      files: [join(bin, 'kubeconform'), join(cache, 'kube-schemas', '.stamp')],
    },
    {
      name: 'kafka-jars',
      what: `fetching the Kafka${kafkaVersion ? ` ${kafkaVersion}` : ''} broker jars from Maven Central (Maven)`,
      cold: 'under a minute',
      command: [process.execPath, ['--import', 'tsx', join(root, 'scripts', 'kafka.ts'), 'fetch']],
      retry: 'npm run kafka:fetch',
      // Its own marker: written by ensureBrokerJars once every jar is in place.
      done: () => kafkaVersion !== undefined && existsSync(join(cache, 'kafka', kafkaVersion, 'libs', '.complete')),
    },
  ];
}

/** Hash of everything that decides a step's install: a changed pin or installer re-runs the installer. */
function stepKey(step) {
  const hash = createHash('sha256');
  const files = [join(toolsDir, 'versions.env'), join(toolsDir, 'lib.sh'), join(toolsDir, `install-${step.name}.sh`)];
  if (step.module) {
    const dir = join(toolsDir, step.module);
    for (const name of readdirSync(dir).sort()) if (statSync(join(dir, name)).isFile()) files.push(join(dir, name));
  }
  for (const file of files) hash.update(file.slice(root.length)).update(readFileSync(file));
  return hash.digest('hex');
}

const stampFile = (step) => join(cache, 'stamps', step.name);

function installed(step) {
  if (step.done) return step.done();
  try {
    return readFileSync(stampFile(step), 'utf8').trim() === stepKey(step) && step.files.every((file) => existsSync(file));
  } catch {
    return false;
  }
}

function minutes(ms) {
  const seconds = Math.round(ms / 1000);
  return seconds < 60 ? `${seconds}s` : `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`;
}

/** Runs one step, its output passed through, a progress line every `tickMs`. Resolves with the ERROR line on failure. */
function run(step, tickMs) {
  const [command, args] = step.command ?? ['bash', [join(toolsDir, `install-${step.name}.sh`)]];
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: root, env: { ...process.env, CHAINLOG_CACHE: cache }, stdio: ['ignore', 'pipe', 'pipe'] });
    // The reason shown on failure: the installers' `[install-x] ERROR: ...` line, else the last line that says
    // error or failed, else the last line.
    let reason = '';
    let failedLine = '';
    let last = '';
    const onLine = (stream) => (line) => {
      stream.write(`  ${line}\n`);
      const plain = stripVTControlCharacters(line).trim();
      if (plain !== '') last = plain;
      if (/error|failed/i.test(plain)) failedLine = plain;
      if (/ERROR: /.test(plain) && reason === '') reason = plain.replace(/^.*?ERROR: /, '');
    };
    createInterface({ input: child.stdout }).on('line', onLine(process.stdout));
    createInterface({ input: child.stderr }).on('line', onLine(process.stderr));
    const ticker = setInterval(() => say(`  … ${step.name}: ${minutes(Date.now() - started)} so far (${step.cold} cold)`), tickMs);
    child.once('error', (error) => {
      reason = error.message;
    });
    child.once('close', (code, signal) => {
      clearInterval(ticker);
      resolve({ ok: code === 0, reason: reason || failedLine || last || `exit ${code ?? signal}`, ms: Date.now() - started });
    });
  });
}

async function main() {
  if (process.env.CHAINLOG_SKIP_TOOLS === '1') return;
  const all = steps();
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((name) => !all.some((step) => step.name === name));
  if (unknown.length > 0) {
    process.stderr.write(`chainlog: unknown step(s) ${unknown.join(', ')}; steps: ${all.map((step) => step.name).join(' ')}\n`);
    process.exit(2);
  }
  const todo = all.filter((step) => (wanted.length === 0 || wanted.includes(step.name)) && !installed(step));
  if (todo.length === 0) return;
  // Files there without a current stamp: installed by hand (install-all.sh) or before a pin changed. The
  // installer checks their version output and rebuilds only when it is wrong.
  const present = (step) => step.files !== undefined && step.files.every((file) => existsSync(file));
  if (todo.every(present)) say(`checking the tools whose pins or installers changed (${todo.map((step) => step.name).join(', ')}):`);
  else say(`installing the tools the tests use into ${cache} (first run only; later runs reuse them; times for 2 free cores, a busy machine takes longer):`);
  for (const step of todo) say(present(step) ? `  ${step.name}: checking the installed version (installs again only if it is not the pinned one)` : `  ${step.what}, first run only, ${step.cold}`);
  // A line every 30 s in a log; every 10 s when someone is watching a terminal.
  const tickMs = Number(process.env.CHAINLOG_PROGRESS_MS ?? (process.stdout.isTTY ? 10_000 : 30_000));
  for (const step of todo) {
    say(`${step.name}: ${present(step) ? 'checking' : step.what}…`);
    const result = await run(step, tickMs);
    if (!result.ok) {
      const retry = step.retry ?? `bash scripts/tools/install-${step.name}.sh`;
      process.stderr.write(`chainlog: installing ${step.name} failed after ${minutes(result.ms)}: ${result.reason}\n`);
      process.stderr.write(`chainlog: retry with \`${retry}\` (or run npm test again); \`npm run test:unit\` needs none of these tools\n`);
      process.exit(1);
    }
    if (!step.done) {
      mkdirSync(dirname(stampFile(step)), { recursive: true });
      writeFileSync(stampFile(step), `${stepKey(step)}\n`);
    }
    say(`${step.name}: done in ${minutes(result.ms)}`);
  }
}

await main();
