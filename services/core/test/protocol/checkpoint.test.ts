import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  Chain,
  CHECKPOINT_FORMAT,
  createCheckpoint,
  encodeBlock,
  GENESIS_BLOCK,
  openCheckpoint,
  verifyCheckpoint,
  type Block,
  type ConsensusParams,
  type SourceRange,
  type Transaction,
} from '../../src/protocol/index.js';
import { canonicalBytes } from '../../src/protocol/encoding.js';
import { kcatTransaction, mine, minerA, minerB, outsider, range } from './fixtures.js';

const W = 60_000;
const T0 = 1_700_000_000_000;
const TOPIC_CHAIN = 'blockchain';
const params: ConsensusParams = { minDifficulty: 0, blockReward: 50, replayWindowMs: W };
const IDS = ['a', 'b', 'c', 'd', 'e', 'f'];

const payment = (id: string, timestamp: number): Transaction => ({ id, from: 'alice', to: 'bob', amount: 1, timestamp });

type Action =
  | { kind: 'extend'; advance: number; users: { id: string; skew: number }[]; derived: [number, number] }
  | { kind: 'fork' | 'stale' | 'gap-range' | 'early' };

const action: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('extend' as const),
      advance: fc.integer({ min: 0, max: W }),
      users: fc.array(fc.record({ id: fc.constantFrom(...IDS), skew: fc.integer({ min: -1.2 * W, max: 1.2 * W }) }), { maxLength: 3 }),
      derived: fc.tuple(fc.nat(2), fc.nat(2)),
    }),
  },
  { weight: 1, arbitrary: fc.constantFrom('fork', 'stale', 'gap-range', 'early').map((kind) => ({ kind }) as Action) },
);

/** The messages of a blockchain topic built from the actions: honest blocks, forks, stale copies, bad ranges. */
function buildLog(actions: readonly Action[]): Buffer[] {
  const builder = new Chain(params);
  const log: Buffer[] = [encodeBlock(GENESIS_BLOCK)];
  builder.apply(GENESIS_BLOCK);
  const accepted: Block[] = [GENESIS_BLOCK];
  const next = [0, 0];
  for (const step of actions) {
    const tip = builder.tipBlock as Block;
    let block: Block;
    if (step.kind === 'extend') {
      const timestamp = tip.timestamp === 0 ? T0 : tip.timestamp + step.advance;
      const derived: Transaction[] = [];
      const sources: SourceRange[] = [];
      step.derived.forEach((count, partition) => {
        if (count === 0) return;
        const first = next[partition] as number;
        for (let offset = first; offset < first + count; offset++) derived.push(kcatTransaction(partition, offset));
        sources.push(range(partition, first, first + count - 1));
      });
      const users = step.users.map(({ id, skew }) => payment(id, timestamp + skew));
      block = mine(tip, { difficulty: 0, timestamp, transactions: [...derived, ...users], sources });
    } else if (step.kind === 'fork') {
      block = mine({ ...tip, hash: 'f'.repeat(64) }, { difficulty: 0, timestamp: tip.timestamp + 1 });
    } else if (step.kind === 'stale') {
      block = accepted[Math.max(0, accepted.length - 2)] as Block;
    } else if (step.kind === 'gap-range') {
      block = mine(tip, { difficulty: 0, timestamp: tip.timestamp + 1, transactions: [kcatTransaction(0, (next[0] as number) + 1)], sources: [range(0, (next[0] as number) + 1, (next[0] as number) + 1)] });
    } else {
      block = mine(tip, { difficulty: 0, timestamp: Math.max(0, tip.timestamp - 1) });
    }
    log.push(encodeBlock(block));
    const result = builder.apply(block);
    if (result.accepted) {
      accepted.push(block);
      for (const { partition, lastOffset } of block.sources) next[partition] = lastOffset + 1;
    }
  }
  return log;
}

function verdicts(chain: Chain, messages: readonly Buffer[]): string[] {
  return messages.map((message) => {
    const result = chain.apply(message);
    return result.accepted ? 'accepted' : result.reason;
  });
}

/** A chain after the first `count` messages, and the offset of its tip message. */
function chainAfter(log: readonly Buffer[], count: number): { chain: Chain; tipOffset: number } {
  const chain = new Chain(params);
  let tipOffset = -1;
  log.slice(0, count).forEach((message, offset) => {
    if (chain.apply(message).accepted) tipOffset = offset;
  });
  return { chain, tipOffset };
}

function checkpointOf(chain: Chain, tipOffset: number, signer = minerA, partBytes?: number) {
  const tip = chain.tip;
  if (tip === undefined) throw new Error('empty chain');
  const encoded = createCheckpoint(chain.state(), params, {
    blockchainTopic: TOPIC_CHAIN,
    tipOffset,
    tipIndex: tip.index,
    tipHash: tip.hash,
    writer: 'miner-a',
    writtenAt: T0,
    signer,
    ...(partBytes === undefined ? {} : { partBytes }),
  });
  if (encoded === undefined) throw new Error('no state');
  return encoded;
}

function restore(encoded: { manifest: Buffer; parts: readonly Buffer[] }, log: readonly Buffer[], view: Partial<{ params: ConsensusParams; blockchainTopic: string }> = {}) {
  const opened = openCheckpoint(encoded.manifest, encoded.parts);
  if (!opened.ok) return opened;
  const manifest = opened.manifest;
  return verifyCheckpoint(opened, { params: view.params ?? params, blockchainTopic: view.blockchainTopic ?? TOPIC_CHAIN, tipMessage: log[manifest.tipOffset] });
}

describe('checkpoints: restored state equals replayed state', () => {
  // CPU-bound (mining and replaying every random chain twice): a generous limit for a loaded shared machine.
  it('for random chains with forks, stale copies and rejected blocks, continuing from a checkpoint gives the verdicts and state of a full replay', { timeout: 120_000 }, () => {
    fc.assert(
      fc.property(fc.array(action, { minLength: 1, maxLength: 30 }), fc.nat(), fc.integer({ min: 64, max: 4096 }), (actions, cutSeed, partBytes) => {
        const log = buildLog(actions);
        const reference = new Chain(params);
        const expected = verdicts(reference, log);
        const cut = 1 + (cutSeed % log.length); // checkpoint after the first `cut` messages (genesis at least)
        const { chain: before, tipOffset } = chainAfter(log, cut);
        const restored = restore(checkpointOf(before, tipOffset, minerA, partBytes), log);
        if (!restored.ok) throw new Error(`${restored.problem}: ${restored.detail}`);
        const chain = new Chain(params);
        chain.continueFrom(restored.state);
        expect(verdicts(chain, log.slice(tipOffset + 1))).toEqual(expected.slice(tipOffset + 1));
        expect(chain.state()).toEqual(reference.state());
        expect([chain.height, chain.tip?.hash, chain.transactionCount]).toEqual([reference.height, reference.tip?.hash, reference.transactionCount]);
        for (const id of IDS) expect(chain.hasTransaction(id)).toBe(reference.hasTransaction(id));
      }),
      { numRuns: 80 },
    );
  });
});

describe('checkpoints: rejected and reported, never trusted', () => {
  const log = buildLog([
    { kind: 'extend', advance: 10, users: [{ id: 'a', skew: 0 }], derived: [2, 1] },
    { kind: 'extend', advance: 10, users: [{ id: 'b', skew: -5 }], derived: [1, 0] },
    { kind: 'fork' },
    { kind: 'extend', advance: 10, users: [], derived: [0, 1] },
  ]);
  const { chain, tipOffset } = chainAfter(log, 3);
  const good = checkpointOf(chain, tipOffset, minerA, 100);

  const problemOf = (encoded: { manifest: Buffer; parts: readonly Buffer[] }, against = log, view = {}): string => {
    const result = restore(encoded, against, view);
    return result.ok ? 'ok' : result.problem;
  };

  it('accepts the honest checkpoint, split in several parts', () => {
    expect(good.parts.length).toBeGreaterThan(1);
    expect(problemOf(good)).toBe('ok');
  });

  it('truncated: a missing or cut part', () => {
    expect(problemOf({ manifest: good.manifest, parts: good.parts.slice(0, -1) })).toBe('incomplete');
    const cutPart = [...good.parts.slice(0, -1), (good.parts.at(-1) as Buffer).subarray(1)];
    expect(problemOf({ manifest: good.manifest, parts: cutPart })).toBe('corrupt');
    expect(problemOf({ manifest: good.manifest.subarray(0, 20), parts: good.parts })).toBe('malformed');
  });

  it('forged: an altered body, a re-signed manifest by an outsider, a signature that does not verify', () => {
    const text = Buffer.concat(good.parts).toString('utf8');
    expect(text).toContain('["a",');
    const forged = Buffer.from(text.replace('["a",', '["z",'));
    const forgedParts = good.parts.map((_, i) => forged.subarray(i * 100, (i + 1) * 100));
    expect(problemOf({ manifest: good.manifest, parts: forgedParts })).toBe('corrupt');
    // Permissioned: only an allowed miner's signature is trusted (open mode, where anyone may write blocks, takes any).
    const permissioned = { ...params, allowedMiners: [minerA.publicKey, minerB.publicKey] };
    const tip = chain.tip as NonNullable<Chain['tip']>;
    const signedBy = (signer?: typeof minerA) =>
      createCheckpoint(chain.state(), permissioned, {
        blockchainTopic: TOPIC_CHAIN,
        tipOffset,
        tipIndex: tip.index,
        tipHash: tip.hash,
        writer: 'x',
        writtenAt: T0,
        ...(signer === undefined ? {} : { signer }),
      }) as NonNullable<ReturnType<typeof createCheckpoint>>;
    expect(problemOf(signedBy(minerB), log, { params: permissioned })).toBe('ok');
    expect(problemOf(signedBy(outsider), log, { params: permissioned })).toBe('untrusted-signer');
    expect(problemOf(signedBy(undefined), log, { params: permissioned })).toBe('untrusted-signer');
    expect(problemOf(checkpointOf(chain, tipOffset, outsider))).toBe('ok');
    expect(problemOf(good, log, { params: permissioned })).toBe('other-params');
    const otherSignature = { ...good.manifestValue, signature: JSON.parse(checkpointOf(chain, tipOffset, minerB).manifest.toString()).signature as string };
    expect(problemOf({ manifest: canonicalBytes(otherSignature), parts: good.parts })).toBe('bad-signature');
  });

  it('stale: a tip that is not the block at that offset (another chain, a recreated or truncated topic), another topic or other parameters', () => {
    const otherLog = buildLog([{ kind: 'extend', advance: 99, users: [], derived: [0, 0] }]);
    expect(problemOf(good, otherLog)).toBe('not-on-chain');
    expect(problemOf(good, log.slice(0, tipOffset))).toBe('not-on-chain');
    expect(problemOf(good, log, { blockchainTopic: 'other' })).toBe('other-topic');
    expect(problemOf(good, log, { params: { ...params, replayWindowMs: W + 1 } })).toBe('other-params');
  });

  it('an older (or newer) checkpoint format is refused, not misread', () => {
    for (const format of [CHECKPOINT_FORMAT - 1, CHECKPOINT_FORMAT + 1]) {
      const other = { ...good.manifestValue, format };
      expect(problemOf({ manifest: canonicalBytes(other), parts: good.parts })).toBe('unsupported-format');
    }
  });

  it('a chain without a replay window has no checkpoint, and an empty chain cannot continue from a state twice', () => {
    const unbounded = new Chain({ minDifficulty: 0, blockReward: 50 });
    unbounded.apply(GENESIS_BLOCK);
    expect(unbounded.state()).toBeUndefined();
    const restored = restore(good, log);
    if (!restored.ok) throw new Error(restored.problem);
    expect(() => unbounded.continueFrom(restored.state)).toThrow(/replay window/);
    const once = new Chain(params);
    once.continueFrom(restored.state);
    expect(() => once.continueFrom(restored.state)).toThrow(/not empty/);
  });
});
