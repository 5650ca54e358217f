/** The audit view: rejected blocks with their reasons, forks, source-coverage anomalies, commit lag and overdrafts. */
import { api, type AuditResponse } from '../api.js';
import { AccountLink, BlockLink, Hash, Loaded, PageTitle, TransactionLink } from '../components.js';
import { amount, count, duration } from '../format.js';
import { useLive } from '../live.js';
import { useAsync } from '../use-async.js';

const RECENT = 50;

export function AuditPage() {
  const { view } = useLive();
  const data = useAsync((signal) => api.audit(RECENT, signal), [], view?.at);
  return (
    <>
      <PageTitle text="Audit">Audit</PageTitle>
      <Loaded data={data} what="the audit report">
        {(report) => {
          const reasons = Object.entries(report.rejected.byReason).filter(([, total]) => total > 0);
          return (
            <>
              <dl class="stats">
                <div>
                  <dt>Rejected messages</dt>
                  <dd data-testid="rejected-total">{count(report.rejected.total)}</dd>
                </div>
                <div>
                  <dt>Lost races and replays</dt>
                  <dd>{count(report.forks.total)}</dd>
                </div>
                <div>
                  <dt>Coverage anomalies</dt>
                  <dd data-testid="anomalies-total">{count(report.anomalies.total)}</dd>
                </div>
                <div>
                  <dt>Overdrafts</dt>
                  <dd>{count(report.overdrafts.total)}</dd>
                </div>
                <div>
                  <dt>Accounts below zero</dt>
                  <dd>{count(report.overdrafts.overdrawnAccountCount)}</dd>
                </div>
              </dl>
              <section aria-labelledby="reasons-title">
                <h2 id="reasons-title">Rejections by reason</h2>
                {reasons.length === 0 ? (
                  <p>No message of the blockchain topic was rejected.</p>
                ) : (
                  <ul>
                    {reasons.map(([reason, total]) => (
                      <li key={reason}>
                        <code>{reason}</code>: {count(total)}
                      </li>
                    ))}
                  </ul>
                )}
              </section>
              <section aria-labelledby="rejected-title">
                <h2 id="rejected-title">Recent rejections</h2>
                {report.rejected.recent.length === 0 ? (
                  <p>None.</p>
                ) : (
                  <div class="scroll">
                    <table>
                      <caption>The {report.rejected.recent.length} most recent rejected messages, newest first</caption>
                      <thead>
                        <tr>
                          <th scope="col" class="number">Offset</th>
                          <th scope="col">Reason</th>
                          <th scope="col">Claimed block</th>
                          <th scope="col">Claimed miner</th>
                          <th scope="col">Detail</th>
                        </tr>
                      </thead>
                      <tbody>
                        {report.rejected.recent.map((rejection) => (
                          <tr key={rejection.offset}>
                            <td class="number">{count(rejection.offset)}</td>
                            <td>
                              <code>{rejection.reason}</code>
                            </td>
                            <td>{rejection.claimedIndex === null ? '—' : `#${rejection.claimedIndex}`}</td>
                            <td>{rejection.claimedMiner ?? '—'}</td>
                            <td class="detail">
                              {rejection.detail}
                              {rejection.canonicalHashAtIndex !== null && (
                                <>
                                  {' '}
                                  (canonical: <Hash value={rejection.canonicalHashAtIndex} />)
                                </>
                              )}
                            </td>
                          </tr>
                        ))}
                      </tbody>
                    </table>
                  </div>
                )}
              </section>
              <Anomalies anomalies={report.anomalies} />
              <section aria-labelledby="lag-title">
                <h2 id="lag-title">Commit lag</h2>
                <div class="scroll">
                  <table>
                    <caption>Pending transactions per partition of the transactions topic</caption>
                    <thead>
                      <tr>
                        <th scope="col">Partition</th>
                        <th scope="col" class="number">Pending</th>
                        <th scope="col">Oldest pending</th>
                      </tr>
                    </thead>
                    <tbody>
                      {report.commitLag.map((lag) => (
                        <tr key={lag.partition}>
                          <td>{lag.partition}</td>
                          <td class="number">{count(lag.pending)}</td>
                          <td>{lag.pending === 0 ? '—' : duration(lag.oldestAgeSeconds)}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              </section>
              <section aria-labelledby="overdrafts-title">
                <h2 id="overdrafts-title">Overdrafts</h2>
                {report.overdrafts.recent.length === 0 ? (
                  <p>No transaction spent more than its sender held.</p>
                ) : (
                  <div class="scroll">
                    <table>
                      <caption>The most recent transactions that overdrew their sender</caption>
                      <thead>
                        <tr>
                          <th scope="col">Account</th>
                          <th scope="col">Transaction</th>
                          <th scope="col">Block</th>
                          <th scope="col" class="number">Amount</th>
                          <th scope="col" class="number">Balance after</th>
                        </tr>
                      </thead>
                      <tbody>
                        {report.overdrafts.recent.map((overdraft) => (
                          <tr key={overdraft.transactionId}>
                            <td>
                              <AccountLink id={overdraft.account} />
                            </td>
                            <td>
                              <TransactionLink id={overdraft.transactionId} />
                            </td>
                            <td>
                              <BlockLink index={overdraft.blockIndex} />
                            </td>
                            <td class="number">{amount(overdraft.amount)}</td>
                            <td class="number">{amount(overdraft.balanceAfter)}</td>
                          </tr>
                        ))}
                      </tbody>
                    </table>
                  </div>
                )}
              </section>
            </>
          );
        }}
      </Loaded>
    </>
  );
}

/**
 * Blocks that claim transactions-topic offsets past a partition's end: every reader waits on such a block, so
 * the chain stops there until records exist. (A block whose ranges contradict the records that exist is
 * rejected instead, listed above as bad-source-coverage.)
 */
function Anomalies({ anomalies }: { anomalies: AuditResponse['anomalies'] }) {
  return (
    <section aria-labelledby="anomalies-title">
      <h2 id="anomalies-title">Source-coverage anomalies</h2>
      {anomalies.recent.length === 0 ? (
        <p>No block claimed transactions past the end of a partition.</p>
      ) : (
        <>
          <p class="notice" role="status">
            A block claims transactions that do not exist on the transactions topic: no honest miner writes one, and every reader waits on it.
          </p>
          <div class="scroll">
            <table>
              <caption>The {anomalies.recent.length} most recent blocks that claim offsets past a partition&apos;s end, newest first</caption>
              <thead>
                <tr>
                  <th scope="col" class="number">Offset</th>
                  <th scope="col">Claimed block</th>
                  <th scope="col">Claimed miner</th>
                  <th scope="col">Partition</th>
                  <th scope="col" class="number">Claimed through</th>
                  <th scope="col">Detail</th>
                </tr>
              </thead>
              <tbody>
                {anomalies.recent.map((anomaly) => (
                  <tr key={anomaly.offset}>
                    <td class="number">{count(anomaly.offset)}</td>
                    <td>#{anomaly.claimedIndex}</td>
                    <td>{anomaly.claimedMiner}</td>
                    <td>{anomaly.partition}</td>
                    <td class="number">{count(anomaly.claimedThrough)}</td>
                    <td class="detail">{anomaly.detail}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </section>
  );
}
