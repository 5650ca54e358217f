// Per-client admission, so that one client cannot take the service from the others: a token bucket per
// client (requests per second, with a burst) and a share of the in-flight slots per client. Both answer
// 429 with Retry-After; the global in-flight bound stays a 503 (the service as a whole is full).
// A client is its address (or the header a trusted proxy sets, CLIENT_IP_HEADER). Pure: the clock is injected.

export interface FairnessOptions {
  /** Sustained requests per second per client; 0 turns the rate limit off. */
  ratePerSecond: number;
  /** Requests a client may send at once above the rate. */
  burst: number;
  /** In-flight requests one client may hold. */
  maxInflightPerClient: number;
  clock: () => number;
}

export type Verdict =
  | { admitted: true; release: () => void }
  | { admitted: false; reason: 'rate' | 'inflight'; retryAfterSeconds: number; message: string };

interface ClientState {
  tokens: number;
  updatedAt: number;
  inflight: number;
}

/** Clients idle this long are forgotten (their bucket is full again by then). */
const IDLE_MS = 60_000;
/** Sweep the table of clients when it grows past this many. */
const SWEEP_AT = 10_000;

export class ClientFairness {
  readonly #clients = new Map<string, ClientState>();

  readonly #options: FairnessOptions;

  constructor(options: FairnessOptions) {
    this.#options = options;
  }

  get clients(): number {
    return this.#clients.size;
  }

  admit(client: string): Verdict {
    const now = this.#options.clock();
    const state = this.#state(client, now);
    const { ratePerSecond, maxInflightPerClient } = this.#options;
    if (ratePerSecond > 0) {
      state.tokens = Math.min(this.#options.burst, state.tokens + ((now - state.updatedAt) / 1000) * ratePerSecond);
      state.updatedAt = now;
      if (state.tokens < 1) {
        return {
          admitted: false,
          reason: 'rate',
          retryAfterSeconds: Math.max(1, Math.ceil((1 - state.tokens) / ratePerSecond)),
          message: `more than ${ratePerSecond} requests per second from this client (burst ${this.#options.burst}); slow down`,
        };
      }
    }
    if (state.inflight >= maxInflightPerClient) {
      return {
        admitted: false,
        reason: 'inflight',
        retryAfterSeconds: 1,
        message: `this client already has ${state.inflight} requests in flight, its share; wait for their answers`,
      };
    }
    if (ratePerSecond > 0) state.tokens -= 1;
    state.inflight += 1;
    let released = false;
    return {
      admitted: true,
      release: () => {
        if (released) return;
        released = true;
        state.inflight -= 1;
        state.updatedAt = Math.max(state.updatedAt, this.#options.clock());
      },
    };
  }

  #state(client: string, now: number): ClientState {
    let state = this.#clients.get(client);
    if (state === undefined) {
      if (this.#clients.size >= SWEEP_AT) this.#sweep(now);
      state = { tokens: this.#options.burst, updatedAt: now, inflight: 0 };
      this.#clients.set(client, state);
    }
    return state;
  }

  #sweep(now: number): void {
    for (const [client, state] of this.#clients) {
      if (state.inflight === 0 && now - state.updatedAt > IDLE_MS) this.#clients.delete(client);
    }
  }
}

/** The client a request comes from: the trusted proxy's header (its last entry), else the peer address. */
export function clientOf(headers: Record<string, string | string[] | undefined>, remoteAddress: string | undefined, header: string | undefined): string {
  if (header !== undefined) {
    const raw = headers[header];
    const value = Array.isArray(raw) ? raw.at(-1) : raw;
    const last = value?.split(',').at(-1)?.trim();
    if (last !== undefined && last !== '') return last.slice(0, 64);
  }
  return remoteAddress ?? 'unknown';
}
