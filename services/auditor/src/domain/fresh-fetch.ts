/**
 * Coalesces concurrent asks for a value that must be fetched AFTER the ask (a topic's end offsets for
 * read-your-writes: an answer fetched before the request arrived may miss a record acknowledged just before
 * it). A fetch in flight when an ask arrives started too early for it, so the ask joins the next fetch, which
 * starts when the one in flight settles; every ask arriving meanwhile joins that same next fetch. At most one
 * fetch runs and one waits, however many lookups arrive.
 */
export class FreshFetch<T> {
  readonly #fetch: () => Promise<T>;
  #inFlight: Promise<T> | undefined;
  #next: Promise<T> | undefined;

  constructor(fetch: () => Promise<T>) {
    this.#fetch = fetch;
  }

  /** A value fetched by a fetch that started after this call (rejects when that fetch fails). */
  get(): Promise<T> {
    if (this.#inFlight === undefined) return this.#start();
    if (this.#next === undefined) {
      const settled = this.#inFlight.then(
        () => undefined,
        () => undefined,
      );
      this.#next = settled.then(() => {
        this.#next = undefined;
        return this.#start();
      });
    }
    return this.#next;
  }

  #start(): Promise<T> {
    const started = Promise.resolve()
      .then(() => this.#fetch())
      .finally(() => {
        if (this.#inFlight === started) this.#inFlight = undefined;
      });
    this.#inFlight = started;
    return started;
  }
}
