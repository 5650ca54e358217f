/** An account: balance and history, newest first, one page at a time. */
import { api } from '../api.js';
import { AccountLink, BlockLink, Loaded, PageTitle, Pager, Time, TransactionLink } from '../components.js';
import { amount, count } from '../format.js';
import { useLive } from '../live.js';
import { href } from '../router.js';
import { useAsync } from '../use-async.js';

export const HISTORY_PAGE = 20;

export function AccountPage({ id, from, limit = HISTORY_PAGE }: { id: string; from: number | undefined; limit: number | undefined }) {
  const { view } = useLive();
  const data = useAsync((signal) => api.account(id, from, limit, signal), [id, from, limit], from === undefined ? view?.head.hash : undefined);
  const size = limit === HISTORY_PAGE ? undefined : limit;
  return (
    <>
      <PageTitle text={`Account ${id}`}>
        Account <span class="id">{id}</span>
      </PageTitle>
      <Loaded data={data} what="the account">
        {(account) => {
          if (account === undefined) {
            return (
              <p class="status unknown" data-status="unknown" role="status">
                <strong>No transactions</strong>: no transaction of the canonical chain involves the account <span class="id">{id}</span>.
              </p>
            );
          }
          const newest = account.transactionCount - 1;
          const newer = account.from < newest ? href.account(id, account.from + limit >= newest ? undefined : account.from + limit, size) : undefined;
          const older = account.next === null ? undefined : href.account(id, account.next, size);
          return (
            <>
              <dl class="stats">
                <div>
                  <dt>Balance</dt>
                  <dd data-testid="balance">{amount(account.balance)}</dd>
                </div>
                <div>
                  <dt>Transactions</dt>
                  <dd>{count(account.transactionCount)}</dd>
                </div>
                <div>
                  <dt>Overdrafts</dt>
                  <dd>{account.overdrawn ? `${count(account.overdrafts)}, balance below zero now` : count(account.overdrafts)}</dd>
                </div>
              </dl>
              {id === '0' && <p class="notice">Account 0 is the mint: it sends every block reward, so its balance is minus the coins issued.</p>}
              <Pager newer={newer} older={older} label="History pages (top)" />
              <div class="scroll">
                <table>
                  <caption>
                    History, newest first: {count(account.history.length)} of {count(account.transactionCount)}
                  </caption>
                  <thead>
                    <tr>
                      <th scope="col">Transaction</th>
                      <th scope="col">Block</th>
                      <th scope="col">Direction</th>
                      <th scope="col">Counterparty</th>
                      <th scope="col" class="number">Amount</th>
                      <th scope="col">When</th>
                    </tr>
                  </thead>
                  <tbody>
                    {account.history.map((entry) => (
                      <tr key={entry.transactionId}>
                        <td>
                          <TransactionLink id={entry.transactionId} />
                        </td>
                        <td>
                          <BlockLink index={entry.blockIndex} />
                        </td>
                        <td>{entry.coinbase ? 'block reward' : entry.direction === 'credit' ? 'received' : entry.direction === 'debit' ? 'sent' : 'to itself'}</td>
                        <td>
                          <AccountLink id={entry.counterparty} />
                        </td>
                        <td class={`number ${entry.direction}`}>
                          {entry.direction === 'debit' ? '−' : entry.direction === 'credit' ? '+' : ''}
                          {amount(entry.amount)}
                        </td>
                        <td>
                          <Time ms={entry.timestamp} />
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
              <Pager newer={newer} older={older} label="History pages (bottom)" />
            </>
          );
        }}
      </Loaded>
    </>
  );
}
