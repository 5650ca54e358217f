// The permissioned ledger (docs/protocol.md §4.4): accounts bound to keys, balances enforced, in the block
// rules, in source coverage, and as chain state; property: no accepted chain ever overdraws an account.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  Balances,
  Chain,
  createCheckpoint,
  encodeBlock,
  finalSourceLog,
  openCheckpoint,
  verifyCheckpoint,
  GENESIS_BLOCK,
  signTransaction,
  toTransaction,
  type Block,
  type ConsensusParams,
  type Signer,
  type SourceRecord,
  type Transaction,
} from '../../src/protocol/index.js';
import { client, mine, minerA, outsider, permissionedParams, range, TOPIC } from './fixtures.js';

const ledgerParams: ConsensusParams = {
  ...permissionedParams,
  ledger: { accountKeys: { carol: [client.publicKey] }, allocations: { carol: 10 } },
};

let sequence = 0;
/** A transaction as a record would carry it, and the stored form at (partition 0, offset). */
function payment(from: string, amount: number, signer: Signer | undefined, offset: number, to = 'dave'): { input: object; stored: Transaction } {
  const unsigned = { id: `pay-${++sequence}`, from, to, amount, timestamp: 1_700_000_000_000 + offset };
  const input = signer === undefined ? unsigned : signTransaction(unsigned, signer);
  return { input, stored: toTransaction(input, { topic: TOPIC, partition: 0, offset, timestamp: 1_700_000_000_000 }) };
}

function ledgerChain(params: ConsensusParams = ledgerParams): Chain {
  const chain = new Chain(params);
  chain.apply(GENESIS_BLOCK);
  return chain;
}

function reasonOf(chain: Chain, block: Block, log?: Parameters<Chain['apply']>[1]): string {
  const result = chain.apply(block, log);
  return result.accepted ? 'accepted' : result.reason;
}

describe('ledger rules in blocks', () => {
  it('accepts a spend signed by a key bound to the account, within its balance, and keeps the balances', () => {
    const chain = ledgerChain();
    const block = mine(GENESIS_BLOCK, { signer: minerA, transactions: [payment('carol', 10, client, 0).stored], sources: [range(0, 0, 0)] });
    expect(reasonOf(chain, block)).toBe('accepted');
    expect([chain.balance('carol'), chain.balance('dave'), chain.balance('miner-a')]).toEqual([0n, 10n, 50n]);
  });

  it('unauthorized: another key, no signature, or an account no key is bound to', () => {
    for (const transaction of [payment('carol', 1, outsider, 0).stored, payment('carol', 1, undefined, 0).stored, payment('alice', 1, client, 0).stored]) {
      const block = mine(GENESIS_BLOCK, { signer: minerA, transactions: [transaction], sources: [range(0, 0, 0)] });
      expect(reasonOf(ledgerChain(), block)).toBe('unauthorized');
    }
  });

  it('a key account is owned by its key, and no other', () => {
    const params: ConsensusParams = { ...permissionedParams, ledger: { allocations: { [client.publicKey]: 5 } } };
    const own = mine(GENESIS_BLOCK, { signer: minerA, transactions: [payment(client.publicKey, 5, client, 0).stored], sources: [range(0, 0, 0)] });
    expect(reasonOf(ledgerChain(params), own)).toBe('accepted');
    const stolen = mine(GENESIS_BLOCK, { signer: minerA, transactions: [payment(client.publicKey, 5, outsider, 0).stored], sources: [range(0, 0, 0)] });
    expect(reasonOf(ledgerChain(params), stolen)).toBe('unauthorized');
  });

  it('insufficient-funds: an overdraft, also when earlier transactions of the same block spent the balance', () => {
    const single = mine(GENESIS_BLOCK, { signer: minerA, transactions: [payment('carol', 11, client, 0).stored], sources: [range(0, 0, 0)] });
    expect(reasonOf(ledgerChain(), single)).toBe('insufficient-funds');
    const both = [payment('carol', 6, client, 0).stored, payment('carol', 5, client, 1).stored];
    expect(reasonOf(ledgerChain(), mine(GENESIS_BLOCK, { signer: minerA, transactions: both, sources: [range(0, 0, 1)] }))).toBe('insufficient-funds');
  });

  it('version-1 blocks and chains without ledger rules keep informational balances', () => {
    const overdraft = [payment('carol', 1000, outsider, 0).stored];
    const legacy = mine(GENESIS_BLOCK, { signer: minerA, version: 1, transactions: overdraft, sources: [range(0, 0, 0)] });
    expect(reasonOf(ledgerChain(), legacy)).toBe('accepted');
    const open = mine(GENESIS_BLOCK, { signer: minerA, transactions: overdraft, sources: [range(0, 0, 0)] });
    expect(reasonOf(ledgerChain(permissionedParams), open)).toBe('accepted');
  });

  it('refuses ledger rules on an open chain, and bad bindings or allocations', () => {
    expect(() => new Chain({ minDifficulty: 0, blockReward: 1, ledger: {} })).toThrow(/permissioned/);
    expect(() => new Chain({ ...permissionedParams, ledger: { accountKeys: { carol: ['xyz'] } } })).toThrow(/public keys/);
    expect(() => new Chain({ ...permissionedParams, ledger: { allocations: { carol: -1 } } })).toThrow(/non-negative/);
    // A key account is bound to its own key alone: a binding list for it would bind others too.
    expect(() => new Chain({ ...permissionedParams, ledger: { accountKeys: { ['ab'.repeat(32)]: ['cd'.repeat(32)] } } })).toThrow(/key account/);
  });
});

describe('ledger rules in source coverage', () => {
  const record = (offset: number, input: object): SourceRecord => ({ offset, value: Buffer.from(JSON.stringify(input)), timestamp: 1_700_000_000_000 });

  it('a refused record is skipped with its reason, checked in block order; a wrong reason or a carried overdraft is rejected', () => {
    const first = payment('carol', 6, client, 0);
    const second = payment('carol', 5, client, 1); // 6 + 5 > 10: refused
    const thief = payment('carol', 1, outsider, 2);
    const log = finalSourceLog(TOPIC, new Map([[0, [record(0, first.input), record(1, second.input), record(2, thief.input)]]]));
    const honest = mine(GENESIS_BLOCK, {
      signer: minerA,
      transactions: [first.stored],
      sources: [{ ...range(0, 0, 2), skipped: [{ offset: 1, reason: 'insufficient-funds' }, { offset: 2, reason: 'unauthorized' }] }],
    });
    expect(reasonOf(ledgerChain(), honest, log)).toBe('accepted');
    const swapped = mine(GENESIS_BLOCK, {
      signer: minerA,
      transactions: [first.stored],
      sources: [{ ...range(0, 0, 2), skipped: [{ offset: 1, reason: 'unauthorized' }, { offset: 2, reason: 'unauthorized' }] }],
    });
    expect(reasonOf(ledgerChain(), swapped, log)).toBe('bad-source-coverage');
    const carried = mine(GENESIS_BLOCK, {
      signer: minerA,
      transactions: [first.stored, second.stored],
      sources: [{ ...range(0, 0, 2), skipped: [{ offset: 2, reason: 'unauthorized' }] }],
    });
    expect(reasonOf(ledgerChain(), carried, log)).toBe('insufficient-funds');
  });

  it('an accepted block names the records it refused with their ids (what an auditor answers a lookup with)', () => {
    const first = payment('carol', 6, client, 0);
    const second = payment('carol', 5, client, 1);
    const again = first.input; // sent twice: a duplicate, not named (its id's status is the first copy's)
    const log = finalSourceLog(TOPIC, new Map([[0, [record(0, first.input), record(1, second.input), record(2, ['not a transaction']), record(3, again)]]]));
    const block = mine(GENESIS_BLOCK, {
      signer: minerA,
      transactions: [first.stored],
      sources: [
        {
          ...range(0, 0, 3),
          skipped: [
            { offset: 1, reason: 'insufficient-funds' },
            { offset: 2, reason: 'malformed' },
            { offset: 3, reason: 'duplicate' },
          ],
        },
      ],
    });
    const result = ledgerChain().apply(block, log);
    expect(result).toMatchObject({ accepted: true, refused: [{ partition: 0, offset: 1, reason: 'insufficient-funds', id: (second.input as { id: string }).id }] });
    // Without records (no coverage check) nothing is named.
    expect(ledgerChain().apply(block)).not.toHaveProperty('refused');
  });
});

describe('Balances', () => {
  it('round-trips through entries(), exactly beyond 2^53', () => {
    const balances = new Balances({ a: Number.MAX_SAFE_INTEGER });
    balances.transfer({ from: 'x', to: 'a', amount: Number.MAX_SAFE_INTEGER });
    expect(balances.balance('a')).toBe(2n * BigInt(Number.MAX_SAFE_INTEGER));
    expect(Balances.fromEntries(balances.entries()).entries()).toEqual(balances.entries());
  });

  it('property: on any sequence of spends, the accepted chain never takes a bound account below zero', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 1, max: 8 }), fc.boolean()), { minLength: 1, maxLength: 12 }), (spends) => {
        const chain = ledgerChain();
        let tip: Block = GENESIS_BLOCK;
        let offset = 0;
        for (const [amount, byOwner] of spends) {
          const block = mine(tip, {
            signer: minerA,
            transactions: [payment('carol', amount, byOwner ? client : outsider, offset).stored],
            sources: [range(0, offset, offset)],
          });
          const before = chain.balance('carol');
          const result = chain.apply(block);
          const expected = !byOwner ? 'unauthorized' : BigInt(amount) > before ? 'insufficient-funds' : 'accepted';
          expect(result.accepted ? 'accepted' : result.reason).toBe(expected);
          if (result.accepted) {
            tip = block;
            offset++;
          }
          expect(chain.balance('carol') >= 0n).toBe(true);
        }
      }),
      { numRuns: 25 },
    );
  });
});

describe('balances in checkpoints', () => {
  it('a chain continued from a checkpoint has the balances of the chain that wrote it, and judges overdrafts alike', () => {
    const params: ConsensusParams = { ...ledgerParams, replayWindowMs: 86_400_000 };
    const chain = ledgerChain(params);
    const at = 1_700_000_000_000; // inside the replay window of the payments' timestamps
    const block = mine(GENESIS_BLOCK, { signer: minerA, timestamp: at, transactions: [payment('carol', 7, client, 0).stored], sources: [range(0, 0, 0)] });
    expect(reasonOf(chain, block)).toBe('accepted');
    const encoded = createCheckpoint(chain.state(), params, {
      blockchainTopic: 'blockchain',
      tipOffset: 1,
      tipIndex: block.index,
      tipHash: block.hash,
      writer: 'miner-a',
      writtenAt: 0,
      signer: minerA,
    });
    if (encoded === undefined) throw new Error('no checkpoint');
    const opened = openCheckpoint(encoded.manifest, encoded.parts);
    if (!opened.ok) throw new Error(opened.detail);
    const verified = verifyCheckpoint(opened, { params, blockchainTopic: 'blockchain', tipMessage: encodeBlock(block) });
    if (!verified.ok) throw new Error(verified.detail);
    const continued = new Chain(params);
    continued.continueFrom(verified.state);
    expect([continued.balance('carol'), continued.balance('dave'), continued.balance('miner-a')]).toEqual([3n, 7n, 50n]);
    const overdraft = mine(block, { signer: minerA, timestamp: at, transactions: [payment('carol', 4, client, 1).stored], sources: [range(0, 1, 1)] });
    expect([reasonOf(continued, overdraft), reasonOf(chain, overdraft)]).toEqual(['insufficient-funds', 'insufficient-funds']);
  });
});
