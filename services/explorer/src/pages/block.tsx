/** One block: header, proof of work, miner and signature, source ranges, transactions, all checked here. */
import { useState } from 'preact/hooks';
import { auditorPaths } from '@chainlog/core/api';
import { api, apiUrl, type BlockResponse } from '../api.js';
import { AccountLink, BlockLink, Field, Hash, Loaded, PageTitle, Time, TransactionLink, Verification } from '../components.js';
import { amount, count, isoTime } from '../format.js';
import { useLive } from '../live.js';
import { useAsync } from '../use-async.js';
import { loadChecks } from '../verify/outcome.js';

/** Transactions listed before "show all": a block can hold many thousands. */
const SHOWN = 100;

export function BlockPage({ index }: { index: number }) {
  const { view } = useLive();
  const height = view?.head.height ?? -1;
  // A block not mined yet may appear while the page is open: retry when the head moves until it does.
  const data = useAsync((signal) => api.block(index, signal), [index], height < index ? view?.head.hash : undefined);
  return (
    <>
      <PageTitle text={`Block ${index}`}>Block #{index}</PageTitle>
      <nav class="pager" aria-label="Neighbouring blocks">
        {index > 0 ? <a href={`#/block/${index - 1}`}>← Block {index - 1}</a> : <span aria-disabled="true">← Previous</span>}
        {index < height ? <a href={`#/block/${index + 1}`}>Block {index + 1} →</a> : <span aria-disabled="true">Next →</span>}
      </nav>
      <Loaded data={data} what={`block ${index}`}>
        {(response) => <BlockDetails response={response} confirmations={height >= index ? height - index + 1 : response.confirmations} />}
      </Loaded>
    </>
  );
}

function BlockDetails({ response, confirmations }: { response: BlockResponse; confirmations: number }) {
  const { block } = response;
  const checks = useAsync(
    async (signal) => {
      const [{ checkBlock }, previous] = await Promise.all([loadChecks(), block.index > 0 ? api.header(block.index - 1, signal) : undefined]);
      return checkBlock(block, previous?.header);
    },
    [block.hash],
  );
  const [showAll, setShowAll] = useState(false);
  const shown = showAll ? block.transactions : block.transactions.slice(0, SHOWN);
  return (
    <>
      <Verification checks={checks} label={`block ${block.index}`} />
      <section aria-labelledby="header-title">
        <h2 id="header-title">Header</h2>
        <dl class="fields">
          <Field name="Hash">
            <Hash value={block.hash} full />
          </Field>
          <Field name="Previous hash">
            {block.index === 0 ? <Hash value={block.previousHash} full /> : <a href={`#/block/${block.index - 1}`}><Hash value={block.previousHash} full /></a>}
          </Field>
          <Field name="Merkle root">
            <Hash value={block.merkleRoot} full />
          </Field>
          <Field name="Mined">
            <Time ms={block.timestamp} /> <span class="muted">({isoTime(block.timestamp)})</span>
          </Field>
          <Field name="Confirmations">{count(confirmations)}</Field>
          <Field name="Proof of work">
            difficulty {block.difficulty} leading zero bits (the check above counts the hash's); nonce {count(block.nonce)}
          </Field>
          <Field name="Miner">
            <AccountLink id={block.miner} />
          </Field>
          <Field name="Miner key">{block.minerPublicKey === undefined ? 'unsigned block (open mode)' : <Hash value={block.minerPublicKey} full />}</Field>
          {block.signature !== undefined && (
            <Field name="Signature">
              <Hash value={block.signature} full />
            </Field>
          )}
          <Field name="Blockchain offset">{count(response.offset)}</Field>
        </dl>
      </section>
      <section aria-labelledby="sources-title">
        <h2 id="sources-title">Source ranges</h2>
        {block.sources.length === 0 ? (
          <p>This block consumed no transactions-topic messages.</p>
        ) : (
          <div class="scroll">
            <table>
              <caption>Offsets of the transactions topic this block consumed</caption>
              <thead>
                <tr>
                  <th scope="col">Topic</th>
                  <th scope="col">Partition</th>
                  <th scope="col" class="number">First offset</th>
                  <th scope="col" class="number">Last offset</th>
                  <th scope="col">Skipped records (offset: reason)</th>
                </tr>
              </thead>
              <tbody>
                {block.sources.map((source) => (
                  <tr key={`${source.topic}:${source.partition}`}>
                    <td>{source.topic}</td>
                    <td>{source.partition}</td>
                    <td class="number">{count(source.firstOffset)}</td>
                    <td class="number">{count(source.lastOffset)}</td>
                    <td>{source.skipped === undefined || source.skipped.length === 0 ? 'none' : source.skipped.map(({ offset, reason }) => `${offset}: ${reason}`).join(', ')}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      <section aria-labelledby="transactions-title">
        <h2 id="transactions-title">Transactions ({count(block.transactions.length)})</h2>
        <div class="scroll">
          <table>
            <caption>Transactions in Merkle leaf order</caption>
            <thead>
              <tr>
                <th scope="col" class="number">Leaf</th>
                <th scope="col">Id</th>
                <th scope="col">From</th>
                <th scope="col">To</th>
                <th scope="col" class="number">Amount</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((transaction, leaf) => (
                <tr key={transaction.id}>
                  <td class="number">{leaf}</td>
                  <td>
                    <TransactionLink id={transaction.id} />
                  </td>
                  <td>
                    <AccountLink id={transaction.from} />
                  </td>
                  <td>
                    <AccountLink id={transaction.to} />
                  </td>
                  <td class="number">{amount(transaction.amount)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        {shown.length < block.transactions.length && (
          <button type="button" onClick={() => setShowAll(true)}>
            Show all {count(block.transactions.length)} transactions
          </button>
        )}
      </section>
      <p>
        <BlockLink index={block.index} /> · <a href={apiUrl(auditorPaths.block(block.index))}>this block as JSON</a>
      </p>
    </>
  );
}
