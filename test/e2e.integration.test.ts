// End to end through the real broker: a transaction posted to ingest is mined by the miners and
// becomes `committed` at the auditor, with an RFC 6962 inclusion proof that verifies locally.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeServer, listen } from '@chainlog/core/http';
import { createKafka, ensureTopics } from '@chainlog/core/kafka';
import { createLogger } from '@chainlog/core/logging';
import { createMetricsRegistry } from '@chainlog/core/metrics';
import { type InclusionProof, type Transaction, transactionHash, verifyInclusionProof } from '@chainlog/core/protocol';
import { readConfig as readAuditorConfig } from '../services/auditor/src/config.js';
import { AuditorService } from '../services/auditor/src/service.js';
import { readConfig as readIngestConfig } from '../services/ingest/src/config.js';
import { createIngestService, type IngestService } from '../services/ingest/src/service.js';
import { readConfig as readMinerConfig } from '../services/miner/src/config.js';
import { MinerService } from '../services/miner/src/service.js';
import { eventually, kafkaBrokers, testKafka, uniqueTopic } from './support/kafka.js';

const PARTITIONS = 2;
const logger = createLogger('e2e', 'silent');

interface CommittedStatus {
  status: 'committed';
  blockIndex: number;
  transaction: Transaction;
  proof: InclusionProof;
  merkleRoot: string;
}

describe('ingest -> miner -> auditor', () => {
  const topics = {
    TOPIC_TRANSACTIONS: uniqueTopic('e2e-tx'),
    TOPIC_BLOCKCHAIN: uniqueTopic('e2e-chain'),
    TOPIC_AUDIT: uniqueTopic('e2e-audit'),
    TOPIC_DEAD_LETTER: uniqueTopic('e2e-dlq'),
  };
  const env = { KAFKA_BROKERS: kafkaBrokers(), ...topics, DIFFICULTY: '6', BLOCK_REWARD: '50', HTTP_PORT: '0', LOG_LEVEL: 'silent' };
  const miners: MinerService[] = [];
  let auditor: AuditorService;
  let auditorServer: Server;
  let auditorUrl: string;
  let ingest: IngestService;
  let ingestServer: Server;
  let ingestUrl: string;

  beforeAll(async () => {
    const admin = testKafka().admin();
    await admin.connect();
    await ensureTopics(admin, [
      { topic: topics.TOPIC_TRANSACTIONS, partitions: PARTITIONS },
      { topic: topics.TOPIC_BLOCKCHAIN, partitions: 1 },
      { topic: topics.TOPIC_AUDIT, partitions: 1 },
      { topic: topics.TOPIC_DEAD_LETTER, partitions: 1 },
    ]);
    await admin.disconnect();

    auditor = new AuditorService(readAuditorConfig(env), logger);
    auditorServer = await listen(auditor.app, 0, '127.0.0.1');
    auditorUrl = `http://127.0.0.1:${(auditorServer.address() as AddressInfo).port}`;
    await auditor.start();

    const ingestConfig = readIngestConfig({ ...env, AUDITOR_PUBLIC_URL: auditorUrl });
    ingest = createIngestService({
      config: ingestConfig,
      logger,
      registry: createMetricsRegistry('ingest'),
      kafka: createKafka(ingestConfig.kafka, logger),
    });
    ingest.start();
    ingestServer = await listen(ingest.app, 0, '127.0.0.1');
    ingestUrl = `http://127.0.0.1:${(ingestServer.address() as AddressInfo).port}`;

    const group = uniqueTopic('e2e-miners');
    for (let ordinal = 0; ordinal < PARTITIONS; ordinal++) {
      const config = readMinerConfig({
        ...env,
        MINER_GROUP_ID: group,
        MINER_ORDINAL: String(ordinal),
        MINER_REPLICAS: String(PARTITIONS),
        MINER_ID: `e2e-miner-${ordinal}`,
        MAX_BLOCK_WAIT_MS: '200',
      });
      const miner = new MinerService({ config, logger, registry: createMetricsRegistry('miner'), kafka: createKafka(config.kafka, logger) });
      await miner.start();
      miners.push(miner);
    }
  });

  afterAll(async () => {
    await Promise.allSettled(miners.map((miner) => miner.stop()));
    ingest?.beginShutdown();
    if (ingestServer) await closeServer(ingestServer);
    await ingest?.stop();
    if (auditorServer) await closeServer(auditorServer);
    await auditor?.stop();
  });

  it('commits every acknowledged transaction exactly once, with proofs that verify', async () => {
    await eventually(async () => expect((await fetch(`${ingestUrl}/readyz`)).status).toBe(200), 30_000);
    const batch = Array.from({ length: 8 }, (_, i) => ({ id: `e2e-${i}`, from: `sender-${i % 4}`, to: 'shop', amount: i + 1 }));
    const response = await fetch(`${ingestUrl}/v1/transactions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(batch),
    });
    expect(response.status).toBe(202);
    const accepted = (await response.json()) as { transactions: { id: string; partition: number; statusUrl: string }[] };
    expect(accepted.transactions.map((tx) => tx.id)).toEqual(batch.map((tx) => tx.id));
    expect(new Set(accepted.transactions.map((tx) => tx.partition)).size).toBe(PARTITIONS);

    const statuses = await eventually(
      () =>
        Promise.all(
          accepted.transactions.map(async ({ statusUrl }) => {
            const status = (await (await fetch(statusUrl)).json()) as CommittedStatus;
            expect(status.status).toBe('committed');
            return status;
          }),
        ),
      60_000,
      250,
    );
    for (const status of statuses) {
      expect(verifyInclusionProof(transactionHash(status.transaction).toString('hex'), status.proof, status.merkleRoot)).toBe(true);
    }

    // Exactly once in the canonical chain, and nothing else but coinbases.
    const head = (await (await fetch(`${auditorUrl}/v1/chain/head`)).json()) as { height: number };
    const ids: string[] = [];
    for (let index = 1; index <= head.height; index++) {
      const { block } = (await (await fetch(`${auditorUrl}/v1/blocks/${index}`)).json()) as { block: { transactions: Transaction[] } };
      ids.push(...block.transactions.filter((tx) => tx.from !== '0').map((tx) => tx.id));
    }
    expect(ids.sort()).toEqual(batch.map((tx) => tx.id).sort());

    // Retrying the same ids is acknowledged again but never enters the chain twice.
    const retry = await fetch(`${ingestUrl}/v1/transactions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(batch.slice(0, 2)),
    });
    expect(retry.status).toBe(202);
    // Markers from the same senders land behind the retries in their partitions: once they are
    // committed, the miners have consumed (and skipped) the retried messages.
    const markers = [0, 1].map((i) => ({ id: `e2e-marker-${i}`, from: `sender-${i}`, to: 'shop', amount: 1 }));
    const markerResponse = (await (
      await fetch(`${ingestUrl}/v1/transactions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(markers) })
    ).json()) as { transactions: { statusUrl: string }[] };
    for (const { statusUrl } of markerResponse.transactions) {
      await eventually(async () => expect(((await (await fetch(statusUrl)).json()) as { status: string }).status).toBe('committed'), 60_000, 250);
    }
    const audit = (await (await fetch(`${auditorUrl}/v1/audit`)).json()) as { rejected: { byReason: Record<string, number> } };
    expect(audit.rejected.byReason['duplicate-transaction']).toBe(0);
    const afterRetry = (await (await fetch(`${auditorUrl}/v1/accounts/shop`)).json()) as { balance: number };
    expect(afterRetry.balance).toBe([...batch, ...markers].reduce((sum, tx) => sum + tx.amount, 0));
  });
});
