// A refusal log in memory for the pending tracker's own tests, and the skips a block names recorded into it as
// AuditorState records them into the store (tests of the composition use AuditorState itself).
import type { Block, SkipReason } from '@chainlog/core/protocol';
import type { RefusalLog } from '../../src/domain/pending-tracker.js';

export interface TestRefusalLog extends RefusalLog {
  /** Records the reasons `block` names for the records of `topic` it skipped (duplicates excepted). */
  recordSkips(block: Block, topic: string): void;
}

export function memoryRefusalLog(): TestRefusalLog {
  const refusals = new Map<string, { partition: number; offset: number; reason?: SkipReason }>();
  const skips = new Map<string, SkipReason>();
  return {
    refusal: (id) => refusals.get(id),
    logRefusal: (id, refusal) => void refusals.set(id, refusal),
    skip: (partition, offset) => skips.get(`${partition}:${offset}`),
    recordSkips(block, topic) {
      for (const source of block.sources) {
        if (source.topic !== topic) continue;
        for (const { offset, reason } of source.skipped ?? []) if (reason !== 'duplicate') skips.set(`${source.partition}:${offset}`, reason);
      }
    },
  };
}
