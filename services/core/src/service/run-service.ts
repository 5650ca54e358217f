// What every service's main.ts did by hand, done once: configuration or exit 2 naming every problem, the
// JSON logger, the metrics registry, the HTTP app (health, readiness, metrics and the service's routes)
// listening before the work starts, a SIGTERM drain, and start-up failures reported one way.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import type { Registry } from 'prom-client';
import type { LogLevel } from '../config/common.js';
import { readConfigOrExit } from '../config/env.js';
import { closeServer, listen, type RequestTimeouts } from '../http/server.js';
import { createLogger, type Logger } from '../logging/logger.js';
import { createMetricsRegistry } from '../metrics/registry.js';
import { onShutdownSignal } from './shutdown.js';

/** What a service's assembly (its service.ts) hands to runService. */
export interface ServiceParts {
  /** The app from createHttpApp: /healthz, /readyz, /metrics and the service's own routes. */
  readonly app: Express;
  /** Starts the work. Runs once HTTP listens, so /healthz answers (and /readyz says why not) during a long start. */
  start(): Promise<void> | void;
  /** Stops taking new work (readiness fails, new requests are refused) while in-flight requests finish. */
  beginShutdown?(): void;
  /** Stops the work; runs after the HTTP server drained. */
  stop(): Promise<void>;
}

export interface ServiceContext<C> {
  readonly config: C;
  readonly logger: Logger;
  readonly registry: Registry;
  /** For a failure the service cannot recover from: stops it and exits 1 (the orchestrator restarts it). */
  readonly onFatal: (error: Error) => void;
}

export interface ServiceDefinition<C extends { httpPort: number; httpHost?: string; logLevel: LogLevel }> {
  /** The service's name: `chainlog-<name>` in messages, `service` in logs and metrics. */
  readonly name: string;
  /** The service's config.ts reader; a ConfigError (every problem named) exits 2. */
  readonly readConfig: (env: NodeJS.ProcessEnv) => C;
  readonly create: (context: ServiceContext<C>) => ServiceParts;
  /** Fields of the `<name> listening` log line, beyond the port. */
  readonly describe?: (config: C) => Record<string, unknown>;
  /** How long a client may take to send a request (default: core's DEFAULT_REQUEST_TIMEOUTS). */
  readonly requestTimeouts?: (config: C) => RequestTimeouts;
  /** How long in-flight HTTP requests may take to finish on shutdown (default 10 s). */
  readonly drainMs?: (config: C) => number;
  /** How long the whole shutdown may take before the process exits anyway (default 25 s). */
  readonly shutdownMs?: (config: C) => number;
}

/** Runs a service process until SIGTERM/SIGINT; never resolves or rejects (it exits the process). */
export async function runService<C extends { httpPort: number; httpHost?: string; logLevel: LogLevel }>(definition: ServiceDefinition<C>): Promise<void> {
  const program = `chainlog-${definition.name}`;
  const config = readConfigOrExit(program, () => definition.readConfig(process.env));
  const logger = createLogger(definition.name, config.logLevel);
  const drainMs = definition.drainMs?.(config) ?? 10_000;
  let parts: ServiceParts | undefined;
  let server: Server | undefined;
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      parts?.beginShutdown?.();
      if (server !== undefined) await closeServer(server, drainMs);
      await parts?.stop();
      logger.info(`${definition.name} stopped`);
    })());
  const onFatal = (error: Error): void => {
    logger.fatal({ err: error }, `${definition.name} cannot continue`);
    void stop().finally(() => process.exit(1));
  };
  onShutdownSignal(logger, stop, definition.shutdownMs?.(config) ?? 25_000);
  try {
    parts = definition.create({ config, logger, registry: createMetricsRegistry(definition.name), onFatal });
    server = await listen(parts.app, config.httpPort, config.httpHost, definition.requestTimeouts?.(config));
    logger.info({ port: (server.address() as AddressInfo).port, ...definition.describe?.(config) }, `${definition.name} listening`);
    await parts.start();
  } catch (error) {
    // Printed one way for every service: a log line for the log pipeline, the stack on stderr for a person.
    logger.fatal({ err: error }, `${definition.name} failed to start`);
    process.stderr.write(`${program}: failed to start: ${(error as Error).stack ?? String(error)}\n`);
    await Promise.race([stop().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, drainMs).unref())]);
    process.exit(1);
  }
}
