/**
 * Chainlog's chain protocol: pure functions and an in-memory chain state, no I/O. docs/protocol.md is the
 * specification this code implements.
 */
export type { FieldError, Result } from './result.js';
export { canonicalJson, fromHex, toHex } from './encoding.js';
export {
  ACCOUNT_ID_MAX_LENGTH,
  ACCOUNT_ID_PATTERN,
  COINBASE_SENDER,
  coinbaseTransactionId,
  derivedIdPosition,
  derivedTransactionId,
  TRANSACTION_ID_MAX_LENGTH,
  TRANSACTION_ID_PATTERN,
  type SourcePosition,
} from './identifiers.js';
export { newSeed, signerFromPrivateKey, signerFromSeed, strictnessProblem, verifySignature, type Signer } from './signatures.js';
export { isIntegerNumberText, parseStrictJson, type StrictJsonResult } from './strict-json.js';
export {
  blockVersion,
  CURRENT_PROTOCOL_VERSION,
  CURRENT_RULES,
  LEGACY_PROTOCOL_VERSION,
  versionRules,
  type VersionRules,
} from './version.js';
export {
  canonicalTransactionJson,
  transactionHashOfJson,
  decodeTransactionInput,
  parseTransaction,
  parseTransactionInput,
  signTransaction,
  toTransaction,
  transactionHash,
  transactionIdOf,
  transactionSigningBytes,
  transactionSigningJson,
  verifyTransactionSignature,
  type Transaction,
  type TransactionInput,
} from './transaction.js';
export { TRANSACTION_INPUT_SCHEMA } from './transaction-schema.js';
export {
  inclusionProof,
  inclusionProofOfHashes,
  inclusionProofOfLevels,
  leafHash,
  merkleRoot,
  merkleRootOfHashes,
  merkleTreeLevels,
  verifyInclusionProof,
  type InclusionProof,
} from './merkle.js';
export {
  leadingZeroBits,
  MAX_DIFFICULTY,
  MAX_NONCE,
  meetsDifficulty,
  proofOfWorkHash,
  searchNonce,
} from './proof-of-work.js';
export { POW_KERNEL_SOURCE, ProofOfWorkHasher } from './hashing/proof-of-work-hasher.js';
export {
  admitRecord,
  isSkipReason,
  recordTransaction,
  SKIP_REASONS,
  type Admission,
  type Skip,
  type SkipReason,
  type SourceRecord,
} from './admission.js';
export {
  checkCoverage,
  finalSourceLog,
  type CoverageContext,
  type CoverageVerdict,
  type RecordVisitor,
  type RefusedRecord,
  type SourceLog,
} from './source-coverage.js';
export {
  blockHeader,
  computeBlockHash,
  headerDigest,
  type Block,
  type BlockHeader,
  type SkippedRecord,
  type SourceRange,
} from './block.js';
export { decodeBlock, encodeBlock, parseBlock, type BlockDecodeError, type BlockDecodeReason } from './block-codec.js';
export { coinbaseTransaction } from './coinbase.js';
export { GENESIS_BLOCK, GENESIS_HASH, ZERO_HASH } from './genesis.js';
export { assembleBlock, sealBlock, type AssembleBlockOptions, type CandidateBlock } from './assemble.js';
export {
  authorizationProblem,
  Balances,
  enforcesLedger,
  fundsProblem,
  isKeyAccount,
  ledgerRefusal,
  RunningBalances,
  type BalanceView,
  type LedgerParams,
} from './ledger.js';
export { REJECTION_REASONS, type ConsensusParams, type RejectionReason } from './consensus.js';
export { Chain, type ApplyResult, type ChainState, type ChainTip, type Evaluation, type SourceOffset } from './chain.js';
export { isWindowedTransactionId, RecentIds, replayWindowProblem, type RecentId } from './replay-window.js';
export {
  CHECKPOINT_FORMAT,
  CHECKPOINT_PART_BYTES,
  CHECKPOINT_PROBLEMS,
  consensusFingerprint,
  createCheckpoint,
  openCheckpoint,
  verifyCheckpoint,
  type CheckpointBody,
  type CheckpointManifest,
  type CheckpointProblem,
  type CheckpointTip,
  type EncodedCheckpoint,
  type Opened,
  type ReaderView,
} from './checkpoint.js';
