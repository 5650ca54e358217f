/**
 * The auditor's configuration: every environment variable it reads, validated in one place. A bad value
 * is reported together with every other problem (ConfigError), and main.ts exits with status 2.
 */
import { isAbsolute } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type CommonConfig, EnvReader, readCheckpointConfig, readCommonConfig, readConsensusConfig } from '@chainlog/core/config';
import type { CheckpointSettings } from '@chainlog/core/kafka';
import { readAuthTokens } from '@chainlog/core/http';
import type { ConsensusParams } from '@chainlog/core/protocol';

export const SERVICE_NAME = 'auditor';
export const DEFAULT_HTTP_PORT = 8082;
/** The explorer workspace's build output, beside this service (src/ and dist/ are at the same depth). */
export const DEFAULT_EXPLORER_DIR = fileURLToPath(new URL('../../explorer/dist/', import.meta.url));

export interface AuditorConfig extends CommonConfig {
  /** Must equal the miners' (DIFFICULTY, BLOCK_REWARD, ALLOWED_MINER_KEYS, …): the chain depends on them. */
  readonly consensus: ConsensusParams;
  /** Rejected blocks, forks and overdrafts kept in full for /v1/audit (totals cover all). */
  readonly recentLimit: number;
  /** Wire bytes of decoded blocks cached for queries (about 1.6× that on the heap); blocks are otherwise kept as wire bytes. */
  readonly blockCacheBytes: number;
  /** Pending transactions whose ids are indexed for status queries (counts and ages cover all). */
  readonly pendingTrackLimit: number;
  /** Publish rejected blocks to the audit topic. */
  readonly publishAuditEvents: boolean;
  /** Audit events queued while the audit topic is unreachable; beyond it they are dropped (and counted). */
  readonly auditQueueLimit: number;
  /** Serve the explorer's static files at `/` from `dir` (the built services/explorer by default). */
  readonly explorer: { readonly enabled: boolean; readonly dir: string };
  /** Most open `/v1/chain/events` streams (503 beyond). */
  readonly liveStreamLimit: number;
  /** AUTH_TOKENS: bearer tokens the API (and the explorer) requires; undefined: open. */
  readonly authTokens: string[] | undefined;
  /**
   * DATA_DIR: the auditor's state directory (a PersistentVolume in Kubernetes). The transaction index, blocks
   * and account histories live there in LevelDB and survive restarts; unset: they are kept in memory (dev, tests).
   */
  readonly dataDir: string | undefined;
  /**
   * Continue from the miners' newest verified checkpoint at start-up (docs/protocol.md §5.1; chains with a
   * replay window only). The auditor reads checkpoints, it never writes them (the CHECKPOINT_EVERY_* settings
   * do not apply). After a restore the background replay from genesis runs whenever the index misses blocks
   * (it is the back-fill), otherwise as CHECKPOINT_VERIFY says.
   */
  readonly checkpoints: CheckpointSettings;
}

export function readConfig(env: Record<string, string | undefined> = process.env): AuditorConfig {
  const reader = new EnvReader(env);
  const common = readCommonConfig(reader, SERVICE_NAME, DEFAULT_HTTP_PORT);
  const config: AuditorConfig = {
    ...common,
    consensus: readConsensusConfig(reader),
    recentLimit: reader.integer('AUDIT_RECENT_LIMIT', 1000, { min: 1, max: 100_000 }),
    blockCacheBytes: reader.integer('BLOCK_CACHE_BYTES', 16 * 2 ** 20, { min: 0, max: 2 ** 34 }),
    pendingTrackLimit: reader.integer('PENDING_TRACK_LIMIT', 1_000_000, { min: 0, max: 100_000_000 }),
    publishAuditEvents: reader.boolean('AUDIT_PUBLISH', true),
    auditQueueLimit: reader.integer('AUDIT_QUEUE_LIMIT', 100_000, { min: 1, max: 10_000_000 }),
    explorer: { enabled: reader.boolean('EXPLORER_ENABLED', true), dir: reader.string('EXPLORER_DIR', DEFAULT_EXPLORER_DIR) },
    liveStreamLimit: reader.integer('LIVE_STREAM_LIMIT', 1000, { min: 1, max: 100_000 }),
    authTokens: readAuthTokens(reader),
    dataDir: readDataDir(reader),
    checkpoints: readCheckpointConfig(reader),
  };
  const topics = Object.entries(common.topics);
  topics.forEach(([role, name], at) => {
    const clash = topics.slice(0, at).find(([, earlier]) => earlier === name);
    if (clash !== undefined) reader.problem(`the ${clash[0]} and ${role} topics must differ, both are "${name}"`);
  });
  reader.done();
  return config;
}

/** DATA_DIR: an absolute path, or unset (empty counts as unset: a chart value left blank). */
function readDataDir(reader: EnvReader): string | undefined {
  const dir = reader.string('DATA_DIR', '');
  if (dir === '') return undefined;
  if (!isAbsolute(dir) || dir.includes('\0')) {
    reader.problem(`DATA_DIR must be an absolute path to the auditor's state directory, got "${dir.slice(0, 200)}"`);
    return undefined;
  }
  return dir;
}
