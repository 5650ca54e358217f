/** The live head: height, tip, commit rate and per-partition commit lag, updated without a reload. */
import { BlockLink, Hash, Time } from '../components.js';
import { count, duration } from '../format.js';
import { useLive, type Connection } from '../live.js';

const CONNECTION_TEXT: Record<Connection, string> = {
  connecting: 'connecting…',
  live: 'live',
  polling: 'updating every few seconds',
  offline: 'auditor unreachable, retrying',
};

export function LivePanel() {
  const { view, connection } = useLive();
  return (
    <section class="live" aria-labelledby="live-title">
      <h2 id="live-title">
        Live head <span class={`connection ${connection}`}>{CONNECTION_TEXT[connection]}</span>
      </h2>
      {view === undefined ? (
        <p class="muted">Waiting for the auditor…</p>
      ) : (
        <>
          <dl class="stats">
            <div>
              <dt>Height</dt>
              <dd data-testid="head-height">{view.head.height < 0 ? 'no blocks yet' : <BlockLink index={view.head.height} />}</dd>
            </div>
            <div>
              <dt>Tip hash</dt>
              <dd>
                <Hash value={view.head.hash} />
              </dd>
            </div>
            <div>
              <dt>Last block</dt>
              <dd>
                <Time ms={view.head.timestamp} />
              </dd>
            </div>
            <div>
              <dt>Commit rate</dt>
              <dd>
                {view.commitRate.transactionsPerSecond} tx/s · {view.commitRate.blocksPerMinute} blocks/min
                <span class="muted"> (last {view.commitRate.windowSeconds} s)</span>
              </dd>
            </div>
            <div>
              <dt>Transactions committed</dt>
              <dd>{count(view.head.transactionCount)}</dd>
            </div>
            <div>
              <dt>Rejected messages</dt>
              <dd>{count(view.rejectedTotal)}</dd>
            </div>
          </dl>
          {!view.head.caughtUp && <p class="notice">The auditor is still catching up with the blockchain topic.</p>}
          <table class="lag">
            <caption>Pending transactions per partition</caption>
            <thead>
              <tr>
                <th scope="col">Partition</th>
                <th scope="col">Pending</th>
                <th scope="col">Oldest pending</th>
              </tr>
            </thead>
            <tbody>
              {view.commitLag.length === 0 ? (
                <tr>
                  <td colSpan={3} class="muted">
                    No partition seen yet
                  </td>
                </tr>
              ) : (
                view.commitLag.map((lag) => (
                  <tr key={lag.partition}>
                    <td>{lag.partition}</td>
                    <td>{count(lag.pending)}</td>
                    <td>{lag.pending === 0 ? '—' : duration(lag.oldestAgeSeconds)}</td>
                  </tr>
                ))
              )}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}
