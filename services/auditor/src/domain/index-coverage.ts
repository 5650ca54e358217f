/**
 * Which canonical blocks the auditor's index holds, as disjoint ranges of block indexes. A full replay fills
 * it from 0 upwards in one range; a start from a checkpoint opens a second range at the checkpoint's tip that
 * grows with the chain while the back-fill (the background verification from genesis) grows the first range
 * towards it; they merge when the back-fill reaches the checkpoint. A persisted index may bring older ranges
 * from a previous run. Pure: the service stores the ranges with the index and decides from them what it
 * can answer (`complete`: every block from genesis to the top is indexed, so an id that is not found was never
 * committed).
 */
export type BlockRange = readonly [from: number, to: number];

export class IndexCoverage {
  /** Sorted, disjoint, never adjacent (adjacent ranges are merged). */
  #ranges: [number, number][];

  constructor(ranges: readonly BlockRange[] = []) {
    const sorted = ranges
      .map(([from, to]): [number, number] => {
        if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from < 0 || to < from) throw new RangeError(`not a block range: [${from}, ${to}]`);
        return [from, to];
      })
      .sort((a, b) => a[0] - b[0]);
    this.#ranges = [];
    for (const [from, to] of sorted) {
      const last = this.#ranges.at(-1);
      if (last !== undefined && from <= last[1] + 1) last[1] = Math.max(last[1], to);
      else this.#ranges.push([from, to]);
    }
  }

  get ranges(): BlockRange[] {
    return this.#ranges.map(([from, to]) => [from, to] as const);
  }

  /** The highest block index held; -1 when empty. */
  get top(): number {
    return this.#ranges.at(-1)?.[1] ?? -1;
  }

  /** Every block 0..n is held for the largest such n; -1 when block 0 is missing. */
  get contiguousTop(): number {
    const first = this.#ranges[0];
    return first !== undefined && first[0] === 0 ? first[1] : -1;
  }

  /** Every block from genesis to the top is held (an empty index is complete: there is nothing to miss). */
  get complete(): boolean {
    return this.#ranges.length === 0 || (this.#ranges.length === 1 && (this.#ranges[0] as [number, number])[0] === 0);
  }

  /** Blocks below the top that are missing. */
  get missing(): number {
    let held = 0;
    for (const [from, to] of this.#ranges) held += to - from + 1;
    return this.top + 1 - held;
  }

  has(index: number): boolean {
    let low = 0;
    let high = this.#ranges.length - 1;
    while (low <= high) {
      const middle = (low + high) >> 1;
      const [from, to] = this.#ranges[middle] as [number, number];
      if (index < from) high = middle - 1;
      else if (index > to) low = middle + 1;
      else return true;
    }
    return false;
  }

  /** Marks the block held; false when it already was. */
  add(index: number): boolean {
    if (!Number.isSafeInteger(index) || index < 0) throw new RangeError(`a block index must be a non-negative integer, got ${index}`);
    if (this.has(index)) return false;
    // The first range that starts after the index (ranges are few: a linear scan is enough).
    let at = 0;
    while (at < this.#ranges.length && (this.#ranges[at] as [number, number])[0] < index) at++;
    const before = this.#ranges[at - 1];
    const after = this.#ranges[at];
    const joinsBefore = before !== undefined && before[1] === index - 1;
    const joinsAfter = after !== undefined && after[0] === index + 1;
    if (joinsBefore && joinsAfter) {
      before[1] = after[1];
      this.#ranges.splice(at, 1);
    } else if (joinsBefore) before[1] = index;
    else if (joinsAfter) after[0] = index;
    else this.#ranges.splice(at, 0, [index, index]);
    return true;
  }
}
