// The hostile log writer: someone with write access to the topics. On the blockchain topic: garbage,
// truncated JSON, replayed blocks, forged work, tampered transactions, double spends, a second coinbase, a
// fork at an old height, blocks signed by an unknown key or unsigned (permissioned mode) and more, each built
// on the live tip so that it breaks exactly one rule, injected WHILE the miners keep mining. On the
// transactions topic: poison messages. Every verdict is read three ways: our own Chain (ChainTracker), the
// auditor's /v1/audit and the audit topic.
import { auditorPaths, type AuditResponse } from '@chainlog/core/api';
import { type Block, coinbaseTransaction, encodeBlock, type RejectionReason, type Transaction } from '@chainlog/core/protocol';
import { forgeries } from '../../services/auditor/test/support/forgeries.js';
import { forge, mine, signedTransaction } from '../../services/auditor/test/support/chain-builder.js';
import { expect } from 'vitest';
import { getJson } from './processes.js';
import {
  ChainTracker,
  digestOf,
  generateLoad,
  idCounts,
  kcatAvailable,
  ledgerFigures,
  produceRaw,
  readAll,
  sleep,
  verifyTopic,
  waitForAgreement,
  type Outcomes,
  type Stack,
  type VerifyReportJson,
} from './chaos.js';

export interface Forgery {
  readonly name: string;
  readonly reason: RejectionReason;
  readonly bytes: Buffer;
}

/** Forgeries beyond the auditor tests' set: gap, bad timestamp, bad signature, sources, fork at an old height, double spends. */
function moreForgeries(tip: Block, blocks: readonly Block[], committed: Transaction, transactionsTopic: string, signaturesRequired: boolean): Forgery[] {
  const index = tip.index + 1;
  const signed = signedTransaction(`hostile-${index}`, 'mallory', 'trent', 9, tip.timestamp);
  const next = mine(tip, { transactions: [signed] });
  const [coinbase] = next.transactions as [Transaction, ...Transaction[]];
  const flipped = (next.signature as string).startsWith('0') ? `1${(next.signature as string).slice(1)}` : `0${(next.signature as string).slice(1)}`;
  // A valid, signed block at an old height, built on its real predecessor: it can only lose (stale).
  const height = Math.max(1, tip.index - 2);
  const parent = blocks[height - 1] as Block;
  const oldFork = mine(parent, { transactions: [signedTransaction(`old-fork-${tip.index}`, 'mallory', 'trent', 1, parent.timestamp)], timestamp: parent.timestamp + 1 });
  const unsigned: Transaction = { id: `unsigned-${index}`, from: 'mallory', to: 'trent', amount: 5, timestamp: tip.timestamp };
  return [
    ...(signaturesRequired
      ? [{ name: 'unsigned transaction (signatures required)', reason: 'bad-transaction' as const, bytes: encodeBlock(forge(next, { transactions: [coinbase, unsigned] })) }]
      : []),
    { name: 'gap (index far ahead)', reason: 'gap', bytes: encodeBlock(forge(next, { index: tip.index + 5 })) },
    { name: 'timestamp before the tip', reason: 'bad-timestamp', bytes: encodeBlock(forge(next, { timestamp: tip.timestamp - 1 })) },
    { name: 'signature does not verify', reason: 'bad-signature', bytes: encodeBlock({ ...next, signature: flipped }) },
    {
      name: 'source range not continuing the chain',
      reason: 'bad-source-range',
      bytes: encodeBlock(forge(next, { sources: [{ topic: transactionsTopic, partition: 0, firstOffset: 1_000_000, lastOffset: 1_000_001 }] })),
    },
    { name: 'fork at an old height', reason: 'stale', bytes: encodeBlock(oldFork) },
    { name: 'replayed tip', reason: 'stale', bytes: encodeBlock(tip) },
    { name: 'double spend: same id twice in a block', reason: 'duplicate-transaction', bytes: encodeBlock(forge(next, { transactions: [coinbase, signed, signed] })) },
    {
      name: 'double spend: committed id, other amount',
      reason: 'duplicate-transaction',
      bytes: encodeBlock(forge(next, { transactions: [coinbase, { ...committed, amount: committed.amount + 1 }] })),
    },
    {
      name: 'coinbase not first (a second one later)',
      reason: 'bad-transaction',
      bytes: encodeBlock(forge(next, { transactions: [coinbase, signed, coinbaseTransaction({ index, miner: 'mallory', timestamp: next.timestamp, reward: 50 })] })),
    },
  ];
}

function allForgeries(tracker: ChainTracker, transactionsTopic: string): Forgery[] {
  const signaturesRequired = tracker.chain.params.requireTransactionSignatures === true;
  const tip = tracker.tip;
  const committed = [...tracker.blocks].reverse().find((block) => block.transactions.length > 1)?.transactions[1];
  if (committed === undefined) throw new Error('the chain has no committed user transaction yet');
  const stale = tracker.blocks[1] as Block;
  return [...forgeries(tip, committed, stale), ...moreForgeries(tip, tracker.blocks, committed, transactionsTopic, signaturesRequired)];
}

export interface InjectedForgery {
  name: string;
  expected: RejectionReason;
  /** Every attempt's verdict (a non-stale forgery lands as stale when the chain moved meanwhile: retried). */
  attempts: { offset: number; accepted: boolean; reason?: string; digest: string }[];
  final?: string;
}

/** Injects every kind of forgery on the live tip, retrying a kind whose tip moved away before it landed. */
export async function injectForgeries(
  stack: Stack,
  tracker: ChainTracker,
  options: { attempts?: number; only?: (name: string) => boolean } = {},
): Promise<{ injected: InjectedForgery[]; via: 'kcat' | 'kafkajs' }> {
  const topic = stack.topics.TOPIC_BLOCKCHAIN;
  const kinds = allForgeries(tracker, stack.topics.TOPIC_TRANSACTIONS).filter((f) => options.only?.(f.name) ?? true);
  const injected: InjectedForgery[] = [];
  let via: 'kcat' | 'kafkajs' = kcatAvailable() ? 'kcat' : 'kafkajs';
  for (const kind of kinds) {
    const record: InjectedForgery = { name: kind.name, expected: kind.reason, attempts: [] };
    injected.push(record);
    for (let attempt = 0; attempt < (options.attempts ?? 10); attempt++) {
      // Built on the tip as it is now (the tip the list above was built on may have moved since).
      const builtOn = tracker.height;
      const forgery = allForgeries(tracker, stack.topics.TOPIC_TRANSACTIONS).find((f) => f.name === kind.name);
      if (forgery === undefined) throw new Error(`no forgery ${kind.name}`);
      const from = tracker.nextOffset;
      via = await produceRaw(stack.options.brokers, topic, 0, [forgery.bytes]);
      const verdict = await tracker.waitForBytes(forgery.bytes, from);
      record.attempts.push({ offset: verdict.offset, accepted: verdict.accepted, ...(verdict.reason ? { reason: verdict.reason } : {}), digest: verdict.digest });
      record.final = verdict.accepted ? 'ACCEPTED' : verdict.reason;
      // Done, unless the miners moved the tip between our reading it and the write landing (then a forgery
      // built for tip + 1 reads as stale, one built for tip + 5 as a fork, …): build it again on the new tip.
      if (verdict.accepted || verdict.reason === kind.reason || verdict.heightBefore === builtOn) break;
    }
  }
  return { injected, via };
}

export interface PoisonMessage {
  name: string;
  value: Buffer | null;
}

/** Poison for the transactions topic: none of these may stall a partition or crash a miner. */
export function poisonMessages(): PoisonMessage[] {
  const huge = 'x'.repeat(900_000);
  return [
    { name: 'garbage bytes', value: Buffer.from('c3a9ff00fe17deadbeef0badf00d', 'hex') },
    { name: 'invalid UTF-8', value: Buffer.from([0x7b, 0x22, 0x66, 0xff, 0xfe, 0x22, 0x7d]) },
    { name: 'truncated JSON', value: Buffer.from('{"from":"alice","to":"bo') },
    { name: 'JSON array', value: Buffer.from('[{"from":"alice","to":"bob","amount":3}]') },
    { name: 'negative amount', value: Buffer.from('{"from":"alice","to":"bob","amount":-1}') },
    { name: 'fractional amount', value: Buffer.from('{"from":"alice","to":"bob","amount":3.5}') },
    { name: 'from the mint', value: Buffer.from('{"from":"0","to":"mallory","amount":1000000}') },
    { name: 'reserved id', value: Buffer.from('{"id":"coinbase:1","from":"alice","to":"bob","amount":3}') },
    { name: 'unknown field', value: Buffer.from('{"from":"alice","to":"bob","amount":3,"memo":"hi"}') },
    { name: 'bad signature', value: Buffer.from(JSON.stringify({ ...signedTransaction('poison-sig', 'carol', 'dave', 7), amount: 8 })) },
    { name: 'huge string (900 KB)', value: Buffer.from(`{"from":"alice","to":"bob","amount":3,"id":"${huge}"}`) },
    { name: 'deep nesting (100k arrays)', value: Buffer.from('['.repeat(100_000) + ']'.repeat(100_000)) },
    { name: 'null value (tombstone)', value: null },
  ];
}

export interface PoisonResult {
  injected: number;
  deadLettered: string[];
  missing: string[];
  guards: string[];
  reasons: Record<string, string>;
}

/**
 * Writes the poison to every partition, each followed by a valid transaction with a known id (the guard):
 * a stalled partition would never commit its guard.
 */
export async function injectPoison(stack: Stack, label: string): Promise<{ poison: { partition: number; message: PoisonMessage }[]; guards: string[] }> {
  const topic = stack.topics.TOPIC_TRANSACTIONS;
  const poison: { partition: number; message: PoisonMessage }[] = [];
  const guards: string[] = [];
  for (let partition = 0; partition < stack.options.partitions; partition++) {
    const messages = poisonMessages();
    const values: (Buffer | null)[] = [];
    for (const message of messages) {
      poison.push({ partition, message });
      values.push(message.value);
      const id = `${label}-guard-${partition}-${guards.length}`;
      guards.push(id);
      values.push(Buffer.from(JSON.stringify({ id, from: `guard-${partition}`, to: 'shop', amount: 1 })));
    }
    // kcat cannot write a null value: the tombstones (and what follows them) go through kafkajs.
    const firstNull = values.indexOf(null);
    await produceRaw(stack.options.brokers, topic, partition, values.slice(0, firstNull));
    await produceRaw(stack.options.brokers, topic, partition, values.slice(firstNull), false);
  }
  return { poison, guards };
}

/** Which poison messages the dead-letter topic holds (matched by value and source partition). */
export async function deadLettered(stack: Stack, poison: { partition: number; message: PoisonMessage }[]): Promise<{ found: string[]; missing: string[]; reasons: Record<string, string> }> {
  const dlq = await readAll(stack.options.brokers, stack.topics.TOPIC_DEAD_LETTER);
  const found: string[] = [];
  const missing: string[] = [];
  const reasons: Record<string, string> = {};
  for (const { partition, message } of poison) {
    const digest = message.value === null ? undefined : digestOf(message.value);
    const hit = dlq.find(
      (m) =>
        m.headers['chainlog-source-partition'] === String(partition) &&
        (digest === undefined ? m.value === null || m.value.length === 0 : m.value !== null && digestOf(m.value) === digest),
    );
    const name = `${message.name} (p${partition})`;
    if (hit === undefined) missing.push(name);
    else {
      found.push(name);
      reasons[message.name] = hit.headers['chainlog-reason'] ?? '';
    }
  }
  return { found, missing, reasons };
}

export async function auditReport(auditorUrl: string): Promise<AuditResponse> {
  return (await getJson<AuditResponse>(`${auditorUrl}${auditorPaths.audit(1000)}`)).body;
}

export interface AuditEvent {
  id: string;
  offset: number;
  reason: string;
  fork: boolean;
}

export async function auditEvents(stack: Stack): Promise<AuditEvent[]> {
  return (await readAll(stack.options.brokers, stack.topics.TOPIC_AUDIT)).map((m) => JSON.parse((m.value as Buffer).toString()) as AuditEvent);
}

/** Steady background load for "while the miners keep mining". */
export function backgroundLoad(stack: Stack, outcomes: Outcomes, options: { count: number; durationMs: number; idPrefix: string; random: () => number }): Promise<number> {
  return generateLoad({
    ingestUrl: stack.ingestUrl,
    outcomes,
    count: options.count,
    durationMs: options.durationMs,
    concurrency: 2,
    idPrefix: options.idPrefix,
    random: options.random,
    invalidShare: 0,
    batchShare: 0.2,
    retries: 2,
    ratePerSecond: Math.max(1, options.count / 1.2 / (options.durationMs / 1000)),
  });
}

// ---------------------------------------------------------------------------------------------------
// The whole scenario, shared by the quick and the full run.

export interface HostileOptions {
  stack: Stack;
  outcomes: Outcomes;
  random: () => number;
  idPrefix: string;
  /** Each kind of forgery is injected this many times, spread over the load. */
  rounds: number;
  loadCount: number;
  loadDurationMs: number;
  /** Garbage messages written in one burst (0: none). */
  flood: number;
}

export interface HostileResult {
  injected: InjectedForgery[];
  via: 'kcat' | 'kafkajs';
  attempts: InjectedForgery['attempts'];
  canonicalOffsets: Set<number>;
  audit: AuditResponse;
  events: AuditEvent[];
  trackerRejections: Record<string, number>;
  dlq: { found: string[]; missing: string[]; reasons: Record<string, string> };
  poisonCount: number;
  guards: string[];
  guardCounts: number[];
  minerPids: { before: (number | undefined)[]; after: (number | undefined)[] };
  exits: { before: Record<string, number>; after: Record<string, number> };
  flood: { written: number; heightBefore: number; heightAfter: number; rejectedMalformed: number };
  figures: ReturnType<typeof ledgerFigures>;
  headsAgree: boolean;
  verify: { code: number | null; report: VerifyReportJson };
  tracker: ChainTracker;
}

export async function runHostileWriter(options: HostileOptions): Promise<HostileResult> {
  const { stack, outcomes } = options;
  const tracker = await ChainTracker.follow(stack.options.brokers, stack.topics.TOPIC_BLOCKCHAIN, stack.consensus);
  try {
    await tracker.catchUp();
    const minerPidsBefore = stack.miners.map((miner) => miner.pid);
    const exitsBefore = stack.unexpectedExits();
    const load = backgroundLoad(stack, outcomes, { count: options.loadCount, durationMs: options.loadDurationMs, idPrefix: options.idPrefix, random: options.random });
    // The forgeries need a few blocks to replay and fork from, and a committed transaction to double-spend.
    await tracker.until(() => tracker.height >= 3 && tracker.blocks.some((block) => block.transactions.length > 1), 90_000, 'a chain with transactions');
    const injected: InjectedForgery[] = [];
    let via: 'kcat' | 'kafkajs' = 'kafkajs';
    let poison: { partition: number; message: PoisonMessage }[] = [];
    let guards: string[] = [];
    const flood = { written: 0, heightBefore: tracker.height, heightAfter: tracker.height, rejectedMalformed: 0 };
    for (let round = 0; round < options.rounds; round++) {
      const result = await injectForgeries(stack, tracker);
      injected.push(...result.injected);
      via = result.via;
      if (round === 0) ({ poison, guards } = await injectPoison(stack, options.idPrefix));
      if (round === 0 && options.flood > 0) {
        // A burst of junk: the miners must keep extending the chain through it.
        flood.heightBefore = tracker.height;
        const from = tracker.nextOffset;
        const junk = Array.from({ length: options.flood }, (_, i) =>
          i % 3 === 0 ? Buffer.from(`garbage-${i}-${Math.floor(options.random() * 1e9)}`) : i % 3 === 1 ? Buffer.from(`{"index":${i},"truncated`) : Buffer.from([0xff, 0xfe, i % 256, 0x00]),
        );
        await produceRaw(stack.options.brokers, stack.topics.TOPIC_BLOCKCHAIN, 0, junk);
        flood.written = junk.length;
        await tracker.waitForBytes(junk[junk.length - 1] as Buffer, from);
        flood.rejectedMalformed = tracker.messages.filter((m) => m.offset >= from && !m.accepted && m.reason === 'malformed').length;
      }
      await sleep(Math.floor(options.loadDurationMs / (options.rounds + 1)));
    }
    await load;
    const mustCommit = [...outcomes.ids('acked'), ...guards];
    await tracker.until(() => mustCommit.every((id) => tracker.chain.hasTransaction(id)), 120_000, 'commit of the load and the guards').catch(() => undefined);
    flood.heightAfter = tracker.height;
    let headsAgree = true;
    try {
      await waitForAgreement(tracker, stack.auditorUrl, 60_000);
    } catch {
      headsAgree = false;
    }
    const attempts = injected.flatMap((f) => f.attempts);
    // The auditor and the independent reader must count the same rejections once both have read the same log.
    const trackerRejections: Record<string, number> = {};
    let audit = await auditReport(stack.auditorUrl);
    for (let i = 0; i < 30; i++) {
      await tracker.catchUp();
      for (const key of Object.keys(trackerRejections)) delete trackerRejections[key];
      for (const m of tracker.rejections()) trackerRejections[m.reason as string] = (trackerRejections[m.reason as string] ?? 0) + 1;
      audit = await auditReport(stack.auditorUrl);
      if (audit.rejected.total === tracker.rejections().length) break;
      await sleep(1000);
    }
    let events = await auditEvents(stack);
    for (let i = 0; i < 30 && !attempts.every((a) => events.some((e) => e.offset === a.offset)); i++) {
      await sleep(1000);
      events = await auditEvents(stack);
    }
    const dlq = await deadLettered(stack, poison);
    const counts = idCounts(tracker.blocks);
    const verify = await verifyTopic(stack.options.brokers, stack.topics.TOPIC_BLOCKCHAIN, stack);
    return {
      injected,
      via,
      attempts,
      canonicalOffsets: new Set(tracker.messages.filter((m) => m.accepted).map((m) => m.offset)),
      audit,
      events,
      trackerRejections,
      dlq,
      poisonCount: poison.length,
      guards,
      guardCounts: guards.map((id) => counts.get(id) ?? 0),
      minerPids: { before: minerPidsBefore, after: stack.miners.map((miner) => miner.pid) },
      exits: { before: exitsBefore, after: stack.unexpectedExits() },
      flood,
      figures: ledgerFigures(tracker.blocks, outcomes),
      headsAgree: headsAgree && verify.report.headHash === tracker.tip.hash,
      verify,
      tracker,
    };
  } finally {
    await tracker.stop();
  }
}

/** The hostile writer's acceptance criteria (quick and full). */
export function expectHostileWriterDefeated(result: HostileResult, stack: Stack): void {
  const context = JSON.stringify(result.injected.filter((f) => f.final !== f.expected), null, 1);
  // Each forgery got the reason it was built for (a kind whose tip moved on is rebuilt; never accepted).
  expect(result.injected.filter((f) => f.final !== f.expected).map((f) => `${f.name}: ${f.final} (expected ${f.expected})`), context).toEqual([]);
  expect(result.attempts.filter((a) => a.accepted || result.canonicalOffsets.has(a.offset))).toEqual([]);
  // The auditor reports each one with the same reason, in /v1/audit and on the audit topic.
  for (const attempt of result.attempts) {
    expect(result.audit.rejected.recent.find((r) => r.offset === attempt.offset)?.reason, `/v1/audit, offset ${attempt.offset}`).toBe(attempt.reason);
    const event = result.events.find((e) => e.id === `${stack.topics.TOPIC_BLOCKCHAIN}:${attempt.offset}`);
    expect(event?.reason, `audit event, offset ${attempt.offset}`).toBe(attempt.reason);
    expect(event?.fork, `audit event, offset ${attempt.offset}`).toBe(attempt.reason === 'stale' || attempt.reason === 'fork');
  }
  // The auditor and the independent reader count the same rejections, reason by reason.
  expect(Object.fromEntries(Object.entries(result.audit.rejected.byReason).filter(([, n]) => n > 0))).toEqual(result.trackerRejections);
  // chainlog-verify sees forgeries (exit 1) and the same head.
  expect(result.verify.code).toBe(1);
  expect(result.headsAgree).toBe(true);
  // Poison is dead-lettered, never stalls a partition (the guard behind each one is committed once).
  expect(result.dlq.missing).toEqual([]);
  expect(result.guardCounts.filter((n) => n !== 1)).toEqual([]);
  // Nobody crashed or restarted.
  expect(result.minerPids.after).toEqual(result.minerPids.before);
  expect(result.exits.after).toEqual(result.exits.before);
  // The canonical chain is unaffected: everything acknowledged committed exactly once.
  expect(result.figures.lostIds).toEqual([]);
  expect(result.figures.duplicatedIds).toEqual([]);
  if (result.flood.written > 0) {
    expect(result.flood.rejectedMalformed).toBe(result.flood.written);
    expect(result.flood.heightAfter).toBeGreaterThan(result.flood.heightBefore);
  }
}

export function hostileRejections(result: HostileResult): Record<string, number> {
  const byReason: Record<string, number> = {};
  for (const f of result.injected) byReason[f.expected] = (byReason[f.expected] ?? 0) + 1;
  if (result.flood.written > 0) byReason['malformed (flood)'] = result.flood.rejectedMalformed;
  byReason['poison dead-lettered'] = result.dlq.found.length;
  return byReason;
}
