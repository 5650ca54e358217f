// The periodic Kafka admin request both of ingest's watchers make (the topic's metadata, the miners'
// progress): one admin client connected on first use, a poll on a timer, and on a failure the client dropped
// so the next poll connects afresh (a client whose broker went away can hang on its old connection).
import type { Admin, Kafka } from 'kafkajs';

export interface AdminPollerOptions {
  kafka: Kafka;
  /** One poll; a throw is a failure. */
  poll: (admin: Admin) => Promise<void>;
  /** A poll failed (the client is dropped after this). */
  onFailure: (error: unknown) => void;
  /** The pause before the next poll, asked after each one. */
  nextDelayMs: () => number;
}

export class AdminPoller {
  readonly #options: AdminPollerOptions;
  #admin: Admin | undefined;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;

  constructor(options: AdminPollerOptions) {
    this.#options = options;
  }

  start(): void {
    if (this.#running || this.#stopped) return;
    this.#schedule(0);
  }

  /** Polls once. Never throws: a failure goes to onFailure. */
  async pollOnce(): Promise<void> {
    try {
      if (this.#admin === undefined) {
        const admin = this.#options.kafka.admin();
        this.#admin = admin;
        await admin.connect();
      }
      await this.#options.poll(this.#admin);
    } catch (error) {
      this.#options.onFailure(error);
      await this.#dropAdmin();
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    // Disconnecting first makes a request that waits on an unreachable broker fail at once.
    await this.#dropAdmin();
    await this.#running;
  }

  #schedule(delayMs: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#running = this.pollOnce().finally(() => {
        this.#running = undefined;
        this.#schedule(this.#options.nextDelayMs());
      });
    }, delayMs);
    this.#timer.unref();
  }

  async #dropAdmin(): Promise<void> {
    const admin = this.#admin;
    this.#admin = undefined;
    await admin?.disconnect().catch(() => undefined);
  }
}
