// The real service process, started the way a container starts it (but from the TypeScript sources):
// main.ts wiring, exit code 2 for bad configuration, and a clean exit 0 on SIGTERM.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ensureTopics } from '@chainlog/core/kafka';
import { afterEach, describe, expect, it } from 'vitest';
import { allocatePort } from '../../../scripts/lib/ports.js';
import { eventually, kafkaBrokers, testKafka, uniqueTopic } from '../../../test/support/kafka.js';
import { idFromKey } from '../src/domain/ids.js';
import { getJson, post } from './helpers.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const children: ChildProcess[] = [];

interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startProcess(env: Record<string, string>): Started {
  const child = spawn(process.execPath, ['--conditions=@chainlog/source', '--import', 'tsx', 'services/ingest/src/main.ts'], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, output: () => output, exited };
}

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

describe('the ingest process', () => {
  it('exits with code 2 and one message naming every bad variable', async () => {
    const started = startProcess({ MAX_BATCH_SIZE: 'many', HTTP_PORT: '-1', AUDITOR_PUBLIC_URL: 'nope' });
    expect(await started.exited).toEqual({ code: 2, signal: null });
    const output = started.output();
    expect(output).toContain('invalid configuration');
    for (const name of ['MAX_BATCH_SIZE', 'HTTP_PORT', 'AUDITOR_PUBLIC_URL']) expect(output).toContain(name);
  });

  it('accepts a transaction and exits 0 on SIGTERM after flushing', async () => {
    const topic = uniqueTopic('ingest-process');
    const admin = testKafka().admin();
    await admin.connect();
    await ensureTopics(admin, [{ topic, partitions: 2 }]);
    await admin.disconnect();

    const port = await allocatePort();
    const url = `http://127.0.0.1:${port}`;
    const started = startProcess({ KAFKA_BROKERS: kafkaBrokers(), TOPIC_TRANSACTIONS: topic, HTTP_PORT: String(port), LOG_LEVEL: 'info' });
    await eventually(async () => {
      if (started.child.exitCode !== null) throw new Error(`ingest exited early:\n${started.output()}`);
      expect((await getJson(`${url}/readyz`)).status).toBe(200);
    }, 60_000, 250);

    const reply = await post(url, { from: 'alice', to: 'bob', amount: 3 }, { 'Idempotency-Key': 'process-test' });
    expect(reply.status).toBe(202);
    const id = idFromKey('process-test', undefined, 'alice');
    expect(reply.body).toMatchObject({ id, statusUrl: `http://localhost:8082/v1/transactions/${id}` });

    started.child.kill('SIGTERM');
    expect(await started.exited).toEqual({ code: 0, signal: null });
    const logs = started.output().trim().split('\n').map((line) => JSON.parse(line) as { msg: string; level: string });
    expect(logs.map((line) => line.msg)).toEqual(expect.arrayContaining(['ingest listening', 'transactions accepted', 'shutting down', 'ingest stopped']));
    expect(logs.filter((line) => line.level === 'error' || line.level === 'fatal')).toEqual([]);
  }, 90_000);
});
