// Builds the committed test vectors (services/core/test/vectors/*.json) from fixed seeds and inputs.
// vectors.test.ts regenerates them and compares with the committed files; UPDATE_VECTORS=1 rewrites them.
import {
  blockHeader,
  Chain,
  encodeBlock,
  GENESIS_BLOCK,
  headerDigest,
  inclusionProof,
  inclusionProofOfHashes,
  leafHash,
  merkleRootOfHashes,
  parseTransactionInput,
  transactionHash,
  transactionSigningBytes,
  type Block,
  type ConsensusParams,
  type Transaction,
  verifySignature,
  CURRENT_PROTOCOL_VERSION,
  decodeTransactionInput,
  finalSourceLog,
  signTransaction,
  toTransaction,
  type SkippedRecord,
} from '../../src/protocol/index.js';
import { createHash, createPublicKey, verify } from 'node:crypto';
import {
  client,
  forge,
  kcatTransaction,
  mine,
  minerA,
  minerB,
  outsider,
  range,
  seedFor,
  signedTransaction,
  TOPIC,
} from './fixtures.js';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString('utf8');

export const VECTOR_CONSENSUS: ConsensusParams = {
  minDifficulty: 8,
  blockReward: 50,
  allowedMiners: [minerA.publicKey, minerB.publicKey],
};

function blockDetails(block: Block): object {
  const digest = headerDigest(block);
  const nonce = Buffer.alloc(8);
  nonce.writeBigUInt64BE(BigInt(block.nonce));
  return {
    index: block.index,
    encoded: text(encodeBlock(block)),
    headerCanonical: JSON.stringify(sortedHeader(block)),
    headerDigest: hex(digest),
    proofOfWorkInput: hex(Buffer.concat([digest, nonce])),
    hash: block.hash,
    transactionHashes: block.transactions.map((transaction) => hex(transactionHash(transaction))),
    merkleRoot: block.merkleRoot,
  };
}

/** The header's canonical JSON, spelled out independently of canonicalize (all keys are ASCII). */
function sortedHeader(block: Block): unknown {
  const sortKeys = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(sortKeys);
    if (typeof value !== 'object' || value === null) return value;
    return Object.fromEntries(
      Object.entries(value)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([key, inner]) => [key, sortKeys(inner)]),
    );
  };
  return sortKeys(blockHeader(block));
}

function genesisVector(): object {
  return {
    description: 'The genesis block, identical on every node. encoded is the exact UTF-8 text on the blockchain topic.',
    block: GENESIS_BLOCK,
    ...blockDetails(GENESIS_BLOCK),
  };
}

/** A blockchain-topic log with accepted and rejected blocks, and what every reader must conclude. */
function chainVector(): object {
  const tx = (partition: number, offset: number, input = {}): Transaction => kcatTransaction(partition, offset, input);
  const genesis = GENESIS_BLOCK;
  const block1 = mine(genesis, {
    signer: minerA,
    miner: 'miner-a',
    difficulty: 8,
    version: 1,
    timestamp: 1_700_000_010_000,
    // The article's `{"from":"alice","to":"bob","amount":3}` published three times: three transactions.
    transactions: [tx(0, 0), tx(0, 1), tx(0, 2)],
    sources: [range(0, 0, 2)],
  });
  const losingBlock1 = mine(genesis, {
    signer: minerB,
    miner: 'miner-b',
    difficulty: 8,
    version: 1,
    timestamp: 1_700_000_010_500,
    transactions: [signedTransaction('invoice-1', 7)],
    sources: [range(1, 0, 0)],
  });
  const block2 = mine(block1, {
    signer: minerB,
    miner: 'miner-b',
    difficulty: 8,
    version: 1,
    timestamp: 1_700_000_020_000,
    transactions: [signedTransaction('invoice-1', 7), tx(1, 1, { from: 'bob', to: 'carol', amount: 2 }), tx(0, 3)],
    sources: [range(1, 0, 1), range(0, 3, 3)],
  });
  const block3 = mine(block2, { signer: minerA, miner: 'miner-a', difficulty: 10, timestamp: 1_700_000_030_000, version: 1 });
  const outsiderBlock4 = mine(block3, {
    signer: outsider,
    miner: 'outsider',
    difficulty: 8,
    version: 1,
    timestamp: 1_700_000_040_000,
  });
  const block4 = mine(block3, {
    signer: minerA,
    miner: 'miner-a',
    difficulty: 8,
    version: 1,
    timestamp: 1_700_000_040_000,
    transactions: [tx(0, 4), tx(0, 5, { amount: 10 }), tx(0, 7), tx(0, 8, { to: 'erin' }), tx(1, 2)],
    sources: [range(0, 4, 8), range(1, 2, 2)],
  });
  const forkBlock5 = mine(outsiderBlock4, { signer: minerB, miner: 'miner-b', difficulty: 8, version: 1 });
  const gapBlock7 = forge(block4, { index: 7, previousHash: block4.hash }, minerB);

  const log: Array<[string, Block]> = [
    ['genesis', genesis],
    ['a second node publishing genesis at the same time', genesis],
    ['block 1 by miner A: three identical kcat messages, three transactions', block1],
    ['block 1 by miner B, published after miner A won the race', losingBlock1],
    ['block 2 by miner B: a signed transaction and two minimal ones from two partitions', block2],
    ['block 3 by miner A: coinbase only, difficulty above the minimum', block3],
    ['block 4 signed by a key that is not an allowed miner', outsiderBlock4],
    ['block 4 by miner A: five transactions (a 6-leaf Merkle tree); offset 6 of partition 0 was a poison message', block4],
    ['block 2 again (redelivered or replayed)', block2],
    ['block 5 on top of the rejected block 4', forkBlock5],
    ['block 7 while the tip is block 4', gapBlock7],
  ];
  const chain = new Chain(VECTOR_CONSENSUS);
  const entries = log.map(([description, block]) => {
    const result = chain.apply(encodeBlock(block));
    return {
      description,
      encoded: text(encodeBlock(block)),
      expected: result.accepted ? { accepted: true, hash: block.hash } : { accepted: false, reason: result.reason },
    };
  });
  return {
    description:
      'A blockchain topic, message by message, and what a reader with these consensus parameters concludes. ' +
      'Keys: an Ed25519 private key is its 32-byte seed; each seed is SHA-256 of the UTF-8 label.',
    consensus: VECTOR_CONSENSUS,
    keys: [
      ['chainlog test miner A', minerA.publicKey],
      ['chainlog test miner B', minerB.publicKey],
      ['chainlog test outsider', outsider.publicKey],
      ['chainlog test client', client.publicKey],
    ].map(([label, publicKey]) => ({ label, seed: hex(seedFor(label as string)), publicKey })),
    log: entries,
    acceptedBlocks: [genesis, block1, block2, block3, block4].map(blockDetails),
    inclusionProofs: [block1, block2, block4].flatMap((block) =>
      block.transactions.map((transaction) => ({
        blockIndex: block.index,
        transactionId: transaction.id,
        transactionHash: hex(transactionHash(transaction)),
        merkleRoot: block.merkleRoot,
        proof: inclusionProof(block, transaction.id),
      })),
    ),
  };
}

/** Trees of 0..8 leaves whose leaf data are SHA-256 of the single byte i: roots and every proof. */
function merkleVector(): object {
  const trees = Array.from({ length: 9 }, (_, size) => {
    const data = Array.from({ length: size }, (_, i) => createHash('sha256').update(Buffer.from([i])).digest());
    return {
      size,
      leafData: data.map(hex),
      leafHashes: data.map((datum) => hex(leafHash(datum))),
      root: hex(merkleRootOfHashes(data)),
      proofs: data.map((_, i) => inclusionProofOfHashes(data, i)),
    };
  });
  return {
    description:
      'RFC 6962 Merkle trees: leaf = SHA-256(0x00 || data), node = SHA-256(0x01 || left || right), ' +
      'split at the largest power of two below n, empty tree = SHA-256(""). Paths are listed leaf-side first.',
    trees,
  };
}

/** Record texts that are rejected as transactions-topic records (version 2), though JSON.parse accepts them. */
function invalidRecords(): Array<[string, string]> {
  return [
    ['{"from":"alice","to":"bob","amount":2.9999999999999999}', 'amount'],
    ['{"from":"alice","to":"bob","amount":3,"timestamp":1700000000000.0000001}', 'timestamp'],
    ['{"from":"alice","to":"bob","amount":3,"amount":300}', '$'],
    ['{"from":"alice","from":"mallory","to":"bob","amount":3}', '$'],
    ['\uFEFF{"from":"alice","to":"bob","amount":3}', '$'],
  ];
}

/** Input forms, their stored form and hashes, a signed transaction, and inputs that must be rejected. */
function transactionVector(): object {
  const minimal = kcatTransaction(0, 42);
  const signed = signedTransaction('invoice-1', 7);
  const invalid: Array<[string, string]> = [
    ['{"from":"alice","to":"bob","amount":3.5}', 'amount'],
    ['{"from":"alice","to":"bob","amount":0}', 'amount'],
    ['{"from":"alice","to":"bob","amount":-1}', 'amount'],
    ['{"from":"alice","to":"bob","amount":1e400}', 'amount'],
    ['{"from":"alice","to":"bob","amount":"3"}', 'amount'],
    ['{"from":"alice","to":"bob","amount":9007199254740992}', 'amount'],
    ['{"from":"alice","to":"bob"}', 'amount'],
    ['{"from":"0","to":"bob","amount":3}', 'from'],
    ['{"from":"","to":"bob","amount":3}', 'from'],
    ['{"from":"alice","to":"bob smith","amount":3}', 'to'],
    ['{"from":"alice","to":"bob","amount":3,"memo":"hi"}', 'memo'],
    ['{"id":"coinbase:1","from":"alice","to":"bob","amount":3}', 'id'],
    ['{"id":"tx:transactions:0:1","from":"alice","to":"bob","amount":3}', 'id'],
    ['{"from":"alice","to":"bob","amount":3,"timestamp":1.5}', 'timestamp'],
    [`{"from":"alice","to":"bob","amount":3,"signature":"${signed.signature}"}`, 'publicKey'],
    [`{"from":"alice","to":"bob","amount":3,"publicKey":"${signed.publicKey}"}`, 'signature'],
    ['[{"from":"alice","to":"bob","amount":3}]', '$'],
  ];
  return {
    description:
      'Transactions. A stored transaction always has id and timestamp; a minimal input gets ' +
      'id tx:<topic>:<partition>:<offset> and the Kafka record timestamp. transactionHash = SHA-256(canonical).',
    minimal: {
      input: '{"from": "alice", "to": "bob", "amount": 3}',
      source: { topic: TOPIC, partition: 0, offset: 42, timestamp: 1_700_000_000_042 },
      stored: minimal,
      canonical: JSON.stringify(minimal, Object.keys(minimal).sort()),
      transactionHash: hex(transactionHash(minimal)),
    },
    signed: {
      stored: signed,
      signingBytes: text(transactionSigningBytes(signed)),
      canonical: JSON.stringify(signed, Object.keys(signed).sort()),
      transactionHash: hex(transactionHash(signed)),
    },
    invalidRecords: invalidRecords().map(([input, field]) => {
      const decoded = decodeTransactionInput(Buffer.from(input, 'utf8'));
      if (decoded.ok || decoded.error.field !== field) throw new Error(`vector ${input} is not rejected at ${field}`);
      return { input, field, problem: decoded.error.problem };
    }),
    integerSpellings: ['3', '3.0', '3e0', '30e-1', '0.3E1'].map((amount) => ({
      input: `{"from":"alice","to":"bob","amount":${amount}}`,
      amount: (decodeTransactionInput(Buffer.from(`{"from":"alice","to":"bob","amount":${amount}}`)) as { value: { amount: number } }).value.amount,
    })),
    invalidInputs: invalid.map(([input, field]) => {
      const parsed = parseTransactionInput(JSON.parse(input));
      if (parsed.ok || parsed.error.field !== field) throw new Error(`vector ${input} is not rejected at ${field}`);
      return { input, field, problem: parsed.error.problem };
    }),
  };
}

const GROUP_ORDER = 2n ** 252n + 27742317777372353535851937790883648493n;
const IDENTITY = `01${'00'.repeat(31)}`;
const ORDER_8_POINT = '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05';

/** What plain OpenSSL verification (node:crypto) says, without Chainlog's strict checks. */
function opensslVerifies(publicKey: string, message: Buffer, signature: string): boolean {
  try {
    const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(publicKey, 'hex').toString('base64url') }, format: 'jwk' });
    return verify(null, message, key, Buffer.from(signature, 'hex'));
  } catch {
    return false;
  }
}

/** S + L, as 32 little-endian bytes: the same signature with a non-canonical S. */
function withNonCanonicalS(signature: string): string {
  const s = BigInt(`0x${Buffer.from(signature.slice(64), 'hex').reverse().toString('hex')}`) + GROUP_ORDER;
  return signature.slice(0, 64) + Buffer.from(s.toString(16).padStart(64, '0'), 'hex').reverse().toString('hex');
}

/** Ed25519 edge cases: what strict (version 2, libsodium) and plain (version 1, OpenSSL) verification conclude. */
function signatureVector(): object {
  const message = Buffer.from('chainlog signature vector', 'utf8');
  const valid = client.sign(message);
  const universal = `${IDENTITY}${'00'.repeat(32)}`; // R = identity, S = 0
  // A message for which the universal signature also verifies under an order-8 key (h ≡ 0 mod 8).
  const order8Message = Array.from({ length: 64 }, (_, i) => Buffer.from(`message ${i}`))
    .find((candidate) => opensslVerifies(ORDER_8_POINT, candidate, universal)) as Buffer;
  const cases: Array<[string, string, Buffer, string]> = [
    ['valid', client.publicKey, message, valid],
    ['small-order public key (the identity) with R = identity, S = 0: verifies for every message under OpenSSL', IDENTITY, message, universal],
    ['the same key and signature on another message', IDENTITY, Buffer.from('pay mallory everything'), universal],
    ['public key of order 8 with R = identity, S = 0', ORDER_8_POINT, order8Message, universal],
    ['non-canonical public key (y = p + 3 >= p)', `f0${'ff'.repeat(30)}7f`, message, valid],
    ["valid key, the signature's R of small order", client.publicKey, message, `${ORDER_8_POINT}${valid.slice(64)}`],
    ["valid signature with S + L instead of S (non-canonical S)", client.publicKey, message, withNonCanonicalS(valid)],
  ];
  return {
    description:
      'Ed25519 verification. strict: version 2 (libsodium crypto_sign_verify_detached: canonical key not of small ' +
      'order, R not of small order, S < L, then RFC 8032 cofactorless); plain: version 1 (OpenSSL, as node:crypto).',
    cases: cases.map(([description, publicKey, signed, signature]) => ({
      description,
      publicKey,
      message: hex(signed),
      signature,
      strict: verifySignature(publicKey, signed, signature),
      plain: verifySignature(publicKey, signed, signature, false),
    })),
  };
}

/**
 * Protocol versions on one chain: version-1 blocks keep the original rules (here, a transaction signed
 * with a small-order key), version-2 blocks the strict ones; no going back, no unknown version; and the
 * precedence of malformed over bad-transaction.
 */
function versionVector(): object {
  const universal = { publicKey: IDENTITY, signature: `${IDENTITY}${'00'.repeat(32)}` };
  const forged = (id: string): Transaction => ({ id, from: 'alice', to: 'mallory', amount: 1000, timestamp: 1_700_000_050_000, ...universal });
  const base = { signer: minerA, miner: 'miner-a', difficulty: 8 };
  const v1 = mine(GENESIS_BLOCK, { ...base, version: 1, timestamp: 1_700_000_060_000, transactions: [forged('forged-1')] });
  const v2Forged = mine(v1, { ...base, timestamp: 1_700_000_070_000, transactions: [forged('forged-2')] });
  const v2 = mine(v1, { ...base, timestamp: 1_700_000_070_000, transactions: [signedTransaction('invoice-2', 4)] });
  const v1After = mine(v2, { ...base, version: 1, timestamp: 1_700_000_080_000 });
  const v3 = mine(v2, { ...base, version: CURRENT_PROTOCOL_VERSION + 1, timestamp: 1_700_000_080_000 });
  const v3Text = text(encodeBlock(v3));
  const honest3 = mine(v2, { ...base, timestamp: 1_700_000_080_000, transactions: [kcatTransaction(0, 0)] });
  const honest3Text = text(encodeBlock(honest3));
  const badTransaction = honest3Text.replace('"amount":3,"from":"alice"', '"amount":0,"from":"alice"');
  const log: Array<[string, string]> = [
    ['genesis', text(encodeBlock(GENESIS_BLOCK))],
    ['block 1, version 1 (no version field): a transaction "signed" by the identity key, R = identity, S = 0', text(encodeBlock(v1))],
    ['block 2, version 2, with the same kind of transaction: strict Ed25519 refuses it', text(encodeBlock(v2Forged))],
    ['block 2, version 2: an honest signed transaction', text(encodeBlock(v2))],
    ['block 3, version 1 after a version-2 block', text(encodeBlock(v1After))],
    [`block 3, version ${CURRENT_PROTOCOL_VERSION + 1}`, v3Text],
    [`block 3, version ${CURRENT_PROTOCOL_VERSION + 1} with a field this reader does not know`, v3Text.replace('{"difficulty"', '{"colour":"red","difficulty"')],
    ['block 3 spelling version 1 explicitly', honest3Text.replace(`"version":${CURRENT_PROTOCOL_VERSION}}`, '"version":1}')],
    ['block 3, canonical bytes, a transaction with amount 0', badTransaction],
    ['block 3, the same with a space after the first brace: not canonical, so malformed first', badTransaction.replace('{', '{ ')],
    ['block 3, honest', honest3Text],
  ];
  const chain = new Chain(VECTOR_CONSENSUS);
  return {
    description:
      'Protocol versions: a block without `version` follows version 1, `"version":2` the strict rules. Keys as in chain.json.',
    consensus: VECTOR_CONSENSUS,
    currentVersion: CURRENT_PROTOCOL_VERSION,
    log: log.map(([description, encoded]) => {
      const result = chain.apply(Buffer.from(encoded, 'utf8'));
      return { description, encoded, expected: result.accepted ? { accepted: true, hash: result.block.hash } : { accepted: false, reason: result.reason } };
    }),
  };
}

interface VectorRecord {
  readonly offset: number;
  /** The record value as UTF-8 text; null for a record without a value. */
  readonly value: string | null;
  readonly timestamp: number;
}

/** Applies encoded blocks in order against a final transactions-topic log and records each outcome. */
function coverageOutcomes(params: ConsensusParams, partitions: Record<string, VectorRecord[]>, log: Array<[string, Block]>): object[] {
  const sourceLog = finalSourceLog(
    TOPIC,
    new Map(Object.entries(partitions).map(([partition, records]) => [Number(partition), records.map(({ offset, value, timestamp }) => ({ offset, timestamp, value: value === null ? null : Buffer.from(value, 'utf8') }))])),
  );
  const chain = new Chain(params);
  return log.map(([description, block]) => {
    const encoded = text(encodeBlock(block));
    const result = chain.apply(Buffer.from(encoded, 'utf8'), sourceLog);
    return { description, encoded, expected: result.accepted ? { accepted: true, hash: result.block.hash } : { accepted: false, reason: result.reason } };
  });
}

/**
 * Source coverage (§3.7): a transactions topic with an article message, a NULL record, a malformed one and
 * a signed transaction, and the blocks every reader accepts or rejects against it.
 */
function coverageVector(): object {
  const signed = signedTransaction('invoice-3', 2);
  const partitions: Record<string, VectorRecord[]> = {
    '0': [
      { offset: 0, value: '{"from": "alice", "to": "bob", "amount": 3}', timestamp: 1_700_000_000_000 },
      { offset: 1, value: null, timestamp: 1_700_000_000_001 },
      { offset: 2, value: '{"from": "alice", "to": "bob", "amount": 2.9999999999999999}', timestamp: 1_700_000_000_002 },
      { offset: 3, value: JSON.stringify(signed), timestamp: 1_700_000_000_003 },
    ],
  };
  const article = toTransaction({ from: 'alice', to: 'bob', amount: 3 }, { topic: TOPIC, partition: 0, offset: 0, timestamp: 1_700_000_000_000 });
  const stored = toTransaction(signed, { topic: TOPIC, partition: 0, offset: 3, timestamp: 1_700_000_000_003 });
  const base = { signer: minerA, miner: 'miner-a', difficulty: 8, timestamp: 1_700_000_010_000 };
  const skips = [{ offset: 1, reason: 'empty' as const }, { offset: 2, reason: 'malformed' as const }];
  const honest = mine(GENESIS_BLOCK, { ...base, transactions: [article, stored], sources: [{ ...range(0, 0, 3), skipped: skips }] });
  const log: Array<[string, Block]> = [
    ['genesis', GENESIS_BLOCK],
    ['claims offsets 0..2^53-1 of partition 0 and carries nothing (the range hijack)', mine(GENESIS_BLOCK, { ...base, sources: [range(0, 0, Number.MAX_SAFE_INTEGER)] })],
    ['skips the valid article message as malformed', mine(GENESIS_BLOCK, { ...base, transactions: [stored], sources: [{ ...range(0, 0, 3), skipped: [{ offset: 0, reason: 'malformed' }, ...skips] }] })],
    ['lists the NULL record as malformed (its reason is empty)', mine(GENESIS_BLOCK, { ...base, transactions: [article, stored], sources: [{ ...range(0, 0, 3), skipped: [{ offset: 1, reason: 'malformed' }, skips[1] as SkippedRecord] }] })],
    ['carries the article message altered (to mallory)', mine(GENESIS_BLOCK, { ...base, transactions: [{ ...article, to: 'mallory' }, stored], sources: [{ ...range(0, 0, 3), skipped: skips }] })],
    ['carries the inexact amount as 3 instead of skipping it', mine(GENESIS_BLOCK, { ...base, transactions: [article, toTransaction({ from: 'alice', to: 'bob', amount: 3 }, { topic: TOPIC, partition: 0, offset: 2, timestamp: 1_700_000_000_002 }), stored], sources: [{ ...range(0, 0, 3), skipped: [skips[0] as SkippedRecord] }] })],
    ['skips an offset past the last record', mine(GENESIS_BLOCK, { ...base, transactions: [article, stored], sources: [{ ...range(0, 0, 4), skipped: [...skips, { offset: 4, reason: 'empty' }] }] })],
    ['honest: the two transactions, the NULL record skipped as empty, the inexact amount as malformed', honest],
  ];
  return {
    description:
      'Source coverage (protocol.md §3.7) against a final transactions topic `transactions` (records: offset, UTF-8 value or null, ' +
      'Kafka timestamp). Each block is applied in order with these records; keys and consensus as in chain.json.',
    consensus: VECTOR_CONSENSUS,
    partitions,
    log: coverageOutcomes(VECTOR_CONSENSUS, partitions, log),
  };
}

/** The ledger rules (§4.4): bindings, genesis allocations, refusals skipped with their reason, a carried overdraft. */
function ledgerVector(): object {
  const consensus: ConsensusParams = { ...VECTOR_CONSENSUS, ledger: { accountKeys: { carol: [client.publicKey] }, allocations: { carol: 10 } } };
  const pay = (id: string, amount: number, signer: typeof client, offset: number): { record: VectorRecord; stored: Transaction } => {
    const input = signTransaction({ id, from: 'carol', to: 'dave', amount, timestamp: 1_700_000_000_000 + offset }, client === signer ? client : signer);
    return { record: { offset, value: JSON.stringify(input), timestamp: 1_700_000_000_000 }, stored: toTransaction(input, { topic: TOPIC, partition: 0, offset, timestamp: 1_700_000_000_000 }) };
  };
  const first = pay('pay-1', 6, client, 0);
  const overdraft = pay('pay-2', 5, client, 1);
  const theft = pay('steal-1', 1, outsider, 2);
  const partitions = { '0': [first.record, overdraft.record, theft.record] };
  const base = { signer: minerA, miner: 'miner-a', difficulty: 8, timestamp: 1_700_000_010_000 };
  const refusals = [{ offset: 1, reason: 'insufficient-funds' as const }, { offset: 2, reason: 'unauthorized' as const }];
  const log: Array<[string, Block]> = [
    ['genesis', GENESIS_BLOCK],
    ['carries the overdraft (6 then 5 from a balance of 10)', mine(GENESIS_BLOCK, { ...base, transactions: [first.stored, overdraft.stored], sources: [{ ...range(0, 0, 2), skipped: [refusals[1] as SkippedRecord] }] })],
    ["carries the spend signed by the outsider's key", mine(GENESIS_BLOCK, { ...base, transactions: [first.stored, theft.stored], sources: [{ ...range(0, 0, 2), skipped: [refusals[0] as SkippedRecord] }] })],
    ['names the wrong reasons for the refused records', mine(GENESIS_BLOCK, { ...base, transactions: [first.stored], sources: [{ ...range(0, 0, 2), skipped: [{ offset: 1, reason: 'unauthorized' }, { offset: 2, reason: 'insufficient-funds' }] }] })],
    ['honest: pays 6, refuses the overdraft and the theft with their reasons', mine(GENESIS_BLOCK, { ...base, transactions: [first.stored], sources: [{ ...range(0, 0, 2), skipped: refusals }] })],
  ];
  return {
    description:
      'Ledger rules (protocol.md §4.4): carol is bound to the key of "chainlog test client" and starts with 10; "dave" and "miner-a" are bound ' +
      'to no key. Records and blocks as in coverage.json. Balances after the honest block: carol 4, dave 6, miner-a 50.',
    consensus,
    partitions,
    log: coverageOutcomes(consensus, partitions, log),
  };
}

export function generateVectors(): Record<string, object> {
  return {
    'coverage.json': coverageVector(),
    'ledger.json': ledgerVector(),
    'versions.json': versionVector(),
    'signatures.json': signatureVector(),
    'genesis.json': genesisVector(),
    'chain.json': chainVector(),
    'merkle.json': merkleVector(),
    'transactions.json': transactionVector(),
  };
}
