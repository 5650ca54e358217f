/** Loads data for a page: re-runs when a dependency changes, aborts the superseded request. */
import { useEffect, useState } from 'preact/hooks';

export type Async<T> = { readonly state: 'loading' } | { readonly state: 'ok'; readonly value: T } | { readonly state: 'error'; readonly error: Error };

/**
 * `refresh` changing (e.g. the live head's hash) reloads in the background: the page keeps showing the
 * previous value until the new one arrives, so live updates do not flash a loading state.
 */
export function useAsync<T>(load: (signal: AbortSignal) => Promise<T>, deps: readonly unknown[], refresh?: unknown): Async<T> {
  const [result, setResult] = useState<Async<T>>({ state: 'loading' });
  useEffect(() => {
    setResult({ state: 'loading' });
  }, deps);
  useEffect(() => {
    const controller = new AbortController();
    load(controller.signal).then(
      (value) => controller.signal.aborted || setResult({ state: 'ok', value }),
      (error: Error) => controller.signal.aborted || error.name === 'AbortError' || setResult({ state: 'error', error }),
    );
    return () => controller.abort();
  }, [...deps, refresh]);
  return result;
}
