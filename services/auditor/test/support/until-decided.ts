// Asks the auditor again while it answers a retryable 503 that says it cannot decide yet (read-your-writes:
// pending-catching-up while its transactions follower reads the topic), as a client honouring Retry-After does.
import { expect } from 'vitest';

export interface ApiAnswer {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly retryAfter: string | null;
}

/** The first answer that is not a 503 with one of `codes` (each such 503 must carry Retry-After), and how many were. */
export async function untilDecided(ask: () => Promise<ApiAnswer>, codes: readonly string[] = ['pending-catching-up'], maxRetries = 30): Promise<ApiAnswer & { retries: number }> {
  for (let retries = 0; ; retries++) {
    const answer = await ask();
    const code = (answer.body.error as { code?: unknown } | undefined)?.code;
    if (answer.status !== 503 || !codes.includes(code as string)) return { ...answer, retries };
    expect(Number(answer.retryAfter)).toBeGreaterThan(0);
    if (retries >= maxRetries) throw new Error(`still 503 after ${retries} retries: ${JSON.stringify(answer.body)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
