// Checkpoint settings of a chain reader (docs/protocol.md §5.1). Only chains with a replay window
// (REPLAY_WINDOW_MS) have checkpoints; without one these settings have no effect.
import type { CheckpointSettings } from '../kafka/chain-checkpoints.js';
import type { EnvReader } from './env.js';

const TOPIC = { regex: /^[A-Za-z0-9._-]{1,249}$/, description: 'a Kafka topic name' };

export function readCheckpointConfig(env: EnvReader): CheckpointSettings {
  return {
    topic: env.string('TOPIC_CHECKPOINTS', 'checkpoints', TOPIC),
    restore: env.boolean('CHECKPOINT_RESTORE', true),
    everyTransactions: env.integer('CHECKPOINT_EVERY_TRANSACTIONS', 100_000, { min: 0, max: 1_000_000_000 }),
    everyBlocks: env.integer('CHECKPOINT_EVERY_BLOCKS', 1000, { min: 0, max: 1_000_000_000 }),
    verify: env.boolean('CHECKPOINT_VERIFY', true),
    verifyWorker: env.boolean('CHECKPOINT_VERIFY_WORKER', false),
  };
}
