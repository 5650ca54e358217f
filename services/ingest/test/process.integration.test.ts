// The real service process, started the way a container starts it (but from the TypeScript sources):
// main.ts wiring, exit code 2 for bad configuration, and a clean exit 0 on SIGTERM.
import { ensureTopics } from '@chainlog/core/kafka';
import { afterEach, describe, expect, it } from 'vitest';
import { allocatePort } from '../../../scripts/lib/ports.js';
import { kafkaBrokers, testKafka, uniqueTopic } from '../../../test/support/kafka.js';
import { runToExit, ServiceProcess } from '../../../test/support/processes.js';
import { idFromKey } from '../src/domain/ids.js';
import { post } from './helpers.js';

const started: ServiceProcess[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((running) => running.dispose()));
});

describe('the ingest process', () => {
  it('exits with code 2 and one message naming every bad variable', async () => {
    const result = await runToExit('ingest', { MAX_BATCH_SIZE: 'many', HTTP_PORT: '-1', AUDITOR_PUBLIC_URL: 'nope' });
    expect({ code: result.code, signal: result.signal }).toEqual({ code: 2, signal: null });
    const output = result.output;
    expect(output).toContain('invalid configuration');
    for (const name of ['MAX_BATCH_SIZE', 'HTTP_PORT', 'AUDITOR_PUBLIC_URL']) expect(output).toContain(name);
  });

  it('accepts a transaction and exits 0 on SIGTERM after flushing', async () => {
    const topic = uniqueTopic('ingest-process');
    const admin = testKafka().admin();
    await admin.connect();
    await ensureTopics(admin, [{ topic, partitions: 2 }]);
    await admin.disconnect();

    const ingest = new ServiceProcess('ingest', 'ingest', { KAFKA_BROKERS: kafkaBrokers(), TOPIC_TRANSACTIONS: topic, HTTP_PORT: String(await allocatePort()) }).start();
    started.push(ingest);
    await ingest.ready(60_000);
    const url = ingest.url;

    const reply = await post(url, { from: 'alice', to: 'bob', amount: 3 }, { 'Idempotency-Key': 'process-test' });
    expect(reply.status).toBe(202);
    const id = idFromKey('process-test', undefined, 'alice');
    expect(reply.body).toMatchObject({ id, statusUrl: `http://localhost:8082/v1/transactions/${id}` });

    expect(await ingest.stop()).toEqual({ code: 0, signal: null });
    const logs = ingest.logs;
    expect(logs.filter((line) => line.level === 'raw'), 'every line is pino JSON').toEqual([]);
    expect(logs.map((line) => line.msg)).toEqual(expect.arrayContaining(['ingest listening', 'transactions accepted', 'shutting down', 'ingest stopped']));
    expect(logs.filter((line) => line.level === 'error' || line.level === 'fatal')).toEqual([]);
  }, 90_000);
});
