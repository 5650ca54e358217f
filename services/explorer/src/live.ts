/**
 * The live head: server-sent events from the auditor (`v1/chain/events`), falling back to polling
 * `v1/chain/live` every few seconds when the stream cannot be kept open (a proxy that buffers, a browser
 * without EventSource, an auditor that requires a token). One connection per page, shared by every component
 * through useLive().
 */
import { useEffect, useState } from 'preact/hooks';
import { auditorPaths } from '@chainlog/core/api';
import { accessToken } from './access-token.js';
import { api, apiUrl, type LiveView } from './api.js';

export type Connection = 'connecting' | 'live' | 'polling' | 'offline';

export interface LiveState {
  readonly view: LiveView | undefined;
  readonly connection: Connection;
}

const POLL_MS = 3000;
/** Stream errors in a row before polling takes over (EventSource itself retries every 3 s meanwhile). */
const ERRORS_BEFORE_POLLING = 3;

let state: LiveState = { view: undefined, connection: 'connecting' };
const listeners = new Set<(state: LiveState) => void>();
let started = false;

function publish(next: Partial<LiveState>): void {
  // When the first live data arrived: the explorer's "first render with data" figure (docs/explorer.md).
  if (state.view === undefined && next.view !== undefined) performance.mark('chainlog-explorer-live');
  state = { ...state, ...next };
  for (const listener of listeners) listener(state);
}

function poll(): void {
  const tick = async (): Promise<void> => {
    try {
      publish({ view: await api.live(), connection: 'polling' });
    } catch {
      publish({ connection: 'offline' });
    }
    setTimeout(() => void tick(), POLL_MS);
  };
  void tick();
}

function start(): void {
  if (started) return;
  started = true;
  // EventSource cannot send an Authorization header: with a token, the live view is polled.
  if (typeof EventSource === 'undefined' || accessToken() !== undefined) {
    poll();
    return;
  }
  const source = new EventSource(apiUrl(auditorPaths.events()));
  let errors = 0;
  source.addEventListener('live', (event) => {
    errors = 0;
    publish({ view: JSON.parse((event as MessageEvent<string>).data) as LiveView, connection: 'live' });
  });
  source.addEventListener('error', () => {
    errors++;
    if (errors >= ERRORS_BEFORE_POLLING) {
      source.close();
      poll();
    } else {
      publish({ connection: 'connecting' });
    }
  });
}

export function useLive(): LiveState {
  const [current, setCurrent] = useState(state);
  useEffect(() => {
    start();
    listeners.add(setCurrent);
    setCurrent(state);
    return () => {
      listeners.delete(setCurrent);
    };
  }, []);
  return current;
}
