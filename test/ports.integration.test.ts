// scripts/lib/ports.ts across processes: several processes allocating from one registry at the same time
// (as vitest's workers and the children they start do) never get the same port.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const work = mkdtempSync(join(tmpdir(), 'chainlog-ports-it-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('allocatePort in concurrent processes', () => {
  it('hands each port to exactly one process', async () => {
    const registry = join(work, 'registry');
    const script = join(work, 'allocate.mts');
    const ports = pathToFileURL(join(import.meta.dirname, '../scripts/lib/ports.ts')).href;
    writeFileSync(
      script,
      `import { allocatePort, allocatePorts } from ${JSON.stringify(ports)};
const got = await Promise.all([
  ...Array.from({ length: 60 }, () => allocatePort({ registry: ${JSON.stringify(registry)} })),
  ...Array.from({ length: 10 }, () => allocatePorts(2, { registry: ${JSON.stringify(registry)}, consecutive: true })),
]);
console.log(JSON.stringify(got.flat()));
// Stay alive until every process has allocated: a claim lapses with its process.
await new Promise((resolve) => setTimeout(resolve, 3000));
`,
    );
    const outputs = await Promise.all(Array.from({ length: 4 }, () => run(process.execPath, ['--import', 'tsx', script], { timeout: 60_000 })));
    const all = outputs.flatMap(({ stdout }) => JSON.parse(stdout) as number[]);
    expect(all).toHaveLength(4 * 80);
    expect(new Set(all).size).toBe(all.length);
  });
});
