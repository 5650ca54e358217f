// Flow control between a source feed's worker thread and the thread that validates the chain: the worker
// counts the bytes of the chunks it has posted and the reader's thread has not yet taken (acknowledged), and
// does not fetch again while they exceed a budget. Without it the worker, whose consumer hands each batch
// over at once, fetched at the broker's pace while the reader's thread was busy validating blocks (its port's
// messages wait for its event loop): tens of MiB of chunks queued between the threads, on top of the records
// the reader keeps, before the reader could pause the partition. Pausing stays the reader's decision; this only
// bounds what is on the way.
export class InFlightWindow {
  #bytes = 0;
  #waiting: (() => void) | undefined;
  #closed = false;

  /** @param budgetBytes posted-and-unacknowledged bytes above which the sender waits for room. */
  constructor(readonly budgetBytes: number) {
    if (!(budgetBytes > 0)) throw new Error(`an in-flight budget must be positive, got ${budgetBytes}`);
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** A chunk of this many bytes was posted. */
  sent(bytes: number): void {
    this.#bytes += bytes;
  }

  /** The receiver took chunks of this many bytes: room again once at most half the budget is on the way. */
  acknowledged(bytes: number): void {
    this.#bytes = Math.max(0, this.#bytes - bytes);
    if (this.#bytes <= this.budgetBytes / 2) this.#wake();
  }

  /**
   * Resolves at once while within the budget; else when acknowledgements bring the bytes on the way down to
   * half of it (hysteresis: not a fetch per acknowledgement), or the window is closed.
   */
  room(): Promise<void> | undefined {
    if (this.#closed || this.#bytes <= this.budgetBytes) return undefined;
    return new Promise((resolve) => {
      const previous = this.#waiting;
      this.#waiting = () => {
        previous?.();
        resolve();
      };
    });
  }

  /** Stopping: nothing waits any more. */
  close(): void {
    this.#closed = true;
    this.#wake();
  }

  #wake(): void {
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.();
  }
}
