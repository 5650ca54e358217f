/**
 * Validation results, the one result type of the code base. The protocol never throws on untrusted input:
 * it returns a Result whose error names the offending field and the problem, so HTTP edges can answer 4xx
 * with both and consumers can log them. Services use the same type with their own error (ingest's
 * Rejection, the miner's poison reason).
 */

/** Where validation failed (`field`, a property path such as `amount` or `transactions[2].id`; `$` is the
 * whole value) and why (`problem`, a short human-readable sentence fragment). */
export interface FieldError {
  readonly field: string;
  readonly problem: string;
}

export type Result<T, E = FieldError> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: E };

export function ok<T>(value: T): Result<T> {
  return { ok: true, value };
}

export function fail<T>(field: string, problem: string): Result<T> {
  return { ok: false, error: { field, problem } };
}

/** Path of a property below `parent`, with `$` standing for the root. */
export function fieldPath(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent === '$' ? '' : parent}[${key}]`;
  return parent === '$' ? key : `${parent}.${key}`;
}
