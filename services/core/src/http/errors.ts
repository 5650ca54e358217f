/** An error that the HTTP layer turns into a JSON response: `{ "error": { code, message, ...details } }`. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
    /** Extra response headers, e.g. Retry-After on a 503. */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export interface ErrorBody {
  error: { code: string; message: string; [detail: string]: unknown };
}

export function errorBody(error: HttpError): ErrorBody {
  return { error: { code: error.code, message: error.message, ...error.details } };
}
