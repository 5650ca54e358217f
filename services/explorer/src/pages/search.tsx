/**
 * Search: a block height goes to the block; anything else is looked up as a transaction id, then as an
 * account. Ids of both kinds share one alphabet, so the lookup, not the shape, decides.
 */
import { ACCOUNT_ID_MAX_LENGTH, ACCOUNT_ID_PATTERN } from '@chainlog/core/protocol';
import { useEffect } from 'preact/hooks';
import { api, ApiError } from '../api.js';
import { Loaded, PageTitle } from '../components.js';
import { href } from '../router.js';
import { useAsync } from '../use-async.js';

export function SearchPage({ query }: { query: string }) {
  const data = useAsync(
    async (signal) => {
      if (/^(0|[1-9][0-9]{0,15})$/.test(query)) return href.block(Number(query));
      // An auditor that cannot rule the id out yet (a retryable 503) does not stop the account lookup; it is
      // reported only when the query is no account either (never "nothing found" for a transaction not read yet).
      let undecided: ApiError | undefined;
      try {
        const transaction = await api.transaction(query, signal);
        if (transaction.status !== 'unknown') return href.transaction(query);
      } catch (error) {
        if (!(error instanceof ApiError && error.status === 503)) throw error;
        undecided = error;
      }
      const account = isAccountId(query) ? await api.account(query, undefined, 1, signal) : undefined;
      if (account !== undefined) return href.account(query);
      if (undecided !== undefined) throw undecided;
      return undefined;
    },
    [query],
  );
  useEffect(() => {
    if (data.state === 'ok' && data.value !== undefined) location.replace(data.value);
  }, [data]);
  return (
    <>
      <PageTitle text={`Search ${query}`}>Search</PageTitle>
      <Loaded data={data} what={`"${query}"`}>
        {(target) =>
          target === undefined ? (
            <p class="status unknown" data-status="unknown" role="status">
              <strong>Nothing found</strong> for <span class="id">{query}</span>: it is not a block height, a transaction id the auditor knows, or an
              account with transactions.
            </p>
          ) : (
            <p>Opening…</p>
          )
        }
      </Loaded>
    </>
  );
}

const ACCOUNT_ID = new RegExp(ACCOUNT_ID_PATTERN);

function isAccountId(query: string): boolean {
  return query.length <= ACCOUNT_ID_MAX_LENGTH && ACCOUNT_ID.test(query);
}
