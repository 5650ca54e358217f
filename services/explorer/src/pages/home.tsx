/** The front page: the live head and the latest blocks, both updating as blocks arrive. */
import { api } from '../api.js';
import { Loaded, PageTitle } from '../components.js';
import { useLive } from '../live.js';
import { href } from '../router.js';
import { useAsync } from '../use-async.js';
import { BlocksTable } from './blocks.js';
import { LivePanel } from './live-panel.js';

const LATEST = 10;

export function Home() {
  const { view } = useLive();
  const latest = useAsync((signal) => api.blocks(undefined, LATEST, signal), [], view?.head.hash);
  return (
    <>
      <PageTitle text="Ledger">Ledger</PageTitle>
      <p class="lead">
        Every block, transaction and proof of this Chainlog ledger, checked in your browser: inclusion proofs, block hashes, proof of work
        and signatures are recomputed here, not taken on trust.
      </p>
      <LivePanel />
      <section aria-labelledby="latest-title">
        <h2 id="latest-title">Latest blocks</h2>
        <Loaded data={latest} what="the latest blocks">
          {(page) => (page.blocks.length === 0 ? <p>No blocks yet.</p> : <BlocksTable page={page} caption={`The ${page.blocks.length} newest blocks`} />)}
        </Loaded>
        <p>
          <a href={href.blocks()}>All blocks →</a>
        </p>
      </section>
    </>
  );
}
