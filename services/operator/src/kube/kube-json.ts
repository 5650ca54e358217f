// A small JSON client for the Kubernetes API paths the Ledger controller uses (server-side apply, list,
// delete, status and finalizer patches, the Ledger /scale). Written against paths, not generated models, so
// every request is visible here and the chart's Role can grant exactly these (see templates/operator/rbac.yaml).
import { request as httpRequest } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { FIELD_MANAGER } from '../config.js';

export class KubeApiError extends Error {
  constructor(
    readonly status: number,
    readonly method: string,
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${method} ${path}: HTTP ${status}${reason ? `: ${reason}` : ''}`);
    this.name = 'KubeApiError';
  }
}

export interface KubeJson {
  request<T = unknown>(method: string, path: string, body?: unknown, contentType?: string): Promise<T>;
}

export const APPLY_PATCH = 'application/apply-patch+yaml';
export const MERGE_PATCH = 'application/merge-patch+json';
export const JSON_PATCH = 'application/json-patch+json';

export class KubeJsonClient implements KubeJson {
  readonly #server: URL;

  readonly #kubeConfig: KubeConfig;
  readonly #timeoutMs: number;

  constructor(
    kubeConfig: KubeConfig,
    timeoutMs: number,
  ) {
    this.#kubeConfig = kubeConfig;
    this.#timeoutMs = timeoutMs;
    const cluster = kubeConfig.getCurrentCluster();
    if (cluster === null) throw new Error('the kubeconfig names no current cluster');
    this.#server = new URL(cluster.server);
  }

  async request<T = unknown>(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<T> {
    const options: RequestOptions = {
      protocol: this.#server.protocol,
      hostname: this.#server.hostname,
      port: this.#server.port,
      path,
      method,
      headers: { accept: 'application/json' },
      timeout: this.#timeoutMs,
    };
    await this.#kubeConfig.applyToHTTPSOptions(options);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    if (payload !== undefined) options.headers = { ...options.headers, 'content-type': contentType, 'content-length': Buffer.byteLength(payload) };
    const send = this.#server.protocol === 'http:' ? httpRequest : httpsRequest;
    return new Promise<T>((resolve, reject) => {
      const req = send(options, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          let parsed: unknown;
          try {
            parsed = text === '' ? undefined : JSON.parse(text);
          } catch {
            parsed = text;
          }
          if (status >= 200 && status < 300) resolve(parsed as T);
          else reject(new KubeApiError(status, method, path, (parsed as { message?: string } | undefined)?.message ?? String(text).slice(0, 300)));
        });
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out after ${this.#timeoutMs} ms`)));
      req.on('error', reject);
      req.end(payload);
    });
  }
}

/** The REST path of a namespaced resource collection (or one object when name is given). */
export function resourcePath(apiVersion: string, plural: string, namespace: string, name?: string, subresource?: string): string {
  const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  return `${base}/namespaces/${namespace}/${plural}${name !== undefined ? `/${name}` : ''}${subresource !== undefined ? `/${subresource}` : ''}`;
}

/** Server-side apply, forced: the operator owns what it renders, whoever changed it since. */
export function applyQuery(): string {
  return `?fieldManager=${FIELD_MANAGER}&force=true`;
}

export function isStatus(error: unknown, status: number): boolean {
  return error instanceof KubeApiError && error.status === status;
}
