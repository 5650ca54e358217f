// fast-check arbitraries for protocol values: structurally valid, not necessarily valid on a chain.
import fc from 'fast-check';
import { CURRENT_PROTOCOL_VERSION, type Block, type SourceRange, type Transaction } from '../../src/protocol/index.js';

const chars = (alphabet: string, minLength: number, maxLength: number): fc.Arbitrary<string> =>
  fc.string({ unit: fc.constantFrom(...alphabet), minLength, maxLength });

const ALNUM = 'ABCXYZabcxyz0123456789';
export const accountId = chars(`${ALNUM}._:@-`, 1, 64).filter((id) => id !== '0');
export const userTransactionId = chars(`${ALNUM}._-`, 1, 128);
const hexString = (bytes: number): fc.Arbitrary<string> =>
  fc.uint8Array({ minLength: bytes, maxLength: bytes }).map((array) => Buffer.from(array).toString('hex'));
export const hash = hexString(32);
const safeNatural = fc.oneof(fc.nat(1000), fc.maxSafeNat());
// Kafka refuses the topic names `.` and `..`, and so does the protocol.
const topic = chars(`${ALNUM}._-`, 1, 30).filter((name) => name !== '.' && name !== '..');

export const transaction: fc.Arbitrary<Transaction> = fc
  .record({
    id: fc.oneof(
      userTransactionId,
      fc.tuple(topic, fc.nat(2 ** 31 - 1), safeNatural).map(([t, p, o]) => `tx:${t}:${p}:${o}`),
    ),
    from: accountId,
    to: accountId,
    amount: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
    timestamp: safeNatural,
    signer: fc.option(fc.tuple(hexString(32), hexString(64)), { nil: undefined }),
  })
  .map(({ signer, ...fields }) =>
    signer === undefined ? fields : { ...fields, publicKey: signer[0], signature: signer[1] },
  );

const sourceRange: fc.Arbitrary<SourceRange> = fc
  .record({ topic, partition: fc.nat(2 ** 31 - 1), firstOffset: safeNatural, lastOffset: safeNatural });

export const block: fc.Arbitrary<Block> = fc
  .record({
    index: safeNatural,
    timestamp: safeNatural,
    previousHash: hash,
    merkleRoot: hash,
    transactions: fc.array(transaction, { maxLength: 5 }),
    miner: accountId,
    difficulty: fc.integer({ min: 0, max: 256 }),
    nonce: safeNatural,
    sources: fc.array(sourceRange, { maxLength: 3 }),
    hash,
    signer: fc.option(fc.tuple(hexString(32), hexString(64)), { nil: undefined }),
    version: fc.option(fc.integer({ min: 2, max: CURRENT_PROTOCOL_VERSION }), { nil: undefined }),
  })
  .map(({ signer, version, ...fields }) => ({
    ...fields,
    ...(signer === undefined ? {} : { minerPublicKey: signer[0], signature: signer[1] }),
    ...(version === undefined ? {} : { version }),
  }));
