/**
 * Taking turns with the other miners. Every miner builds on the same tip, so two miners that both have
 * transactions race for every block: the log keeps the first, the loser's work is thrown away and its
 * transactions wait at least one more block cycle, often several (commit latency p99 of seconds with 2..4
 * miners, docs/benchmarks.md). So a miner that mined one of the latest blocks lets the miners that have
 * waited longest go first: it waits, bounded, for the tip to move before building on it. With every miner
 * doing so, active miners settle into a rotation instead of a race.
 *
 * Consensus is untouched: any valid block that extends the tip is accepted. This only decides when a miner
 * builds, so a miner that does not take part, or has crashed, costs the others at most the bound. Pure.
 */

/** How many recent canonical blocks tell which miners are active. */
export const TURN_WINDOW_BLOCKS = 16;

export class RecentMiners {
  /** Miners of the last canonical blocks (genesis excluded), oldest first, at most `window` of them. */
  readonly #miners: string[] = [];

  readonly #window: number;

  constructor(window = TURN_WINDOW_BLOCKS) {
    this.#window = window;
  }

  record(index: number, miner: string): void {
    if (index === 0) return;
    this.#miners.push(miner);
    if (this.#miners.length > this.#window) this.#miners.shift();
  }

  /**
   * Whether `self` should let others go first: with k distinct miners active in the window, a miner that
   * mined one of the last k - 1 blocks has had its turn more recently than at least one other miner.
   */
  shouldYield(self: string): boolean {
    const active = new Set(this.#miners).size;
    if (active < 2) return false;
    return this.#miners.slice(-(active - 1)).includes(self);
  }
}

/**
 * How long to wait for another miner's block: twice what this miner's own last block took from start to
 * canonical (a peer with a similar block needs about as long), never longer than the batching window.
 */
export function yieldBoundMs(lastCycleMs: number | undefined, maxBlockWaitMs: number): number {
  if (lastCycleMs === undefined) return maxBlockWaitMs;
  return Math.min(maxBlockWaitMs, Math.ceil(2 * lastCycleMs));
}
