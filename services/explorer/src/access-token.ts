/**
 * The bearer token the explorer sends when the auditor requires one (AUTH_TOKENS): entered by the reader on
 * the first 401, kept for the tab (sessionStorage) or, when asked, on this device (localStorage), and sent
 * only to the auditor that served the page (requests are same-origin; the CSP allows no other).
 */
const KEY = 'chainlog-auditor-token';

function stores(): Storage[] {
  try {
    return [sessionStorage, localStorage];
  } catch {
    // Storage disabled (a privacy setting): the token lasts as long as the page.
    return [];
  }
}

let inMemory: string | undefined;

export function accessToken(): string | undefined {
  for (const store of stores()) {
    const token = store.getItem(KEY);
    if (token !== null && token !== '') return token;
  }
  return inMemory;
}

export function setAccessToken(token: string, remember: boolean): void {
  forgetAccessToken();
  inMemory = token;
  const [session, local] = stores();
  (remember ? local : session)?.setItem(KEY, token);
}

export function forgetAccessToken(): void {
  inMemory = undefined;
  for (const store of stores()) store.removeItem(KEY);
}

/** Request headers for the auditor's API: JSON, and the token when there is one. */
export function apiHeaders(): Record<string, string> {
  const token = accessToken();
  return { accept: 'application/json', ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) };
}
