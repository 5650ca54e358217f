import { createHash } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import {
  assembleBlock,
  Chain,
  coinbaseTransaction,
  encodeBlock,
  finalSourceLog,
  GENESIS_BLOCK,
  proofOfWorkHash,
  REJECTION_REASONS,
  CURRENT_PROTOCOL_VERSION,
  meetsDifficulty,
  sealBlock,
  searchNonce,
  signTransaction,
  transactionHash,
  type ApplyResult,
  type Block,
  type ConsensusParams,
  type RejectionReason,
  type Transaction,
} from '../../src/protocol/index.js';
import {
  block1,
  chainWithOneBlock,
  client,
  forge,
  kcatTransaction,
  mine,
  minerA,
  minerB,
  openParams,
  outsider,
  permissionedParams,
  range,
  signedTransaction,
  TOPIC,
} from './fixtures.js';

const seenReasons = new Set<RejectionReason>();
const sha256Hex = (text: string): string => createHash('sha256').update(text).digest('hex');

/** Applies to a fresh chain holding genesis and block 1 (so tests never depend on each other). */
function applyAfterBlock1(block: Block | Uint8Array, params: ConsensusParams = permissionedParams): ApplyResult {
  return chainWithOneBlock(params).apply(block);
}

function expectRejected(result: ApplyResult, reason: RejectionReason): void {
  if (result.accepted) throw new Error(`expected ${reason}, but the block was accepted`);
  expect({ reason: result.reason, detail: result.detail }).toEqual({ reason, detail: expect.any(String) });
  seenReasons.add(result.reason);
}

/** A valid block 2 (signed by miner A) that the tests below break one rule at a time. */
const block2 = mine(block1, {
  signer: minerA,
  transactions: [kcatTransaction(0, 2), signedTransaction('invoice-9', 5)],
  sources: [range(0, 2, 2), range(1, 0, 0)],
});
const coinbase2 = block2.transactions[0] as Transaction;
const userTransactions2 = block2.transactions.slice(1);

describe('Chain: accepting blocks', () => {
  it('starts empty, accepts genesis, then blocks that extend the tip', () => {
    const chain = new Chain(permissionedParams);
    expect(chain.height).toBe(-1);
    expect(chain.tip).toBeUndefined();
    expect(chain.apply(encodeBlock(GENESIS_BLOCK)).accepted).toBe(true);
    expect(chain.tip?.hash).toBe(GENESIS_BLOCK.hash);
    expect(chain.apply(block1).accepted).toBe(true);
    expect(chain.apply(encodeBlock(block2))).toEqual({ accepted: true, block: block2 });
    expect(chain.height).toBe(2);
    expect(chain.tip).toEqual({ index: 2, hash: block2.hash, block: block2 });
  });

  it('tracks committed transaction ids and the last offset of every source partition', () => {
    const chain = chainWithOneBlock();
    expect(chain.hasTransaction('tx:transactions:0:1')).toBe(true);
    expect(chain.hasTransaction('tx:transactions:0:2')).toBe(false);
    expect(chain.lastSourceOffset(TOPIC, 0)).toBe(1);
    expect(chain.lastSourceOffset(TOPIC, 1)).toBeUndefined();
    chain.apply(block2);
    expect(['coinbase:2', 'tx:transactions:0:2', 'invoice-9'].map((id) => chain.hasTransaction(id))).toEqual([true, true, true]);
    expect(chain.transactionCount).toBe(6);
    expect(chain.sourceOffsets()).toEqual([
      { topic: TOPIC, partition: 0, lastOffset: 2 },
      { topic: TOPIC, partition: 1, lastOffset: 0 },
    ]);
  });

  it('check() answers like apply() without changing the chain; rejected blocks change nothing either', () => {
    const chain = chainWithOneBlock();
    expect(chain.check(block2).accepted).toBe(true);
    expect(chain.height).toBe(1);
    const rejected = forge(block2, { index: 3 }, minerA);
    expect(chain.apply(rejected).accepted).toBe(false);
    expect(chain.height).toBe(1);
    expect(chain.hasTransaction('invoice-9')).toBe(false);
    expect(chain.apply(block2).accepted).toBe(true);
  });

  it('applyChecked commits a block checked on the unchanged chain, and validates again once the chain moved', () => {
    const chain = chainWithOneBlock();
    const version = chain.version;
    expect(chain.check(block2).accepted).toBe(true);
    expect(chain.applyChecked(block2, version)).toEqual({ accepted: true, block: block2 });
    expect(chain.version).toBe(version + 1);
    expect(chain.hasTransaction('invoice-9')).toBe(true);
    // The same verdict reused after another block was committed: validated again, and now stale.
    const rival = mine(block1, { signer: minerB, transactions: [kcatTransaction(0, 2)], sources: [range(0, 2, 2)] });
    expectRejected(chain.applyChecked(rival, version), 'stale');
    expect(chain.tip?.hash).toBe(block2.hash);
  });

  it('accepts unsigned blocks in open mode, and verifies signatures when present', () => {
    const unsigned = mine(block1, { transactions: [kcatTransaction(0, 2)], sources: [range(0, 2, 2)] });
    expect(applyAfterBlock1(unsigned, openParams).accepted).toBe(true);
    expect(applyAfterBlock1(block2, openParams).accepted).toBe(true);
    expectRejected(applyAfterBlock1({ ...block2, signature: minerB.sign(Buffer.from(block2.hash, 'hex')) }, openParams), 'bad-signature');
  });

  it('rejects invalid consensus parameters at construction', () => {
    const invalid: ConsensusParams[] = [
      { minDifficulty: -1, blockReward: 1 },
      { minDifficulty: 257, blockReward: 1 },
      { minDifficulty: 1, blockReward: 0 },
      { minDifficulty: 1, blockReward: 1.5 },
      { minDifficulty: 1, blockReward: 1, allowedMiners: ['not-a-key'] },
      { minDifficulty: 1, blockReward: 1, maxBlockTransactions: 0 },
    ];
    for (const params of invalid) expect(() => new Chain(params)).toThrow(RangeError);
  });
});

describe('Chain: genesis', () => {
  it('rejects a second genesis as stale, so racing initialisers cannot fork the chain', () => {
    const chain = new Chain(permissionedParams);
    expect(chain.apply(encodeBlock(GENESIS_BLOCK)).accepted).toBe(true);
    expectRejected(chain.apply(encodeBlock(GENESIS_BLOCK)), 'stale');
  });

  it('on an empty chain, rejects any other index-0 block as a fork and later blocks as a gap', () => {
    const otherGenesis = forge(GENESIS_BLOCK, { miner: 'someone-else' }, undefined);
    expectRejected(new Chain(openParams).apply(otherGenesis), 'fork');
    expectRejected(new Chain(openParams).apply(block1), 'gap');
  });
});

describe('Chain: rejection reasons', () => {
  it('malformed: bytes that are not a block, and blocks with wrongly typed fields', () => {
    const garbage = applyAfterBlock1(Buffer.from('not json'));
    expectRejected(garbage, 'malformed');
    const wrongType = applyAfterBlock1({ ...block2, difficulty: '4' } as unknown as Block);
    expectRejected(wrongType, 'malformed');
    expect(wrongType).toMatchObject({ detail: expect.stringContaining('difficulty'), claimedIndex: 2, claimedMiner: 'miner-a' });
  });

  it('stale: a block at or below the tip (lost race, replay)', () => {
    expectRejected(applyAfterBlock1(block1), 'stale');
    const rival = mine(GENESIS_BLOCK, { signer: minerB, miner: 'miner-b' });
    const result = applyAfterBlock1(rival);
    expectRejected(result, 'stale');
    expect(result).toMatchObject({ claimedIndex: 1, claimedMiner: 'miner-b' });
  });

  it('gap: a block beyond tip + 1', () => {
    expectRejected(applyAfterBlock1(forge(block2, { index: 3 }, minerA)), 'gap');
  });

  it('fork: a block at tip + 1 whose previousHash is not the tip', () => {
    expectRejected(applyAfterBlock1(forge(block2, { previousHash: sha256Hex('elsewhere') }, minerA)), 'fork');
  });

  it('unsupported-version: a version above what this reader implements, whatever else the block has', () => {
    const future = forge(block2, { version: CURRENT_PROTOCOL_VERSION + 1 }, minerA);
    expectRejected(applyAfterBlock1(future), 'unsupported-version');
    const withNewField = encodeBlock(future).toString('utf8').replace('{"difficulty"', '{"colour":"red","difficulty"');
    expectRejected(applyAfterBlock1(Buffer.from(withNewField)), 'unsupported-version');
  });

  it('malformed: version 1 spelled out, or a version that is not an integer of 2 or above', () => {
    for (const version of [1, 0, 2.5, '2']) {
      expectRejected(applyAfterBlock1({ ...block2, version } as unknown as Block), 'malformed');
    }
  });

  it('bad-version: a block that goes back to the rules of an older version than the tip', () => {
    expect(block1.version).toBe(CURRENT_PROTOCOL_VERSION);
    expectRejected(applyAfterBlock1(forge(block2, { version: undefined }, minerA)), 'bad-version');
    const legacyChain = new Chain(permissionedParams);
    legacyChain.apply(GENESIS_BLOCK);
    const legacy1 = mine(GENESIS_BLOCK, { signer: minerA, version: 1 });
    expect(legacyChain.apply(legacy1).accepted).toBe(true);
    expect(legacyChain.apply(mine(legacy1, { signer: minerA })).accepted).toBe(true);
  });

  it('malformed outranks bad-transaction: the same reason whichever check a reader runs first', () => {
    const canonical = encodeBlock(block2).toString('utf8').replace('"amount":3,"from":"alice"', '"amount":0,"from":"alice"');
    expectRejected(applyAfterBlock1(Buffer.from(canonical)), 'bad-transaction');
    for (const broken of [canonical.replace('{', '{ '), canonical.replace('"difficulty":4', '"difficulty":4.0'), canonical.replace('}', ',"miner":"x"}')]) {
      expectRejected(applyAfterBlock1(Buffer.from(broken)), 'malformed');
    }
    expectRejected(applyAfterBlock1(Buffer.alloc(0)), 'malformed');
  });

  it('bad-timestamp: a block earlier than its predecessor; assembleBlock never produces one', () => {
    expectRejected(applyAfterBlock1(forge(block2, { timestamp: block1.timestamp - 1 }, minerA)), 'bad-timestamp');
    const slowClock = mine(block1, { signer: minerA, timestamp: block1.timestamp - 60_000 });
    expect(slowClock.timestamp).toBe(block1.timestamp);
    expect(applyAfterBlock1(slowClock).accepted).toBe(true);
  });

  it('bad-hash: a hash that the header and nonce do not produce', () => {
    expectRejected(applyAfterBlock1({ ...block2, hash: `0000${sha256Hex('x').slice(4)}` }), 'bad-hash');
    expectRejected(applyAfterBlock1({ ...block2, nonce: block2.nonce + 1 }), 'bad-hash');
    expectRejected(applyAfterBlock1({ ...block2, miner: 'miner-b' }), 'bad-hash');
  });

  it('insufficient-work: difficulty below the minimum, or a hash that misses the claimed difficulty', () => {
    expectRejected(applyAfterBlock1(forge(block2, { difficulty: 2 }, minerA)), 'insufficient-work');
    const candidate = assembleBlock({
      previous: block1,
      transactions: [],
      sources: [],
      miner: 'miner-a',
      timestamp: block1.timestamp,
      difficulty: 12,
      reward: permissionedParams.blockReward,
      minerPublicKey: minerA.publicKey,
    });
    let nonce = 0;
    while (meetsDifficulty(proofOfWorkHash(candidate.headerDigest, nonce), 12)) nonce++;
    expectRejected(applyAfterBlock1(sealBlock(candidate, nonce, minerA)), 'insufficient-work');
  });

  it('unsigned: an unsigned block on a permissioned chain', () => {
    expectRejected(applyAfterBlock1(forge(block2, {}, undefined)), 'unsigned');
  });

  it('unknown-signer: a block signed by a key outside the allow-list', () => {
    expectRejected(applyAfterBlock1(forge(block2, {}, outsider)), 'unknown-signer');
  });

  it('bad-signature: a signature that is not by minerPublicKey over the hash', () => {
    const hashBytes = Buffer.from(block2.hash, 'hex');
    expectRejected(applyAfterBlock1({ ...block2, signature: minerB.sign(hashBytes) }), 'bad-signature');
    expectRejected(applyAfterBlock1({ ...block2, signature: minerA.sign(Buffer.from(block1.hash, 'hex')) }), 'bad-signature');
  });

  it('too-many-transactions: more than maxBlockTransactions, coinbase included', () => {
    const params = { ...permissionedParams, maxBlockTransactions: 3 };
    expect(applyAfterBlock1(block2, params).accepted).toBe(true);
    const oneMore = forge(block2, { transactions: [...block2.transactions, kcatTransaction(0, 3)] }, minerA);
    expectRejected(applyAfterBlock1(oneMore, params), 'too-many-transactions');
  });

  it('bad-merkle-root: transactions that do not hash to merkleRoot', () => {
    expectRejected(applyAfterBlock1(forge(block2, { merkleRoot: sha256Hex('other') }, minerA)), 'bad-merkle-root');
    const reordered = [coinbase2, ...[...userTransactions2].reverse()];
    expectRejected(applyAfterBlock1(forge(block2, { transactions: reordered, merkleRoot: block2.merkleRoot }, minerA)), 'bad-merkle-root');
  });

  it('bad-coinbase: missing, wrong amount, recipient, id or timestamp, or not first', () => {
    const wrongCoinbases: Array<readonly Transaction[]> = [
      userTransactions2,
      [{ ...coinbase2, amount: coinbase2.amount + 1 }, ...userTransactions2],
      [{ ...coinbase2, to: 'miner-b' }, ...userTransactions2],
      [{ ...coinbase2, id: 'coinbase:1' }, ...userTransactions2],
      [{ ...coinbase2, timestamp: coinbase2.timestamp + 1 }, ...userTransactions2],
      [...userTransactions2, coinbase2],
      [],
    ];
    for (const transactions of wrongCoinbases) {
      expectRejected(applyAfterBlock1(forge(block2, { transactions }, minerA)), 'bad-coinbase');
    }
  });

  it('bad-transaction: malformed, sent from "0", coinbase id, bad or missing signature', () => {
    const withTransaction = (transaction: Transaction): Block =>
      forge(block2, { transactions: [coinbase2, transaction] }, minerA);
    const plain = kcatTransaction(0, 2);
    expectRejected(applyAfterBlock1(withTransaction({ ...plain, amount: 0 })), 'bad-transaction');
    expectRejected(applyAfterBlock1(withTransaction({ ...plain, from: '0' })), 'bad-transaction');
    expectRejected(applyAfterBlock1(withTransaction({ ...plain, id: 'coinbase:7' })), 'bad-transaction');
    const signed = signedTransaction('invoice-9', 5);
    expectRejected(applyAfterBlock1(withTransaction({ ...signed, amount: 6 })), 'bad-transaction');
  });

  it('bad-transaction: a signature by a small-order key, which OpenSSL alone accepts for every message', () => {
    const identity = `01${'00'.repeat(31)}`;
    const forged: Transaction = { id: 'steal-1', from: 'carol', to: 'mallory', amount: 100, timestamp: 1, publicKey: identity, signature: `${identity}${'00'.repeat(32)}` };
    expectRejected(applyAfterBlock1(forge(block2, { transactions: [coinbase2, forged] }, minerA)), 'bad-transaction');
  });

  it('bad-transaction: an unsigned transaction when signatures are required', () => {
    const chain = new Chain({ ...permissionedParams, requireTransactionSignatures: true });
    chain.apply(GENESIS_BLOCK);
    const plain = kcatTransaction(0, 0);
    const withTransaction = (transaction: Transaction): Block =>
      mine(GENESIS_BLOCK, { signer: minerA, transactions: [transaction], sources: [range(0, 0, 0)] });
    expectRejected(chain.apply(withTransaction(plain)), 'bad-transaction');
    expect(chain.apply(withTransaction(signTransaction(plain, client))).accepted).toBe(true);
  });

  it('duplicate-transaction: an id already in the chain or twice in the block', () => {
    const alreadyCommitted = kcatTransaction(0, 1);
    expectRejected(applyAfterBlock1(forge(block2, { transactions: [coinbase2, alreadyCommitted] }, minerA)), 'duplicate-transaction');
    const twice = [coinbase2, ...userTransactions2, userTransactions2[0] as Transaction];
    expectRejected(applyAfterBlock1(forge(block2, { transactions: twice }, minerA)), 'duplicate-transaction');
  });

  it('unauthorized and insufficient-funds: with ledger rules (ledger.test.ts has the details)', () => {
    const params: ConsensusParams = { ...permissionedParams, ledger: { accountKeys: { carol: [client.publicKey] }, allocations: { carol: 5 } } };
    const chain = (): Chain => {
      const fresh = new Chain(params);
      fresh.apply(GENESIS_BLOCK);
      return fresh;
    };
    const spend = (amount: number): Transaction => signedTransaction(`spend-${amount}`, amount);
    expectRejected(chain().apply(mine(GENESIS_BLOCK, { signer: minerA, transactions: [kcatTransaction(0, 0)], sources: [range(0, 0, 0)] })), 'unauthorized');
    expectRejected(chain().apply(mine(GENESIS_BLOCK, { signer: minerA, transactions: [spend(6)], sources: [range(1, 0, 0)] })), 'insufficient-funds');
    expect(chain().apply(mine(GENESIS_BLOCK, { signer: minerA, transactions: [spend(5)], sources: [range(1, 0, 0)] })).accepted).toBe(true);
  });

  it('bad-source-range: gaps, overlaps, a late first range, inverted, unsorted or repeated partitions', () => {
    const badSources = [
      [range(0, 3, 3)],
      [range(0, 1, 2)],
      [range(0, 2, 2), range(1, 1, 1)],
      [range(0, 2, 1)],
      [range(1, 0, 0), range(0, 2, 2)],
      [range(0, 2, 2), range(0, 3, 3)],
      [{ topic: 'another', partition: 0, firstOffset: 5, lastOffset: 6 }],
    ];
    for (const sources of badSources) {
      expectRejected(applyAfterBlock1(forge(block2, { sources }, minerA)), 'bad-source-range');
    }
    const newTopic = forge(block2, { sources: [...block2.sources, { topic: 'zz-other', partition: 3, firstOffset: 0, lastOffset: 9 }] }, minerA);
    expect(applyAfterBlock1(newTopic).accepted).toBe(true);
  });

  it('bad-source-coverage: a range whose records are missing from the block, altered, or past the end of the log', () => {
    const record = (offset: number, input: object, timestamp = 1_700_000_000_000 + offset) => ({
      offset,
      value: Buffer.from(JSON.stringify(input)),
      timestamp,
    });
    const signedInput = { ...signedTransaction('invoice-9', 5) } as Record<string, unknown>;
    const honest = new Map([
      [0, [record(0, {}), record(1, {}), record(2, { from: 'alice', to: 'bob', amount: 3 })]],
      [1, [record(0, signedInput, 0)]],
    ]);
    const chain = chainWithOneBlock(permissionedParams);
    expect(chain.apply(block2, finalSourceLog(TOPIC, honest)).accepted).toBe(true);
    const altered = new Map(honest).set(0, [record(2, { from: 'alice', to: 'mallory', amount: 3 })]);
    expectRejected(chainWithOneBlock(permissionedParams).apply(block2, finalSourceLog(TOPIC, altered)), 'bad-source-coverage');
    const hijack = forge(block2, { transactions: [coinbase2], sources: [range(0, 2, Number.MAX_SAFE_INTEGER)] }, minerA);
    expectRejected(chainWithOneBlock(permissionedParams).apply(hijack, finalSourceLog(TOPIC, honest)), 'bad-source-coverage');
  });

  afterAll(() => {
    // Every reason a reader can report has a test above that produces it.
    expect([...seenReasons].sort()).toEqual([...REJECTION_REASONS].sort());
  });
});

describe('assembleBlock / sealBlock', () => {
  it('puts the coinbase first and sorts sources', () => {
    const candidate = assembleBlock({
      previous: block1,
      transactions: [kcatTransaction(1, 0)],
      sources: [range(1, 0, 0), range(0, 2, 2)],
      miner: 'miner-b',
      timestamp: block1.timestamp + 5,
      difficulty: 4,
      reward: 50,
    });
    expect(candidate.transactions[0]).toEqual(coinbaseTransaction({ index: 2, miner: 'miner-b', timestamp: block1.timestamp + 5, reward: 50 }));
    expect(candidate.header.sources.map((source) => source.partition)).toEqual([0, 1]);
  });

  it('hands its transaction hashes to Chain.check, whose Merkle rule then uses them instead of hashing again', () => {
    const candidate = assembleBlock({
      previous: block1,
      transactions: [kcatTransaction(0, 2)],
      sources: [range(0, 2, 2)],
      miner: 'miner-a',
      timestamp: block1.timestamp + 1,
      difficulty: openParams.minDifficulty,
      reward: 50,
    });
    expect(candidate.transactionHashes).toEqual(candidate.transactions.map(transactionHash));
    const block = sealBlock(candidate, searchNonce(candidate.headerDigest, openParams.minDifficulty, 0, Number.MAX_SAFE_INTEGER) as number);
    const chain = chainWithOneBlock(openParams);
    expect(chain.check(block, { transactionHashes: candidate.transactionHashes }).accepted).toBe(true);
    // Hashes that do not describe the block's transactions are believed, and the root then disagrees.
    const wrong = [...candidate.transactionHashes].reverse();
    expectRejected(chain.check(block, { transactionHashes: wrong }), 'bad-merkle-root');
  });

  it('refuses a signer that does not match the candidate key', () => {
    const candidate = assembleBlock({
      previous: block1,
      transactions: [],
      sources: [],
      miner: 'miner-a',
      timestamp: block1.timestamp,
      difficulty: 0,
      reward: 50,
      minerPublicKey: minerA.publicKey,
    });
    expect(() => sealBlock(candidate, 0, minerB)).toThrow();
    expect(() => sealBlock(candidate, 0)).toThrow();
    expect(sealBlock(candidate, 0, minerA).minerPublicKey).toBe(minerA.publicKey);
  });
});
