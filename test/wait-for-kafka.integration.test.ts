// Services started before their Kafka (a fresh install, a broker restarting): they wait with backoff, not
// ready meanwhile, instead of exiting; once the broker is up they start, and the two miners of a fresh ledger
// leave one genesis block (or an identical second copy that no reader warns about).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GENESIS_HASH } from '@chainlog/core/protocol';
import { startBroker, type RunningBroker } from '../scripts/lib/kafka-broker.js';
import { allocatePort } from '../scripts/lib/ports.js';
import { readAll, sleep } from './support/chaos.js';
import { getJson, ServiceProcess, waitForHttp } from './support/processes.js';

describe('services started before Kafka', () => {
  const processes: ServiceProcess[] = [];
  let broker: RunningBroker | undefined;
  const dataDir = mkdtempSync(join(tmpdir(), 'chainlog-late-kafka-'));

  afterAll(async () => {
    await Promise.allSettled(processes.map((p) => p.dispose()));
    await broker?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('wait with backoff, then start; a fresh ledger gets its genesis block without a rejection warning', async () => {
    const port = await allocatePort();
    const controllerPort = await allocatePort();
    const httpPorts = { auditor: await allocatePort(), miners: [await allocatePort(), await allocatePort()] };
    const common = { KAFKA_BROKERS: `127.0.0.1:${port}`, KAFKA_CONNECTION_TIMEOUT_MS: '1000', DIFFICULTY: '4', KAFKAJS_NO_PARTITIONER_WARNING: '1' };
    const auditor = new ServiceProcess('auditor', 'auditor', { ...common, HTTP_PORT: String(httpPorts.auditor) });
    const miners = httpPorts.miners.map(
      (httpPort, ordinal) =>
        new ServiceProcess(`miner-${ordinal}`, 'miner', {
          ...common,
          HTTP_PORT: String(httpPort),
          MINER_ORDINAL: String(ordinal),
          MINER_REPLICAS: '2',
          MINER_ID: `late-miner-${ordinal}`,
          TRANSACTIONS_PARTITIONS: '2',
        }),
    );
    processes.push(auditor, ...miners);
    for (const p of processes) p.start();

    for (const p of processes) await p.waitForLog((line) => line.msg === 'Kafka is not reachable yet; waiting for it', 60_000, `${p.name} waiting for Kafka`);
    await sleep(3000);
    for (const p of processes) expect(p.alive, `${p.name} exited while Kafka was down:\n${p.tail()}`).toBe(true);
    expect((await getJson(`http://127.0.0.1:${httpPorts.auditor}/readyz`)).status).toBe(503);

    broker = await startBroker({ dataDir, port, controllerPort, heapMb: 256 });
    await Promise.all([
      waitForHttp(`http://127.0.0.1:${httpPorts.auditor}/readyz`, { process: auditor, timeoutMs: 180_000 }),
      ...miners.map((miner, i) => waitForHttp(`http://127.0.0.1:${httpPorts.miners[i]}/readyz`, { process: miner, timeoutMs: 180_000 })),
    ]);
    for (const p of processes) expect(p.unexpectedExits, p.name).toBe(0);

    const blocks = await readAll(broker.brokers, 'blockchain');
    const genesisCopies = blocks.filter((message) => message.value?.toString().includes(`"hash":"${GENESIS_HASH}"`)).length;
    // Miner 1 waits for miner 0's genesis before publishing its own: normally one copy; two only if miner 0 was late.
    expect(genesisCopies).toBeGreaterThanOrEqual(1);
    expect(genesisCopies).toBeLessThanOrEqual(2);
    const { body: head } = await getJson<{ height: number; hash: string }>(`http://127.0.0.1:${httpPorts.auditor}/v1/chain/head`);
    expect(head.hash).toBe(GENESIS_HASH);
    const rejectionWarnings = auditor.logs.filter((line) => line.msg === 'block rejected');
    expect(rejectionWarnings).toEqual([]);
  }, 300_000);
});
