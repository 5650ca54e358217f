/**
 * Routes live in the URL's hash (`#/block/42`), so links can be shared and the back button works without
 * the server knowing any route: the auditor serves one page, at `/` or behind any path prefix.
 */
import { useEffect, useState } from 'preact/hooks';

export type Route =
  | { readonly page: 'home' }
  | { readonly page: 'blocks'; readonly from: number | undefined; readonly limit: number | undefined }
  | { readonly page: 'block'; readonly index: number }
  | { readonly page: 'transaction'; readonly id: string }
  | { readonly page: 'account'; readonly id: string; readonly from: number | undefined; readonly limit: number | undefined }
  | { readonly page: 'audit' }
  | { readonly page: 'search'; readonly query: string }
  | { readonly page: 'not-found'; readonly path: string };

const INDEX = /^(0|[1-9][0-9]{0,15})$/;

function integer(text: string | null | undefined): number | undefined {
  return text !== null && text !== undefined && INDEX.test(text) ? Number(text) : undefined;
}

/** Rows per page: 1..100 (the auditor's most), or undefined for the page's default. */
function pageSize(text: string | null): number | undefined {
  const size = integer(text);
  return size === undefined || size < 1 ? undefined : Math.min(size, 100);
}

export function parseRoute(hash: string): Route {
  const raw = hash.replace(/^#/, '') || '/';
  const [path = '/', query = ''] = raw.split('?', 2);
  const params = new URLSearchParams(query);
  const parts = path.split('/').filter((part) => part !== '').map((part) => {
    try {
      return decodeURIComponent(part);
    } catch {
      return part;
    }
  });
  const [first, second] = parts;
  if (parts.length === 0) return { page: 'home' };
  if (first === 'blocks' && parts.length === 1) return { page: 'blocks', from: integer(params.get('from')), limit: pageSize(params.get('limit')) };
  if (first === 'block' && parts.length === 2 && integer(second) !== undefined) return { page: 'block', index: integer(second) as number };
  if (first === 'tx' && parts.length === 2 && second !== undefined) return { page: 'transaction', id: second };
  if (first === 'account' && parts.length === 2 && second !== undefined) return { page: 'account', id: second, from: integer(params.get('from')), limit: pageSize(params.get('limit')) };
  if (first === 'audit' && parts.length === 1) return { page: 'audit' };
  if (first === 'search' && parts.length === 2 && second !== undefined) return { page: 'search', query: second };
  return { page: 'not-found', path };
}

function query(values: Record<string, number | undefined>): string {
  const present = Object.entries(values).filter(([, value]) => value !== undefined);
  return present.length === 0 ? '' : `?${present.map(([name, value]) => `${name}=${value}`).join('&')}`;
}

export const href = {
  home: (): string => '#/',
  blocks: (from?: number, limit?: number): string => `#/blocks${query({ from, limit })}`,
  block: (index: number): string => `#/block/${index}`,
  transaction: (id: string): string => `#/tx/${encodeURIComponent(id)}`,
  account: (id: string, from?: number, limit?: number): string => `#/account/${encodeURIComponent(id)}${query({ from, limit })}`,
  audit: (): string => '#/audit',
  search: (query: string): string => `#/search/${encodeURIComponent(query)}`,
};

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const update = (): void => {
      setRoute(parseRoute(location.hash));
      // A new page starts at its top, as after a page load.
      scrollTo(0, 0);
    };
    addEventListener('hashchange', update);
    return () => removeEventListener('hashchange', update);
  }, []);
  return route;
}
