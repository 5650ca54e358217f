/**
 * The outcome of the checks, apart from the checks themselves: pages render it without loading the
 * protocol's code, which is fetched only when something is to be verified (verify/checks.ts, a chunk of
 * its own), so the front page renders without it.
 */
export type CheckOutcome = 'passed' | 'failed' | 'skipped';

export interface Check {
  readonly name: string;
  readonly outcome: CheckOutcome;
  readonly detail: string;
}

export function overall(checks: readonly Check[]): 'verified' | 'failed' {
  return checks.some((check) => check.outcome === 'failed') || checks.length === 0 ? 'failed' : 'verified';
}

/** The name of the error crypto.ts throws where the page has no WebCrypto (not a secure context). */
export const NO_WEBCRYPTO_ERROR = 'NoWebCryptoError';

/**
 * The checks and the protocol code they run, loaded on first use (its type: checks.ts's exports). The protocol's
 * modules use Buffer as they load, and the bundler may order the modules of one chunk as it likes (the protocol
 * says it has no side effects), so Buffer is installed by a chunk of its own first.
 */
export const loadChecks = async () => {
  await import('../platform/buffer.js');
  return import('./checks.js');
};
