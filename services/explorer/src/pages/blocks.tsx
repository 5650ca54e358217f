/** The blocks list, newest first, one page at a time (each page is one bounded request). */
import { api, type BlockPage } from '../api.js';
import { AccountLink, BlockLink, Hash, Loaded, PageTitle, Pager, Time } from '../components.js';
import { count } from '../format.js';
import { useLive } from '../live.js';
import { href } from '../router.js';
import { useAsync } from '../use-async.js';

export const PAGE_SIZE = 20;

export function BlocksTable({ page, caption }: { page: BlockPage; caption: string }) {
  return (
    <div class="scroll">
      <table class="blocks">
        <caption>{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Block</th>
            <th scope="col">Hash</th>
            <th scope="col">Miner</th>
            <th scope="col" class="number">
              Transactions
            </th>
            <th scope="col">Mined</th>
          </tr>
        </thead>
        <tbody>
          {page.blocks.map((block) => (
            <tr key={block.index}>
              <td>
                <BlockLink index={block.index} />
              </td>
              <td>
                <Hash value={block.hash} />
              </td>
              <td>
                <AccountLink id={block.miner} />
              </td>
              <td class="number">{count(block.transactionCount)}</td>
              <td>
                <Time ms={block.timestamp} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function BlocksPageView({ from, limit = PAGE_SIZE }: { from: number | undefined; limit: number | undefined }) {
  const { view } = useLive();
  // The first page follows the head; a page further back stays put.
  const data = useAsync((signal) => api.blocks(from, limit, signal), [from, limit], from === undefined ? view?.head.hash : undefined);
  const size = limit === PAGE_SIZE ? undefined : limit;
  return (
    <>
      <PageTitle text="Blocks">Blocks</PageTitle>
      <Loaded data={data} what="blocks">
        {(page) => {
          if (page.blocks.length === 0) return <p>No blocks yet.</p>;
          const first = page.blocks[0]?.index ?? 0;
          const newer = first < page.height ? href.blocks(first + limit >= page.height ? undefined : first + limit, size) : undefined;
          const older = page.next === null ? undefined : href.blocks(page.next, size);
          const last = page.blocks[page.blocks.length - 1]?.index ?? 0;
          return (
            <>
              <Pager newer={newer} older={older} label="Block pages (top)" />
              <BlocksTable page={page} caption={`Blocks ${count(first)} to ${count(last)} of ${count(page.height + 1)}, newest first`} />
              <Pager newer={newer} older={older} label="Block pages (bottom)" />
            </>
          );
        }}
      </Loaded>
    </>
  );
}
