/**
 * What the auditor serves on its HTTP app, in the order that decides who needs a token: the explorer's files
 * (public code, no ledger data: a browser must load the page before it can send a token), then, when
 * AUTH_TOKENS is set, bearer authentication, then the query API and the live view. Health, readiness and
 * metrics are registered by createHttpApp before all of these and stay open.
 */
import { bearerAuth } from '@chainlog/core/http';
import type { Express } from 'express';
import { registerExplorer } from './explorer-assets.js';
import type { LiveStream } from './live-stream.js';
import { registerApiRoutes, type ApiDependencies } from './routes.js';

export interface AuditorHttpOptions {
  readonly api: ApiDependencies;
  readonly live: LiveStream;
  /** The built explorer's folder; undefined when the explorer is off. */
  readonly explorerDir: string | undefined;
  readonly authTokens: readonly string[] | undefined;
}

/** Registers everything; true when the explorer is served (its folder holds a build). */
export function registerAuditorHttp(app: Express, { api, live, explorerDir, authTokens }: AuditorHttpOptions): boolean {
  const explorerServed = explorerDir !== undefined && registerExplorer(app, explorerDir);
  if (authTokens !== undefined) app.use(bearerAuth(authTokens, 'chainlog-auditor'));
  registerApiRoutes(app, api);
  live.register(app);
  return explorerServed;
}
