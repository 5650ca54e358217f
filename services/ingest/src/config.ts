// Every setting of the ingest service, parsed and validated in one place. A bad value is reported
// together with every other bad value in one ConfigError, and main.ts exits with code 2.
import { readAuthTokens } from '@chainlog/core/http';
import { type CommonConfig, EnvReader, readCommonConfig, readConsensusConfig } from '@chainlog/core/config';
import type { LedgerParams } from '@chainlog/core/protocol';

export const SERVICE_NAME = 'ingest';
export const DEFAULT_HTTP_PORT = 8080;

export interface IngestConfig extends CommonConfig {
  /** Largest number of transactions in one POST /v1/transactions. */
  maxBatchSize: number;
  /** Largest request body, in bytes (after decompression). */
  maxBodyBytes: number;
  /** How long a request waits for Kafka's acknowledgement before it gets 503. */
  produceTimeoutMs: number;
  /** Concurrent POST /v1/transactions requests; more get 503 at once, so memory stays bounded. */
  maxInflightRequests: number;
  /** Reject transactions without publicKey + signature. */
  requireTransactionSignatures: boolean;
  /** The consensus replay window (REPLAY_WINDOW_MS); the two settings below apply only with one. */
  replayWindowMs?: number | undefined;
  /** A client timestamp further than this from ingest's clock is refused 400 timestamp-out-of-window (default W/4). */
  timestampToleranceMs?: number | undefined;
  /**
   * New transactions for a partition whose oldest unmined record is older than this get 503 mining-backlog
   * (default W/2; 0 or no window: off). Read from the miners' consumer group (minerGroupId) and Kafka.
   */
  miningBacklogLimitMs?: number | undefined;
  /** The miners' consumer group (MINER_GROUP_ID), whose committed offsets say how far mining got. */
  minerGroupId: string;
  /**
   * The permissioned ledger rules (ENFORCE_BALANCES, ACCOUNT_KEYS; docs/protocol.md §4.4), undefined when off: a
   * transaction whose signer is not bound to its sender is refused at the door (403 unauthorized), since every
   * block would refuse it. Balances are not checked here: ingest does not follow the chain.
   */
  ledger?: LedgerParams | undefined;
  /** Base URL of the auditor's public API, without a trailing slash; statusUrl links point there. */
  auditorPublicUrl: string;
  /** How often the transactions topic's partition count is re-read (faster while Kafka is unreachable). */
  metadataRefreshMs: number;
  /** The Retry-After header of 503 answers, in seconds. */
  retryAfterSeconds: number;
  /** Sustained requests per second one client may send (429 above it); 0: no limit. */
  rateLimitPerSecond: number;
  /** Requests one client may send at once above its rate. */
  rateLimitBurst: number;
  /** In-flight requests one client may hold (429 above it), so no client can take every slot. */
  maxInflightPerClient: number;
  /** Header a trusted proxy sets with the client's address (its last entry counts); unset: the peer address. */
  clientIpHeader: string | undefined;
  /** Time a client has to send its request headers, and its whole request with the body (408 after). */
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  /** AUTH_TOKENS: bearer tokens POST /v1/transactions requires; undefined: open. */
  authTokens: string[] | undefined;
  /** How long an accepted client-chosen id is remembered (a retry replays its answer; other content gets 409). */
  idempotencyTtlMs: number;
  /** Most ids remembered; the oldest are forgotten first. */
  idempotencyMaxEntries: number;
  /** How long shutdown waits for in-flight requests before closing their connections. */
  shutdownGraceMs: number;
}

/** The limits that shape the API contract; the committed openapi.json is generated from these defaults. */
export const DEFAULT_LIMITS = {
  maxBatchSize: 1000,
  maxBodyBytes: 1024 * 1024,
} as const;

export function readConfig(env: Record<string, string | undefined> = process.env): IngestConfig {
  const reader = new EnvReader(env);
  const common = readCommonConfig(reader, SERVICE_NAME, DEFAULT_HTTP_PORT);
  reader.renamed('REQUIRE_SIGNATURES', 'REQUIRE_TRANSACTION_SIGNATURES');
  // The consensus parameters, as every miner and the auditor read them: ingest applies the rules a block
  // would refuse a transaction by that it can decide alone (signatures, the replay window, key bindings).
  const consensus = readConsensusConfig(reader);
  const config: IngestConfig = {
    ...common,
    maxBatchSize: reader.integer('MAX_BATCH_SIZE', DEFAULT_LIMITS.maxBatchSize, { min: 1, max: 10_000 }),
    maxBodyBytes: reader.integer('MAX_BODY_BYTES', DEFAULT_LIMITS.maxBodyBytes, { min: 1024, max: 64 * 1024 * 1024 }),
    produceTimeoutMs: reader.integer('PRODUCE_TIMEOUT_MS', 5000, { min: 100, max: 120_000 }),
    maxInflightRequests: reader.integer('MAX_INFLIGHT_REQUESTS', 256, { min: 1, max: 100_000 }),
    requireTransactionSignatures: consensus.requireTransactionSignatures === true,
    replayWindowMs: consensus.replayWindowMs,
    minerGroupId: reader.string('MINER_GROUP_ID', 'chainlog-miners', { regex: /^[A-Za-z0-9._-]{1,249}$/, description: 'a consumer group id ([A-Za-z0-9._-], 1-249 chars)' }),
    ledger: consensus.ledger,
    auditorPublicUrl: readBaseUrl(reader, 'AUDITOR_PUBLIC_URL', 'http://localhost:8082'),
    metadataRefreshMs: reader.integer('METADATA_REFRESH_MS', 10_000, { min: 100, max: 3_600_000 }),
    retryAfterSeconds: reader.integer('RETRY_AFTER_SECONDS', 2, { min: 1, max: 3600 }),
    shutdownGraceMs: reader.integer('SHUTDOWN_GRACE_MS', 15_000, { min: 100, max: 600_000 }),
    rateLimitPerSecond: reader.integer('RATE_LIMIT_PER_SECOND', 200, { min: 0, max: 1_000_000 }),
    rateLimitBurst: 0,
    maxInflightPerClient: 0,
    clientIpHeader: reader.optionalString('CLIENT_IP_HEADER')?.toLowerCase(),
    headersTimeoutMs: reader.integer('HEADERS_TIMEOUT_MS', 10_000, { min: 100, max: 300_000 }),
    requestTimeoutMs: reader.integer('REQUEST_TIMEOUT_MS', 15_000, { min: 100, max: 600_000 }),
    authTokens: readAuthTokens(reader),
    idempotencyTtlMs: reader.integer('IDEMPOTENCY_TTL_SECONDS', 86_400, { min: 1, max: 30 * 86_400 }) * 1000,
    idempotencyMaxEntries: reader.integer('IDEMPOTENCY_MAX_ENTRIES', 100_000, { min: 0, max: 10_000_000 }),
  };
  config.rateLimitBurst = reader.integer('RATE_LIMIT_BURST', Math.max(1, 2 * config.rateLimitPerSecond), { min: 1, max: 10_000_000 });
  config.maxInflightPerClient = reader.integer('MAX_INFLIGHT_PER_CLIENT', Math.max(1, Math.ceil(config.maxInflightRequests / 4)), { min: 1, max: 100_000 });
  Object.assign(config, readWindowGuards(reader, consensus.replayWindowMs));
  if (config.clientIpHeader !== undefined && !/^[a-z0-9-]{1,64}$/.test(config.clientIpHeader)) {
    reader.problem(`CLIENT_IP_HEADER must be a header name, got "${config.clientIpHeader}"`);
  }
  if (config.headersTimeoutMs > config.requestTimeoutMs) {
    reader.problem(`HEADERS_TIMEOUT_MS (${config.headersTimeoutMs}) must not exceed REQUEST_TIMEOUT_MS (${config.requestTimeoutMs})`);
  }
  if (config.shutdownGraceMs <= config.produceTimeoutMs) {
    reader.problem(
      `SHUTDOWN_GRACE_MS (${config.shutdownGraceMs}) must be greater than PRODUCE_TIMEOUT_MS (${config.produceTimeoutMs}), ` +
        'so that in-flight requests can finish during shutdown',
    );
  }
  reader.done();
  return config;
}

/**
 * TIMESTAMP_TOLERANCE_MS and MINING_BACKLOG_LIMIT_MS (docs/protocol.md §2.5, "Choosing W"): a transaction ingest
 * acknowledges may be up to the tolerance old, and waits behind a backlog up to about the limit: together they must
 * leave part of W for the mining itself, or ingest would acknowledge what the window then drops.
 */
function readWindowGuards(reader: EnvReader, windowMs: number | undefined): Pick<IngestConfig, 'timestampToleranceMs' | 'miningBacklogLimitMs'> {
  const tolerance = reader.optionalInteger('TIMESTAMP_TOLERANCE_MS', { min: 0, max: 30 * 86_400_000 });
  const backlog = reader.optionalInteger('MINING_BACKLOG_LIMIT_MS', { min: 0, max: 30 * 86_400_000 });
  if (windowMs === undefined) {
    for (const [name, value] of [['TIMESTAMP_TOLERANCE_MS', tolerance], ['MINING_BACKLOG_LIMIT_MS', backlog]] as const) {
      if (value !== undefined) reader.problem(`${name} applies only to a chain with a replay window: set REPLAY_WINDOW_MS too, or unset ${name}`);
    }
    return {};
  }
  const guards = { timestampToleranceMs: tolerance ?? Math.floor(windowMs / 4), miningBacklogLimitMs: backlog ?? Math.floor(windowMs / 2) };
  if (guards.timestampToleranceMs + guards.miningBacklogLimitMs >= windowMs) {
    reader.problem(
      `TIMESTAMP_TOLERANCE_MS (${guards.timestampToleranceMs}) plus MINING_BACKLOG_LIMIT_MS (${guards.miningBacklogLimitMs}) must stay below ` +
        `REPLAY_WINDOW_MS (${windowMs}): a transaction that old, queued behind a backlog that old, would be dropped out-of-window`,
    );
  }
  return { timestampToleranceMs: guards.timestampToleranceMs, miningBacklogLimitMs: guards.miningBacklogLimitMs === 0 ? undefined : guards.miningBacklogLimitMs };
}

function readBaseUrl(reader: EnvReader, name: string, fallback: string): string {
  const raw = reader.string(name, fallback);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    reader.problem(`${name} must be an absolute http(s) URL, got "${raw}"`);
    return fallback;
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.search !== '' || url.hash !== '') {
    reader.problem(`${name} must be an http(s) URL without query or fragment, got "${raw}"`);
    return fallback;
  }
  return url.href.replace(/\/+$/, '');
}
