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
} from '../../src/protocol/index.js';
import { createHash } from 'node:crypto';
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
    timestamp: 1_700_000_010_000,
    // The article's `{"from":"alice","to":"bob","amount":3}` published three times: three transactions.
    transactions: [tx(0, 0), tx(0, 1), tx(0, 2)],
    sources: [range(0, 0, 2)],
  });
  const losingBlock1 = mine(genesis, {
    signer: minerB,
    miner: 'miner-b',
    difficulty: 8,
    timestamp: 1_700_000_010_500,
    transactions: [signedTransaction('invoice-1', 7)],
    sources: [range(1, 0, 0)],
  });
  const block2 = mine(block1, {
    signer: minerB,
    miner: 'miner-b',
    difficulty: 8,
    timestamp: 1_700_000_020_000,
    transactions: [signedTransaction('invoice-1', 7), tx(1, 1, { from: 'bob', to: 'carol', amount: 2 }), tx(0, 3)],
    sources: [range(1, 0, 1), range(0, 3, 3)],
  });
  const block3 = mine(block2, { signer: minerA, miner: 'miner-a', difficulty: 10, timestamp: 1_700_000_030_000 });
  const outsiderBlock4 = mine(block3, {
    signer: outsider,
    miner: 'outsider',
    difficulty: 8,
    timestamp: 1_700_000_040_000,
  });
  const block4 = mine(block3, {
    signer: minerA,
    miner: 'miner-a',
    difficulty: 8,
    timestamp: 1_700_000_040_000,
    transactions: [tx(0, 4), tx(0, 5, { amount: 10 }), tx(0, 7), tx(0, 8, { to: 'erin' }), tx(1, 2)],
    sources: [range(0, 4, 8), range(1, 2, 2)],
  });
  const forkBlock5 = mine(outsiderBlock4, { signer: minerB, miner: 'miner-b', difficulty: 8 });
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
    invalidInputs: invalid.map(([input, field]) => {
      const parsed = parseTransactionInput(JSON.parse(input));
      if (parsed.ok || parsed.error.field !== field) throw new Error(`vector ${input} is not rejected at ${field}`);
      return { input, field, problem: parsed.error.problem };
    }),
  };
}

export function generateVectors(): Record<string, object> {
  return {
    'genesis.json': genesisVector(),
    'chain.json': chainVector(),
    'merkle.json': merkleVector(),
    'transactions.json': transactionVector(),
  };
}
