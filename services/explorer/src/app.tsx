/** The page shell: skip link, header with navigation and search, the routed page, footer. */
import { useState } from 'preact/hooks';
import { accessToken, forgetAccessToken } from './access-token.js';
import { PageTitle } from './components.js';
import { useLive } from './live.js';
import { AccountPage } from './pages/account.js';
import { AuditPage } from './pages/audit.js';
import { BlockPage } from './pages/block.js';
import { BlocksPageView } from './pages/blocks.js';
import { Home } from './pages/home.js';
import { SearchPage } from './pages/search.js';
import { TransactionPage } from './pages/transaction.js';
import { href, useRoute, type Route } from './router.js';

function Page({ route }: { route: Route }) {
  switch (route.page) {
    case 'home':
      return <Home />;
    case 'blocks':
      return <BlocksPageView from={route.from} limit={route.limit} />;
    case 'block':
      return <BlockPage index={route.index} />;
    case 'transaction':
      return <TransactionPage id={route.id} />;
    case 'account':
      return <AccountPage id={route.id} from={route.from} limit={route.limit} />;
    case 'audit':
      return <AuditPage />;
    case 'search':
      return <SearchPage query={route.query} />;
    case 'not-found':
      return (
        <>
          <PageTitle text="Not found">Not found</PageTitle>
          <p>
            There is no page at <code>{route.path}</code>. <a href={href.home()}>Back to the ledger</a>.
          </p>
        </>
      );
  }
}

function Search() {
  const [query, setQuery] = useState('');
  const submit = (event: Event): void => {
    event.preventDefault();
    const trimmed = query.trim();
    if (trimmed !== '') location.hash = href.search(trimmed);
  };
  return (
    <form role="search" class="search" onSubmit={submit}>
      <label for="search-input">Transaction id, block height or account</label>
      <div class="search-row">
        <input id="search-input" type="search" value={query} onInput={(event) => setQuery((event.target as HTMLInputElement).value)} autoComplete="off" spellcheck={false} />
        <button type="submit">Search</button>
      </div>
    </form>
  );
}

const NAV: Array<{ page: Route['page']; label: string; to: string }> = [
  { page: 'home', label: 'Ledger', to: href.home() },
  { page: 'blocks', label: 'Blocks', to: href.blocks() },
  { page: 'audit', label: 'Audit', to: href.audit() },
];

export function App() {
  const route = useRoute();
  const { view } = useLive();
  return (
    <>
      <a class="skip" href="#main" onClick={(event) => (event.preventDefault(), document.getElementById('page-title')?.focus())}>
        Skip to content
      </a>
      <header class="site">
        <div class="bar">
          <a class="brand" href={href.home()}>
            Chainlog explorer
          </a>
          <nav aria-label="Main">
            <ul>
              {NAV.map((item) => (
                <li key={item.page}>
                  <a href={item.to} aria-current={route.page === item.page ? 'page' : undefined}>
                    {item.label}
                  </a>
                </li>
              ))}
            </ul>
          </nav>
          <span class="head-badge" aria-live="off">
            {view === undefined || view.head.height < 0 ? '' : `height ${view.head.height}`}
          </span>
        </div>
        <Search />
      </header>
      <main id="main">
        <Page route={route} />
      </main>
      <footer class="site">
        Served by the auditor. Proofs, hashes and signatures are checked in this browser with the protocol's own code. The auditor's{' '}
        <a href="openapi.json">API</a>.
        {accessToken() !== undefined && (
          <>
            {' '}
            <button type="button" onClick={() => (forgetAccessToken(), location.reload())}>
              Forget the access token
            </button>
          </>
        )}
      </footer>
    </>
  );
}
