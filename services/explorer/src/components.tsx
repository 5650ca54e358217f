/** Small pieces every page uses. */
import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import { accessToken, setAccessToken } from './access-token.js';
import { ApiError } from './api.js';
import type { Async } from './use-async.js';
import { NO_WEBCRYPTO_ERROR, overall, type Check } from './verify/outcome.js';
import { ago, isoTime, shortHash } from './format.js';
import { href } from './router.js';

/** Set once the reader moved from the page the explorer opened on (hash routes change without a load). */
let navigated = false;
addEventListener('hashchange', () => (navigated = true));

/**
 * A page's title: the document title too, and focused after a navigation so that screen readers announce
 * the new page and Tab continues from it (on the first page, focus stays at the top: skip link first).
 */
export function PageTitle({ children, text }: { children: ComponentChildren; text: string }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${text} · Chainlog explorer`;
    if (navigated) heading.current?.focus({ preventScroll: true });
  }, [text]);
  return (
    <h1 id="page-title" tabIndex={-1} ref={heading}>
      {children}
    </h1>
  );
}

export function Hash({ value, full = false }: { value: string | null | undefined; full?: boolean }) {
  if (value === null || value === undefined) return <span>—</span>;
  return (
    <code class={full ? 'hash full' : 'hash'} title={value}>
      {full ? value : shortHash(value)}
    </code>
  );
}

export function BlockLink({ index }: { index: number }) {
  return <a href={href.block(index)}>#{index}</a>;
}

export function AccountLink({ id }: { id: string }) {
  return id === '0' ? <span title="the mint: sender of every block reward">0 (mint)</span> : <a href={href.account(id)}>{id}</a>;
}

export function TransactionLink({ id }: { id: string }) {
  return (
    <a href={href.transaction(id)} class="id">
      {id}
    </a>
  );
}

export function Time({ ms }: { ms: number | null | undefined }) {
  return (
    <time dateTime={isoTime(ms)} title={isoTime(ms)}>
      {ago(ms)}
    </time>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p class="muted" role="status">
      Loading {what}…
    </p>
  );
}

export function ErrorMessage({ error }: { error: Error }) {
  if (error instanceof ApiError && error.status === 401) return <TokenForm refused={accessToken() !== undefined} />;
  return (
    <p class="error" role="alert">
      {error.message}
    </p>
  );
}

/** The auditor requires a bearer token (AUTH_TOKENS): asks for it, keeps it, and loads the page again with it. */
export function TokenForm({ refused }: { refused: boolean }) {
  const submit = (event: Event): void => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const token = (form.elements.namedItem('token') as HTMLInputElement).value.trim();
    if (token === '') return;
    setAccessToken(token, (form.elements.namedItem('remember') as HTMLInputElement).checked);
    location.reload();
  };
  return (
    <form class="token" onSubmit={submit} aria-labelledby="token-title">
      <p id="token-title" class="notice" role="alert">
        {refused ? 'The auditor refused this access token.' : 'This auditor requires an access token.'}
      </p>
      <label for="token">Access token</label>
      <input id="token" name="token" type="password" autocomplete="off" spellcheck={false} required />
      <label class="inline">
        <input name="remember" type="checkbox" /> Remember on this device (otherwise for this tab only)
      </label>
      <div class="buttons">
        <button type="submit">Use this token</button>
      </div>
    </form>
  );
}

/** Renders the value, or the loading / error state. */
export function Loaded<T>({ data, what, children }: { data: Async<T>; what: string; children: (value: T) => ComponentChildren }) {
  if (data.state === 'loading') return <Loading what={what} />;
  if (data.state === 'error') return <ErrorMessage error={data.error} />;
  return <>{children(data.value)}</>;
}

const SYMBOL = { passed: '✓', failed: '✗', skipped: '–' } as const;

/** The outcome of checks run in this browser, overall and one by one; text, not colour alone, tells. */
export function Verification({ checks, label }: { checks: Async<Check[]>; label: string }) {
  if (checks.state === 'loading') return <p role="status" class="verdict pending">Checking {label} on this device…</p>;
  if (checks.state === 'error') {
    const noCrypto = checks.error.name === NO_WEBCRYPTO_ERROR;
    return (
      <p role="status" class={noCrypto ? 'verdict pending' : 'verdict failed'} data-verdict={noCrypto ? 'unavailable' : 'failed'}>
        {noCrypto ? 'Not checked: ' : 'Failed: '}
        {checks.error.message}
      </p>
    );
  }
  const verdict = overall(checks.value);
  return (
    <section aria-label={`Verification of ${label}`} class="verification">
      <p role="status" class={`verdict ${verdict}`} data-verdict={verdict}>
        {verdict === 'verified' ? `✓ Verified on this device: ${label}` : `✗ Failed: ${label} does not check out`}
      </p>
      <ul class="checks">
        {checks.value.map((check) => (
          <li key={check.name} class={check.outcome}>
            <span aria-hidden="true" class="symbol">
              {SYMBOL[check.outcome]}
            </span>{' '}
            <strong>{check.name}</strong>: <span class="outcome">{check.outcome}</span>
            <span class="detail">{check.detail}</span>
          </li>
        ))}
      </ul>
    </section>
  );
}

export function Pager({ newer, older, label }: { newer: string | undefined; older: string | undefined; label: string }) {
  if (newer === undefined && older === undefined) return null;
  return (
    <nav class="pager" aria-label={label}>
      {newer === undefined ? <span aria-disabled="true">← Newer</span> : <a href={newer} rel="prev">← Newer</a>}
      {older === undefined ? <span aria-disabled="true">Older →</span> : <a href={older} rel="next">Older →</a>}
    </nav>
  );
}

export function Field({ name, children }: { name: string; children: ComponentChildren }) {
  return (
    <>
      <dt>{name}</dt>
      <dd>{children}</dd>
    </>
  );
}
