// Shared by the deployment suites (test/compose: docker compose; test/cluster: the chart on a local
// Kubernetes): transactions through ingest committed with proofs that verify, a record of what each scenario
// proved and how long it took, and the report table docs/running.md shows.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { signerFromSeed, signTransaction, transactionHash, verifyInclusionProof, type InclusionProof, type Signer, type Transaction } from '@chainlog/core/protocol';
import { sleep } from './chaos.js';
import { getJson } from './processes.js';

export interface CommittedStatus {
  status: 'committed';
  blockIndex: number;
  transaction: Transaction;
  proof: InclusionProof;
  merkleRoot: string;
}

export interface Accepted {
  id: string;
  partition: number;
}

/** The deployment suites' client key: the chart and Compose require signed transactions by default. */
export const CLIENT_SIGNER: Signer = signerFromSeed(Buffer.alloc(32, 0x2a));

/** POSTs transactions (a batch when more than one), each signed with `signer`, and returns what ingest acknowledged. */
export async function send(ingestUrl: string, unsigned: { id: string; from: string; to: string; amount: number }[], signer: Signer = CLIENT_SIGNER): Promise<Accepted[]> {
  const transactions = unsigned.map((transaction) => signTransaction({ ...transaction, timestamp: Date.now() }, signer));
  const single = transactions.length === 1;
  const response = await fetch(`${ingestUrl}/v1/transactions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(single ? transactions[0] : transactions),
    signal: AbortSignal.timeout(20_000),
  });
  const body = (await response.json()) as Accepted | { transactions: Accepted[] };
  if (response.status !== 202) throw new Error(`ingest answered ${response.status}: ${JSON.stringify(body)}`);
  return 'transactions' in body ? body.transactions : [body];
}

/** Waits until the auditor reports the transaction committed, then checks its inclusion proof locally. */
export async function committedWithProof(auditorUrl: string, id: string, timeoutMs = 120_000): Promise<CommittedStatus> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  for (;;) {
    try {
      const { status, body } = await getJson<CommittedStatus | { status: string }>(`${auditorUrl}/v1/transactions/${encodeURIComponent(id)}`);
      if (status === 200 && body.status === 'committed') {
        const committed = body as CommittedStatus;
        const leaf = transactionHash(committed.transaction).toString('hex');
        if (!verifyInclusionProof(leaf, committed.proof, committed.merkleRoot)) throw new Error(`the inclusion proof of ${id} does not verify`);
        return committed;
      }
      last = `${status} ${JSON.stringify(body)}`;
    } catch (error) {
      if ((error as Error).message.includes('does not verify')) throw error;
      last = (error as Error).message;
    }
    if (Date.now() > deadline) throw new Error(`${id} not committed within ${timeoutMs} ms (last: ${last})`);
    await sleep(500);
  }
}

export interface ScenarioRecord {
  scenario: string;
  passed: boolean;
  seconds: number;
  figures: string;
}

/** What each scenario proved, with its wall time; printed (and written to a file) when the suite ends. */
export class DeployReport {
  readonly rows: ScenarioRecord[] = [];

  constructor(readonly title: string) {}

  /** Runs a scenario, timing it; `figures` may be filled in by the scenario (e.g. lost/duplicated). */
  async scenario<T>(name: string, body: (figures: string[]) => Promise<T>): Promise<T> {
    const begin = Date.now();
    const figures: string[] = [];
    try {
      const result = await body(figures);
      this.rows.push({ scenario: name, passed: true, seconds: (Date.now() - begin) / 1000, figures: figures.join('; ') });
      return result;
    } catch (error) {
      figures.push(`FAILED: ${(error as Error).message.split('\n')[0]}`);
      this.rows.push({ scenario: name, passed: false, seconds: (Date.now() - begin) / 1000, figures: figures.join('; ') });
      throw error;
    }
  }

  markdown(): string {
    const lines = [`${this.title}`, '', '| scenario | result | time | figures |', '| --- | --- | --- | --- |'];
    for (const row of this.rows) lines.push(`| ${row.scenario} | ${row.passed ? 'passed' : 'FAILED'} | ${row.seconds.toFixed(1)} s | ${row.figures} |`);
    return lines.join('\n');
  }

  /** Prints the table; also writes it to `file` when given (e.g. COMPOSE_REPORT). */
  print(file: string | undefined): void {
    const text = this.markdown();
    console.log(`\n${text}\n`);
    if (file) {
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, `${text}\n`);
    }
  }
}
