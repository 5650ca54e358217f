/** Query and path parameters: strict decimal integers in a range, or a 400 naming the parameter. */
import { HttpError } from '@chainlog/core/http';

export const PAGE_LIMIT_MAX = 100;
export const PAGE_LIMIT_DEFAULT = 20;

function badParameter(parameter: string, message: string): HttpError {
  return new HttpError(400, 'bad-parameter', `${parameter} ${message}`, { parameter });
}

/** An integer parameter given as canonical decimal digits (no sign, exponent or leading zero), within [min, max]. */
export function integerParameter(
  value: unknown,
  parameter: string,
  options: { fallback?: number; min: number; max: number },
): number {
  if (value === undefined || value === '') {
    if (options.fallback === undefined) throw badParameter(parameter, 'is required');
    return options.fallback;
  }
  if (typeof value !== 'string') throw badParameter(parameter, 'must be given once, as a single value');
  // One spelling per number: /v1/blocks/00001 is not block 1 (caches and logs would see two resources).
  if (!/^(0|[1-9]\d{0,15})$/.test(value)) throw badParameter(parameter, `must be an integer from ${options.min} to ${options.max}, got "${value.slice(0, 40)}"`);
  const number = Number(value);
  if (!Number.isSafeInteger(number) || number < options.min || number > options.max) {
    throw badParameter(parameter, `must be an integer from ${options.min} to ${options.max}, got "${value}"`);
  }
  return number;
}

/**
 * Refuses query parameters the route does not declare, and any given more than once or in the
 * bracket form (`a[]=1`, `a[b]=1`) that Express's parser turns into arrays and objects: a client must
 * learn that its parameter is ignored rather than get an answer for another question.
 */
export function checkQuery(query: Record<string, unknown>, declared: readonly string[]): void {
  for (const [name, value] of Object.entries(query)) {
    if (!declared.includes(name)) {
      throw new HttpError(400, 'unknown-parameter', `unknown query parameter "${name.slice(0, 40)}"${declared.length === 0 ? ': this route takes none' : `; this route takes ${declared.join(', ')}`}`, {
        parameter: name.slice(0, 40),
      });
    }
    if (typeof value !== 'string') throw badParameter(name, 'must be given once, as a single value');
  }
}

/** `from` (≥ 0, default `fromDefault`) and `limit` (1..max, default 20) of a paged list. */
export function pageParameters(query: Record<string, unknown>, max = PAGE_LIMIT_MAX, fromDefault = 0): { from: number; limit: number } {
  return {
    from: integerParameter(query.from, 'from', { fallback: fromDefault, min: 0, max: Number.MAX_SAFE_INTEGER }),
    limit: integerParameter(query.limit, 'limit', { fallback: Math.min(PAGE_LIMIT_DEFAULT, max), min: 1, max }),
  };
}

/** `order`: `asc` (the default) or `desc` (newest first). */
export function orderParameter(value: unknown): 'asc' | 'desc' {
  if (value === undefined || value === '' || value === 'asc') return 'asc';
  if (value === 'desc') return 'desc';
  throw badParameter('order', `must be "asc" or "desc", got ${typeof value === 'string' ? `"${value.slice(0, 40)}"` : 'several values'}`);
}
