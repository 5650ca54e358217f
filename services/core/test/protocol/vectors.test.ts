// The committed vectors are the protocol's reference values (docs/protocol.md quotes them). This file
// checks that the code still produces them exactly, and replays them as an independent verifier would.
import { readFileSync, writeFileSync } from 'node:fs';
import { createHash, createPublicKey, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  Chain,
  decodeBlock,
  decodeTransactionInput,
  finalSourceLog,
  encodeBlock,
  GENESIS_BLOCK,
  parseTransactionInput,
  verifyInclusionProof,
  verifySignature,
  type ConsensusParams,
  type InclusionProof,
} from '../../src/protocol/index.js';
import { generateVectors } from './vectors.js';

const vectorsDir = new URL('../vectors/', import.meta.url);
const serialise = (value: object): string => `${JSON.stringify(value, null, 2)}\n`;
const readVector = <T>(name: string): T => JSON.parse(readFileSync(new URL(name, vectorsDir), 'utf8')) as T;
const sha256Hex = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

interface ChainVector {
  consensus: ConsensusParams;
  keys: Array<{ label: string; seed: string; publicKey: string }>;
  log: Array<{ description: string; encoded: string; expected: { accepted: boolean; hash?: string; reason?: string } }>;
  acceptedBlocks: Array<{
    encoded: string;
    headerCanonical: string;
    headerDigest: string;
    proofOfWorkInput: string;
    hash: string;
    transactionHashes: string[];
  }>;
  inclusionProofs: Array<{ transactionHash: string; merkleRoot: string; proof: InclusionProof }>;
}

/** Plain node:crypto verification, independently of the protocol code. */
function opensslVerifies(publicKey: string, message: Buffer, signature: string): boolean {
  try {
    const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(publicKey, 'hex').toString('base64url') }, format: 'jwk' });
    return verify(null, message, key, Buffer.from(signature, 'hex'));
  } catch {
    return false;
  }
}

describe('committed test vectors', () => {
  const generated = generateVectors();

  it.each(Object.keys(generated))('%s is what the code generates', (name) => {
    const expected = serialise(generated[name] as object);
    if (process.env.UPDATE_VECTORS === '1') writeFileSync(new URL(name, vectorsDir), expected);
    expect(readFileSync(new URL(name, vectorsDir), 'utf8')).toBe(expected);
  });

  it('the genesis vector is the genesis block, byte for byte', () => {
    const genesis = readVector<{ encoded: string; hash: string }>('genesis.json');
    expect(encodeBlock(GENESIS_BLOCK).toString('utf8')).toBe(genesis.encoded);
    expect(GENESIS_BLOCK.hash).toBe(genesis.hash);
  });

  it('replaying the chain log gives the committed outcome for every message', () => {
    const vector = readVector<ChainVector>('chain.json');
    const chain = new Chain(vector.consensus);
    const outcomes = vector.log.map(({ encoded }) => {
      const result = chain.apply(Buffer.from(encoded, 'utf8'));
      return result.accepted ? { accepted: true, hash: result.block.hash } : { accepted: false, reason: result.reason };
    });
    expect(outcomes).toEqual(vector.log.map(({ expected }) => expected));
  });

  it('accepted blocks hash as spelled out step by step', () => {
    const vector = readVector<ChainVector>('chain.json');
    for (const block of vector.acceptedBlocks) {
      expect(sha256Hex(block.headerCanonical)).toBe(block.headerDigest);
      expect(block.proofOfWorkInput.startsWith(block.headerDigest)).toBe(true);
      expect(sha256Hex(Buffer.from(block.proofOfWorkInput, 'hex'))).toBe(block.hash);
      const decoded = decodeBlock(Buffer.from(block.encoded, 'utf8'));
      if (!decoded.ok) throw new Error(decoded.error.problem);
      expect(decoded.value.transactions.map((tx) => sha256Hex(JSON.stringify(tx, Object.keys(tx).sort())))).toEqual(
        block.transactionHashes,
      );
      if (decoded.value.signature !== undefined && decoded.value.minerPublicKey !== undefined) {
        expect(verifySignature(decoded.value.minerPublicKey, Buffer.from(block.hash, 'hex'), decoded.value.signature)).toBe(true);
      }
    }
  });

  it('every committed inclusion proof verifies, and fails against another root', () => {
    const { inclusionProofs } = readVector<ChainVector>('chain.json');
    const { trees } = readVector<{ trees: Array<{ leafData: string[]; root: string; proofs: InclusionProof[] }> }>('merkle.json');
    const cases = [
      ...inclusionProofs.map((item) => ({ hash: item.transactionHash, proof: item.proof, root: item.merkleRoot })),
      ...trees.flatMap((tree) => tree.proofs.map((proof, i) => ({ hash: tree.leafData[i] as string, proof, root: tree.root }))),
    ];
    expect(cases.length).toBeGreaterThan(40);
    for (const { hash, proof, root } of cases) {
      expect(verifyInclusionProof(hash, proof, root)).toBe(true);
      expect(verifyInclusionProof(hash, proof, sha256Hex(root))).toBe(false);
    }
  });

  it('replaying the versions log gives the committed outcome for every message', () => {
    const vector = readVector<{ consensus: ConsensusParams; log: ChainVector['log'] }>('versions.json');
    const chain = new Chain(vector.consensus);
    const outcomes = vector.log.map(({ encoded }) => {
      const result = chain.apply(Buffer.from(encoded, 'utf8'));
      return result.accepted ? { accepted: true, hash: result.block.hash } : { accepted: false, reason: result.reason };
    });
    expect(outcomes).toEqual(vector.log.map(({ expected }) => expected));
    expect(new Set(outcomes.map((outcome) => outcome.reason))).toEqual(
      new Set([undefined, 'bad-transaction', 'bad-version', 'unsupported-version', 'malformed']),
    );
  });

  it('signature vectors: strict verification refuses what libsodium refuses; plain is what OpenSSL says', () => {
    const { cases } = readVector<{ cases: Array<{ publicKey: string; message: string; signature: string; strict: boolean; plain: boolean }> }>(
      'signatures.json',
    );
    for (const { publicKey, message, signature, strict, plain } of cases) {
      expect(verifySignature(publicKey, Buffer.from(message, 'hex'), signature)).toBe(strict);
      expect(verifySignature(publicKey, Buffer.from(message, 'hex'), signature, false)).toBe(plain);
      expect(opensslVerifies(publicKey, Buffer.from(message, 'hex'), signature)).toBe(plain);
    }
    expect(cases.filter(({ strict }) => strict)).toHaveLength(1);
    expect(cases.filter(({ strict, plain }) => plain && !strict).length).toBeGreaterThanOrEqual(3);
  });

  it('every committed invalid record is rejected at the committed field, every integer spelling decodes to 3', () => {
    const { invalidRecords, integerSpellings } = readVector<{
      invalidRecords: Array<{ input: string; field: string }>;
      integerSpellings: Array<{ input: string; amount: number }>;
    }>('transactions.json');
    expect(invalidRecords.length).toBeGreaterThanOrEqual(5);
    for (const { input, field } of invalidRecords) {
      const result = decodeTransactionInput(Buffer.from(input, 'utf8'));
      expect(result.ok ? 'accepted' : result.error.field).toBe(field);
      expect(() => JSON.parse(input.replace(/^\uFEFF/, ''))).not.toThrow();
    }
    for (const { input, amount } of integerSpellings) {
      expect(amount).toBe(3);
      expect(decodeTransactionInput(Buffer.from(input, 'utf8'))).toMatchObject({ ok: true, value: { amount } });
    }
  });

  it.each(['coverage.json', 'ledger.json'])('replaying %s against its transactions topic gives the committed outcome for every block', (name) => {
    const vector = readVector<{
      consensus: ConsensusParams;
      partitions: Record<string, Array<{ offset: number; value: string | null; timestamp: number }>>;
      log: ChainVector['log'];
    }>(name);
    const partitions = new Map(
      Object.entries(vector.partitions).map(([partition, records]) => [
        Number(partition),
        records.map(({ offset, value, timestamp }) => ({ offset, timestamp, value: value === null ? null : Buffer.from(value, 'utf8') })),
      ]),
    );
    const chain = new Chain(vector.consensus);
    const outcomes = vector.log.map(({ encoded }) => {
      const result = chain.apply(Buffer.from(encoded, 'utf8'), finalSourceLog('transactions', partitions));
      return result.accepted ? { accepted: true, hash: result.block.hash } : { accepted: false, reason: result.reason };
    });
    expect(outcomes).toEqual(vector.log.map(({ expected }) => expected));
    expect(outcomes.filter((outcome) => outcome.accepted)).toHaveLength(2); // genesis and the honest block
  });

  it('every committed invalid input is rejected at the committed field', () => {
    const { invalidInputs } = readVector<{ invalidInputs: Array<{ input: string; field: string }> }>('transactions.json');
    for (const { input, field } of invalidInputs) {
      const result = parseTransactionInput(JSON.parse(input));
      expect(result.ok ? 'accepted' : result.error.field).toBe(field);
    }
  });
});
