// Optional bearer-token authentication of a service's API (AUTH_TOKENS or AUTH_TOKENS_FILE: one or more
// tokens, comma- or newline-separated, so that tokens can be rotated without downtime). Health, readiness
// and metrics stay open for probes and scrapers; everything registered after the middleware needs
// `Authorization: Bearer <token>`, else 401 with WWW-Authenticate. Tokens are compared as SHA-256 digests in
// constant time, so neither their content nor their length leaks through timing.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { EnvReader } from '../config/env.js';
import { HttpError } from './errors.js';

/** The accepted tokens, or undefined when authentication is off (the default). */
export function readAuthTokens(env: EnvReader): string[] | undefined {
  const raw = env.secret('AUTH_TOKENS');
  if (raw === undefined) return undefined;
  const tokens = raw
    .split(/[\n,]/)
    .map((token) => token.trim())
    .filter((token) => token !== '');
  if (tokens.length === 0 || tokens.some((token) => token.length < 16 || !/^[\x21-\x7e]+$/.test(token))) {
    // Never echo a token.
    env.problem('AUTH_TOKENS (or AUTH_TOKENS_FILE) must list tokens of at least 16 printable characters, separated by commas or newlines');
    return undefined;
  }
  return tokens;
}

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

export function bearerAuth(tokens: readonly string[], realm: string): (req: Request, res: Response, next: NextFunction) => void {
  const accepted = tokens.map(digest);
  return (req, _res, next) => {
    const header = req.header('authorization');
    const match = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
    const given = match?.[1] === undefined ? undefined : digest(match[1]);
    let ok = false;
    // Every token is compared, so the time does not tell which one matched.
    for (const token of accepted) if (given !== undefined && timingSafeEqual(token, given)) ok = true;
    if (!ok) {
      throw new HttpError(401, 'unauthorized', header === undefined ? 'this API needs Authorization: Bearer <token>' : 'the bearer token is not valid', {}, {
        'WWW-Authenticate': `Bearer realm="${realm}"`,
      });
    }
    next();
  };
}
