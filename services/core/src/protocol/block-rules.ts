/**
 * The validity rules a decoded block must pass to extend the chain, run in a fixed order so that every
 * reader reports the same reason. They depend only on the block, the chain so far and the consensus
 * parameters: no clocks, no network, no configuration beyond ConsensusParams.
 */
import { compareSources, computeBlockHash, type Block, type SourceRange } from './block.js';
import { isExpectedCoinbase } from './coinbase.js';
import type { ConsensusParams, RejectionReason } from './consensus.js';
import { canonicalJson, fromHex, toHex } from './encoding.js';
import { GENESIS_BLOCK } from './genesis.js';
import { COINBASE_SENDER, isCoinbaseTransactionId } from './identifiers.js';
import { merkleRootOfHashes, merkleRootOfTransactionJson } from './merkle.js';
import { replayWindowProblem } from './replay-window.js';
import { meetsDifficulty } from './proof-of-work.js';
import { verifySignature } from './signatures.js';
import { canonicalTransactionJson, verifyTransactionSignature } from './transaction.js';
import { blockVersion, versionRules } from './version.js';
import { enforcesLedger, ledgerRefusal } from './ledger.js';

export interface Rejection {
  readonly reason: RejectionReason;
  readonly detail: string;
}

/** What the rules need to know about the chain the block would extend. */
export interface ChainView {
  /** The last accepted block, undefined while the chain is empty. */
  readonly tipBlock: Pick<Block, 'index' | 'hash' | 'timestamp' | 'version'> | undefined;
  hasTransaction(id: string): boolean;
  lastSourceOffset(topic: string, partition: number): number | undefined;
  /** Balances as of the tip (ledger.ts); read only when the chain has ledger rules. */
  balance(account: string): bigint;
}

/**
 * What decoding (or assembling) the block already computed, so that the rules need not compute it again.
 * Either field, when present, must describe exactly the block's transactions, in block order.
 */
export interface DecodingByProducts {
  /** canonicalTransactionJson of each transaction. */
  readonly transactionJson?: readonly string[];
  /** transactionHash of each transaction (the Merkle tree's leaf data). */
  readonly transactionHashes?: readonly Uint8Array[];
}

type Rule = (block: Block, chain: ChainView, params: ConsensusParams, decoded: DecodingByProducts) => Rejection | undefined;

const reject = (reason: RejectionReason, detail: string): Rejection => ({ reason, detail });

/** stale, gap, fork: the block must extend the tip; on an empty chain, it must be the genesis constant. */
const extendsTip: Rule = (block, chain) => {
  const tip = chain.tipBlock;
  const expectedIndex = tip === undefined ? 0 : tip.index + 1;
  if (block.index < expectedIndex) {
    return reject('stale', `index ${block.index} is not above the tip's index ${expectedIndex - 1}`);
  }
  if (block.index > expectedIndex) return reject('gap', `index ${block.index} skips ahead of ${expectedIndex}`);
  if (tip === undefined) {
    return canonicalJson(block) === canonicalJson(GENESIS_BLOCK)
      ? undefined
      : reject('fork', 'the first block must be the genesis block');
  }
  return block.previousHash === tip.hash
    ? undefined
    : reject('fork', `previousHash ${block.previousHash} is not the tip's hash ${tip.hash}`);
};

/** A chain never goes back to older rules: that would let a miner dodge the stricter ones. */
const versionNotBelowTip: Rule = (block, chain) => {
  const tip = chain.tipBlock;
  if (tip === undefined) return undefined;
  const [version, tipVersion] = [blockVersion(block), blockVersion(tip)];
  return version < tipVersion ? reject('bad-version', `version ${version} is below the tip's version ${tipVersion}`) : undefined;
};

const timestampNotBeforeTip: Rule = (block, chain) => {
  const tip = chain.tipBlock;
  return tip !== undefined && block.timestamp < tip.timestamp
    ? reject('bad-timestamp', `timestamp ${block.timestamp} is before the previous block's ${tip.timestamp}`)
    : undefined;
};

const hashMatches: Rule = (block) => {
  const hash = computeBlockHash(block);
  return hash === block.hash ? undefined : reject('bad-hash', `hash is ${block.hash} but the header and nonce give ${hash}`);
};

const enoughWork: Rule = (block, _chain, params) => {
  if (block.difficulty < params.minDifficulty) {
    return reject('insufficient-work', `difficulty ${block.difficulty} is below the minimum ${params.minDifficulty}`);
  }
  const hashBytes = fromHex(block.hash) as Buffer;
  return meetsDifficulty(hashBytes, block.difficulty)
    ? undefined
    : reject('insufficient-work', `hash has fewer than the claimed ${block.difficulty} leading zero bits`);
};

/** unsigned, unknown-signer, bad-signature. */
const minerSignature: Rule = (block, _chain, params) => {
  const allowed = params.allowedMiners;
  if (block.minerPublicKey === undefined || block.signature === undefined) {
    return allowed === undefined ? undefined : reject('unsigned', 'permissioned chain: blocks must be signed');
  }
  if (allowed !== undefined && !allowed.includes(block.minerPublicKey)) {
    return reject('unknown-signer', `minerPublicKey ${block.minerPublicKey} is not an allowed miner`);
  }
  const { strictSignatures } = versionRules(blockVersion(block));
  return verifySignature(block.minerPublicKey, fromHex(block.hash) as Buffer, block.signature, strictSignatures)
    ? undefined
    : reject('bad-signature', 'signature does not verify against minerPublicKey and hash');
};

const transactionCount: Rule = (block, _chain, params) => {
  const max = params.maxBlockTransactions;
  return max !== undefined && block.transactions.length > max
    ? reject('too-many-transactions', `${block.transactions.length} transactions, at most ${max} allowed`)
    : undefined;
};

const merkleRootMatches: Rule = (block, _chain, _params, decoded) => {
  const root =
    decoded.transactionHashes === undefined
      ? merkleRootOfTransactionJson(decoded.transactionJson ?? block.transactions.map(canonicalTransactionJson))
      : toHex(merkleRootOfHashes(decoded.transactionHashes));
  return root === block.merkleRoot
    ? undefined
    : reject('bad-merkle-root', `merkleRoot is ${block.merkleRoot} but the transactions give ${root}`);
};

/** The first transaction is the block's reward (the rule below makes sure nothing else is). */
const coinbaseFirst: Rule = (block, _chain, params) => {
  return isExpectedCoinbase(block.transactions[0], block, params.blockReward)
    ? undefined
    : reject(
        'bad-coinbase',
        `the first transaction must be {id: coinbase:${block.index}, from: "${COINBASE_SENDER}", to: the miner, ` +
          `amount: ${params.blockReward}, timestamp: the block's}`,
      );
};

const userTransactions: Rule = (block, _chain, params) => {
  const rules = versionRules(blockVersion(block));
  for (const [i, transaction] of block.transactions.entries()) {
    if (i === 0) continue;
    const at = `transactions[${i}] (${transaction.id})`;
    if (transaction.from === COINBASE_SENDER) return reject('bad-transaction', `${at} sends from the coinbase sender`);
    if (isCoinbaseTransactionId(transaction.id)) return reject('bad-transaction', `${at} has a coinbase id`);
    if (transaction.signature === undefined) {
      if (params.requireTransactionSignatures === true) return reject('bad-transaction', `${at} is not signed`);
    } else if (!verifyTransactionSignature(transaction, rules)) {
      return reject('bad-transaction', `${at} has a signature that does not verify`);
    }
    const outside = params.replayWindowMs === undefined ? undefined : replayWindowProblem(transaction, block.timestamp, params.replayWindowMs);
    if (outside !== undefined) return reject('bad-transaction', `${at} is outside the replay window: ${outside}`);
  }
  return undefined;
};

const uniqueTransactions: Rule = (block, chain) => {
  const seen = new Set<string>();
  for (const { id } of block.transactions) {
    if (seen.has(id)) return reject('duplicate-transaction', `${id} appears twice in the block`);
    if (chain.hasTransaction(id)) return reject('duplicate-transaction', `${id} is already in the chain`);
    seen.add(id);
  }
  return undefined;
};

/** unauthorized, insufficient-funds: the permissioned ledger (ledger.ts), in version-2 blocks. */
const ledgerRules: Rule = (block, chain, params) => {
  if (!enforcesLedger(params.ledger, block)) return undefined;
  const refusal = ledgerRefusal(block.transactions, params.ledger, chain);
  if (refusal === undefined) return undefined;
  const transaction = block.transactions[refusal.index] as Block['transactions'][number];
  return reject(refusal.reason, `transactions[${refusal.index}] (${transaction.id}) ${refusal.detail}`);
};

/** Each partition's ranges tile its offsets from 0 with no gap or overlap, across the whole chain. */
const sourceRangesContinue: Rule = (block, chain) => {
  for (const [i, source] of block.sources.entries()) {
    const at = `sources[${i}] (${source.topic}/${source.partition})`;
    const previous = block.sources[i - 1];
    if (previous !== undefined && compareSources(previous, source) >= 0) {
      return reject('bad-source-range', `${at} is not after sources[${i - 1}] in (topic, partition) order`);
    }
    if (source.firstOffset > source.lastOffset) {
      return reject('bad-source-range', `${at} firstOffset ${source.firstOffset} is above lastOffset ${source.lastOffset}`);
    }
    const last = chain.lastSourceOffset(source.topic, source.partition);
    const expected = last === undefined ? 0 : last + 1;
    if (source.firstOffset !== expected) {
      return reject('bad-source-range', `${at} starts at ${source.firstOffset}, expected ${expected}`);
    }
    const skipped = skippedProblem(source);
    if (skipped !== undefined) return reject('bad-source-range', `${at} ${skipped}`);
  }
  return undefined;
};

/** Skipped offsets lie inside the range, strictly ascending. */
function skippedProblem({ firstOffset, lastOffset, skipped = [] }: SourceRange): string | undefined {
  let previous = firstOffset - 1;
  for (const { offset } of skipped) {
    if (offset <= previous) return `skipped offset ${offset} is not above ${previous === firstOffset - 1 ? 'firstOffset - 1' : previous}`;
    if (offset > lastOffset) return `skipped offset ${offset} is above lastOffset ${lastOffset}`;
    previous = offset;
  }
  return undefined;
}

// After extendsTip, which accepts the genesis constant on an empty chain by identity alone.
const RULES_AFTER_GENESIS: readonly Rule[] = [
  versionNotBelowTip,
  timestampNotBeforeTip,
  hashMatches,
  enoughWork,
  minerSignature,
  transactionCount,
  merkleRootMatches,
  coinbaseFirst,
  userTransactions,
  uniqueTransactions,
  ledgerRules,
  sourceRangesContinue,
];

/** The first rule the block breaks, or undefined when it may extend the chain. */
export function checkBlockRules(
  block: Block,
  chain: ChainView,
  params: ConsensusParams,
  decoded: DecodingByProducts = {},
): Rejection | undefined {
  const linkage = extendsTip(block, chain, params, decoded);
  if (linkage !== undefined || chain.tipBlock === undefined) return linkage;
  for (const rule of RULES_AFTER_GENESIS) {
    const rejection = rule(block, chain, params, decoded);
    if (rejection !== undefined) return rejection;
  }
  return undefined;
}
