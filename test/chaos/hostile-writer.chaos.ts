// Hostile log writer (full): a permissioned stack (two miners signing with allowed keys) under a steady load,
// while someone with write access to the topics injects, with kcat, every kind of forged or corrupt block
// (three rounds, each built on the live tip so it breaks exactly one rule), a burst of junk, and poison on
// the transactions topic. Each forgery must be rejected for its reason by our own Chain, the auditor's
// /v1/audit and the audit topic alike; chainlog-verify must see them and the same head; the miners must keep
// mining without a restart; poison must be dead-lettered; and everything acknowledged committed exactly once.
import { afterAll, beforeAll, describe, it } from 'vitest';
import { chaosSeed, Outcomes, prng, Stack } from '../support/chaos.js';
import { recordResult } from '../support/chaos-report.js';
import { expectHostileWriterDefeated, hostileRejections, runHostileWriter } from '../support/chaos-hostile.js';
import { ledgerRow } from '../support/chaos-soak.js';
import { kafkaBrokers } from '../support/kafka.js';

const seed = chaosSeed();

describe('hostile log writer (full)', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = new Stack({ brokers: kafkaBrokers(), prefix: 'hostile', partitions: 2, miners: 2, difficulty: 4, permissioned: true });
    await stack.start();
  });

  afterAll(async () => {
    await stack?.dispose();
  });

  it(`rejects every forgery for its reason and dead-letters poison while the miners keep mining (seed ${seed})`, async () => {
    const started = Date.now();
    const outcomes = new Outcomes();
    const result = await runHostileWriter({ stack, outcomes, random: prng(seed), idPrefix: `hostile-${seed}`, rounds: 3, loadCount: 400, loadDurationMs: 45_000, flood: 300 });
    recordResult({
      scenario: 'hostile-writer',
      mode: 'full',
      seed,
      durationS: Math.round((Date.now() - started) / 1000),
      ledger: ledgerRow(result.figures),
      rejections: hostileRejections(result),
      notes: [
        `${result.injected.length} forgeries via ${result.via} (${result.attempts.length} writes: a kind whose tip moved on before it landed is rebuilt on the new tip), ${result.flood.written} junk messages in one burst (chain height ${result.flood.heightBefore} at the burst, ${result.flood.heightAfter} at the end), ${result.poisonCount} poison messages (dead-letter reasons: ${JSON.stringify(result.dlq.reasons)})`,
        `rejections by reason, auditor = independent reader: ${JSON.stringify(result.trackerRejections)}; chainlog-verify exit ${result.verify.code}, ${result.verify.report.rejected} rejected`,
      ],
    });
    expectHostileWriterDefeated(result, stack);
  });
});
