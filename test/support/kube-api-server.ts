// A real Kubernetes API server for tests, without a cluster (like controller-runtime's envtest): etcd +
// kube-apiserver v1.34 on free loopback ports with token auth and RBAC, started by
// scripts/tools/kube-test-server.sh. Start one per test file (beforeAll) and stop it after (afterAll).
// No controller-manager runs: no garbage collection, no Pods for StatefulSets (spec, status and /scale
// work), no default ServiceAccounts. Missing binaries FAIL the test with the command that installs them:
// these tests are never skipped.
import { execFile } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { cacheDir, REPO_ROOT } from './helm.js';

const SCRIPT = join(REPO_ROOT, 'scripts', 'tools', 'kube-test-server.sh');

export interface KubeResponse<T = any> { // eslint-disable-line @typescript-eslint/no-explicit-any -- tests read arbitrary JSON
  status: number;
  body: T;
}

export interface RequestOptions {
  body?: unknown;
  /** Default application/json; patches need theirs (merge-patch+json, apply-patch+yaml, ...). */
  contentType?: string;
  /** Bearer token; default the admin token (system:masters). */
  token?: string;
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  [key: string]: unknown;
}

export interface KubeApiServer {
  url: string;
  /** Token of an admin (system:masters). */
  token: string;
  /** CA that verifies the server's certificate. */
  caFile: string;
  /** The server's working directory (logs: etcd.log, kube-apiserver.log). */
  dir: string;
  request<T = any>(method: string, path: string, options?: RequestOptions): Promise<KubeResponse<T>>; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** The API path of an object's collection or of the object itself (resolved through discovery). */
  pathOf(object: Pick<KubeObject, 'apiVersion' | 'kind'> & { metadata: { name?: string; namespace?: string } }, named?: boolean): Promise<string>;
  /** Server-side apply of one object (field manager `fieldManager`); throws with the server's message unless accepted. */
  apply(object: KubeObject, fieldManager?: string): Promise<KubeResponse>;
  /** A token for a ServiceAccount (TokenRequest API), to act with exactly its RBAC permissions. */
  serviceAccountToken(namespace: string, name: string, expirationSeconds?: number): Promise<string>;
  /** A client-node KubeConfig for the server with the token (default: admin). */
  kubeConfig(token?: string, namespace?: string): KubeConfig;
  /** Writes a kubeconfig file (token inline) and returns its path. */
  writeKubeconfig(token?: string, namespace?: string): string;
  stop(): Promise<void>;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Throws, naming the install scripts, when etcd or kube-apiserver is missing from $CHAINLOG_CACHE/bin. */
export function checkKubeBinaries(cache = cacheDir()): void {
  const bin = join(cache, 'bin');
  const missing = [
    { name: 'kube-apiserver', install: 'scripts/tools/install-kube-apiserver.sh' },
    { name: 'etcd', install: 'scripts/tools/install-etcd.sh' },
  ].filter((tool) => !isExecutable(join(bin, tool.name)));
  if (missing.length > 0) {
    throw new Error(
      `${missing.map((tool) => tool.name).join(' and ')} not found in ${bin}: the operator tests need a real API server. ` +
        `Install ${missing.map((tool) => `\`bash ${tool.install}\``).join(' and ')} (or \`bash scripts/tools/install-all.sh\`).`,
    );
  }
}

function runScript(args: string[], env: NodeJS.ProcessEnv): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile('bash', [SCRIPT, ...args], { env, cwd: REPO_ROOT, maxBuffer: 4 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`kube-test-server.sh ${args[0]} failed (${error.message.split('\n')[0]}):\n${stderr}`));
      else resolve({ stdout, stderr });
    });
  });
}

function readPid(dir: string, name: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(dir, `${name}.pid`), 'utf8').trim());
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

export interface StartOptions {
  /** $CHAINLOG_CACHE (where bin/etcd and bin/kube-apiserver are). */
  cache?: string;
}

export async function startKubeApiServer(options: StartOptions = {}): Promise<KubeApiServer> {
  const cache = options.cache ?? cacheDir();
  checkKubeBinaries(cache);
  const dir = mkdtempSync(join(tmpdir(), 'chainlog-kube-api-'));
  const env = { ...process.env, CHAINLOG_CACHE: cache };
  // Should the test process die without its afterAll, do not leave the servers running.
  const killOnExit = (): void => {
    for (const name of ['kube-apiserver', 'etcd']) {
      const pid = readPid(dir, name);
      if (pid !== undefined) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
  };
  process.once('exit', killOnExit);
  try {
    await runScript(['start', dir], env);
  } catch (error) {
    process.off('exit', killOnExit);
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }

  const url = readFileSync(join(dir, 'url'), 'utf8').trim();
  const token = readFileSync(join(dir, 'token'), 'utf8').trim();
  const caFile = join(dir, 'certs', 'apiserver.crt');
  const ca = readFileSync(caFile);
  const { hostname, port } = new URL(url);

  const request = <T>(method: string, path: string, requestOptions: RequestOptions = {}): Promise<KubeResponse<T>> =>
    new Promise((resolve, reject) => {
      const payload = requestOptions.body === undefined ? undefined : typeof requestOptions.body === 'string' ? requestOptions.body : JSON.stringify(requestOptions.body);
      const req = httpsRequest(
        {
          hostname,
          port,
          path,
          method,
          ca,
          timeout: 30_000,
          headers: {
            authorization: `Bearer ${requestOptions.token ?? token}`,
            accept: 'application/json',
            ...(payload !== undefined ? { 'content-type': requestOptions.contentType ?? 'application/json', 'content-length': Buffer.byteLength(payload) } : {}),
          },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => {
            let body: unknown = text;
            try {
              body = text === '' ? undefined : JSON.parse(text);
            } catch {
              // not JSON: keep the text
            }
            resolve({ status: res.statusCode ?? 0, body: body as T });
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
      req.on('error', reject);
      req.end(payload);
    });

  const discovery = new Map<string, { name: string; namespaced: boolean; kind: string }[]>();
  const pathOf: KubeApiServer['pathOf'] = async (object, named = true) => {
    const base = object.apiVersion.includes('/') ? `/apis/${object.apiVersion}` : `/api/${object.apiVersion}`;
    let resources = discovery.get(base);
    if (resources === undefined) {
      const response = await request<{ resources: { name: string; namespaced: boolean; kind: string }[] }>('GET', base);
      if (response.status !== 200) throw new Error(`discovery of ${base} failed: HTTP ${response.status}`);
      resources = response.body.resources.filter((resource) => !resource.name.includes('/'));
      discovery.set(base, resources);
    }
    const resource = resources.find((candidate) => candidate.kind === object.kind);
    if (resource === undefined) throw new Error(`${object.apiVersion} has no kind ${object.kind}`);
    const namespace = object.metadata.namespace;
    if (resource.namespaced && namespace === undefined) throw new Error(`${object.kind} is namespaced: metadata.namespace is required`);
    const collection = `${base}${resource.namespaced ? `/namespaces/${namespace}` : ''}/${resource.name}`;
    return named ? `${collection}/${object.metadata.name ?? ''}` : collection;
  };

  const kubeConfig = (useToken = token, namespace = 'default'): KubeConfig => {
    const config = new KubeConfig();
    config.loadFromOptions({
      clusters: [{ name: 'kube-test', server: url, caFile }],
      users: [{ name: 'user', token: useToken }],
      contexts: [{ name: 'kube-test', cluster: 'kube-test', user: 'user', namespace }],
      currentContext: 'kube-test',
    });
    return config;
  };

  let kubeconfigs = 0;
  let stopped = false;
  return {
    url,
    token,
    caFile,
    dir,
    request,
    pathOf,
    async apply(object, fieldManager = 'chainlog-test') {
      const path = `${await pathOf(object)}?fieldManager=${encodeURIComponent(fieldManager)}&force=true`;
      const response = await request('PATCH', path, { body: object, contentType: 'application/apply-patch+yaml' });
      if (response.status !== 200 && response.status !== 201) {
        throw new Error(`applying ${object.kind}/${object.metadata.name} failed: HTTP ${response.status} ${JSON.stringify(response.body)}`);
      }
      return response;
    },
    async serviceAccountToken(namespace, name, expirationSeconds = 3600) {
      const response = await request<{ status?: { token?: string } }>('POST', `/api/v1/namespaces/${namespace}/serviceaccounts/${name}/token`, {
        body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds } },
      });
      const issued = response.body.status?.token;
      if (response.status !== 201 || issued === undefined) throw new Error(`TokenRequest for ${namespace}/${name} failed: HTTP ${response.status} ${JSON.stringify(response.body)}`);
      return issued;
    },
    kubeConfig,
    writeKubeconfig(useToken = token, namespace = 'default') {
      const file = join(dir, `kubeconfig-${process.pid}-${kubeconfigs++}`);
      writeFileSync(file, kubeConfig(useToken, namespace).exportConfig(), { mode: 0o600 });
      return file;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      try {
        await runScript(['stop', dir], env);
      } finally {
        process.off('exit', killOnExit);
        killOnExit();
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
