/**
 * Serves the explorer (services/explorer, built by `npm run build` into static files) from the auditor's
 * own port: `/` is the page, `/assets/*` its scripts and styles. Asset names carry a content hash, so they
 * are cached for a year; the page itself is revalidated every time.
 *
 * Content-Security-Policy: scripts only from this origin, no inline script or style, no eval, requests only to
 * this origin. The protocol's SHA-256 kernels the explorer runs (Merkle tree, proof of work) are generated
 * ahead of time and committed, not compiled in the page (docs/explorer.md).
 */
import { existsSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import express, { type Express, type Response } from 'express';

export const EXPLORER_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'self'",
].join('; ');

/** Registers the explorer's files; false (and nothing registered) when `dir` has no built explorer. */
export function registerExplorer(app: Express, dir: string): boolean {
  if (!existsSync(join(dir, 'index.html'))) return false;
  app.use(
    express.static(dir, {
      index: ['index.html'],
      redirect: false,
      fallthrough: true,
      setHeaders: (res: Response, path: string) => {
        res.setHeader('Content-Security-Policy', EXPLORER_CSP);
        res.setHeader('X-Content-Type-Options', 'nosniff');
        res.setHeader('Referrer-Policy', 'no-referrer');
        res.setHeader('X-Frame-Options', 'DENY');
        const hashed = relative(dir, path).startsWith(`assets${sep}`);
        res.setHeader('Cache-Control', hashed ? 'public, max-age=31536000, immutable' : 'no-cache');
      },
    }),
  );
  return true;
}
