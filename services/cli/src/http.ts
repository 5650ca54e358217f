// A small JSON-over-HTTP client for the ingest and auditor APIs: bounded time per request, and every
// failure turned into one readable line (unreachable service, timeout, the service's own error message).
import { CliError } from './args.js';

export interface HttpResponse<T = unknown> {
  status: number;
  body: T;
}

export interface JsonClientOptions {
  /** Human name of the service, used in messages ("the auditor"). */
  name: string;
  baseUrl: string;
  timeoutMs?: number;
  fetch?: typeof fetch;
  /** Sent as `Authorization: Bearer <token>` (the services' AUTH_TOKENS). */
  token?: string;
}

export class HttpError extends CliError {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string | undefined,
    readonly body: unknown,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export class JsonClient {
  readonly name: string;
  readonly baseUrl: string;
  readonly #timeoutMs: number;
  readonly #fetch: typeof fetch;
  readonly #auth: Record<string, string>;

  constructor(options: JsonClientOptions) {
    this.name = options.name;
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#fetch = options.fetch ?? fetch;
    this.#auth = options.token === undefined ? {} : { authorization: `Bearer ${options.token}` };
  }

  url(path: string): string {
    return `${this.baseUrl}${path}`;
  }

  /** GET; 404 resolves (status 404) when `allow404`, every other non-2xx throws an HttpError. */
  async get<T = unknown>(path: string, options: { allow404?: boolean; signal?: AbortSignal } = {}): Promise<HttpResponse<T>> {
    return this.#request<T>('GET', path, undefined, options);
  }

  async post<T = unknown>(path: string, body: unknown, options: { signal?: AbortSignal } = {}): Promise<HttpResponse<T>> {
    return this.#request<T>('POST', path, body, options);
  }

  async #request<T>(
    method: string,
    path: string,
    body: unknown,
    options: { allow404?: boolean; signal?: AbortSignal },
  ): Promise<HttpResponse<T>> {
    const url = this.url(path);
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    const signal = options.signal === undefined ? timeout : AbortSignal.any([timeout, options.signal]);
    let response: Response;
    try {
      response = await this.#fetch(url, {
        method,
        headers: { accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...this.#auth },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal,
      });
    } catch (error) {
      if (options.signal?.aborted === true) throw error;
      throw new CliError(`cannot reach ${this.name} at ${this.baseUrl}: ${describeFetchError(error, this.#timeoutMs)}`);
    }
    let text: string;
    try {
      text = await response.text();
    } catch (error) {
      throw new CliError(`${this.name} at ${this.baseUrl} broke off the response to ${method} ${path}: ${describeFetchError(error, this.#timeoutMs)}`);
    }
    let parsed: unknown = undefined;
    if (text !== '') {
      try {
        parsed = JSON.parse(text);
      } catch {
        if (response.ok) throw new CliError(`${this.name} answered ${method} ${path} with something that is not JSON`);
      }
    }
    if (response.ok || (response.status === 404 && options.allow404 === true)) return { status: response.status, body: parsed as T };
    const { code, message } = errorOf(parsed);
    throw new HttpError(
      `${this.name} answered ${method} ${path} with ${response.status}${code ? ` ${code}` : ''}${message ? `: ${message}` : ''}`,
      response.status,
      code,
      parsed,
    );
  }
}

/** The `{ "error": { code, message } }` body every Chainlog service sends with an error status. */
export function errorOf(body: unknown): { code?: string; message?: string } {
  if (typeof body !== 'object' || body === null) return {};
  const error = (body as { error?: unknown }).error;
  if (typeof error !== 'object' || error === null) return {};
  const { code, message } = error as { code?: unknown; message?: unknown };
  return {
    ...(typeof code === 'string' ? { code } : {}),
    ...(typeof message === 'string' ? { message: firstLine(message) } : {}),
  };
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? text;
}

export function describeFetchError(error: unknown, timeoutMs: number): string {
  const err = error as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (err.name === 'TimeoutError' || err.name === 'AbortError') return `no answer within ${timeoutMs} ms`;
  const code = err.cause?.code;
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused (is it running? `npm start` starts everything)';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'unknown host';
    case 'ECONNRESET':
      return 'connection reset';
    default:
      return firstLine(err.cause?.message ?? err.message ?? String(error));
  }
}
