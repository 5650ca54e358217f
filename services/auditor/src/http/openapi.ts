/**
 * The auditor's OpenAPI 3.1 document, built from the same constants the handlers use. Served at
 * /openapi.json and committed at services/auditor/openapi.json (a test keeps the two equal; regenerate
 * with `npm run openapi -w @chainlog/auditor`).
 */
import {
  AUDITOR_ROUTES,
  openApiPath,
  type AccountView,
  type AuditReportView,
  type AuditResponse,
  type BlockHeaderResponse,
  type BlockPage,
  type BlockResponse,
  type BlockSummaryView,
  type CommitLagView,
  type CommitRateView,
  type CommittedTransactionView,
  type CoverageAnomalyView,
  type DroppedTransactionView,
  type ErrorDetail,
  type HeadResponse,
  type HeadView,
  type HistoryEntryView,
  type LiveView,
  type OverdraftView,
  type OverdrawnAccountView,
  type PendingTransactionView,
  type RejectedBlockView,
  type SealedHeader,
  type UnknownTransactionView,
} from '@chainlog/core/api';
import { objectSchema } from '@chainlog/core/http';
import {
  ACCOUNT_ID_MAX_LENGTH,
  ACCOUNT_ID_PATTERN,
  REJECTION_REASONS,
  SKIP_REASONS,
  type Block,
  type InclusionProof,
  type SkippedRecord,
  type SourceRange,
  type Transaction,
} from '@chainlog/core/protocol';
import { PAGE_LIMIT_DEFAULT, PAGE_LIMIT_MAX } from './params.js';
import { AUDIT_LIMIT_DEFAULT, AUDIT_LIMIT_MAX } from './routes.js';

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const hash = { type: 'string', pattern: '^[0-9a-f]{64}$' };
const nonNegative = { type: 'integer', minimum: 0 };
const json = (schema: object, description: string) => ({ description, content: { 'application/json': { schema } } });
const errorResponse = (description: string) => json(ref('Error'), description);
/** A 503 body: `{ error: { code, message, ...fields } }`, every field required, nothing else. */
const retryableError = (code: string, fields: Record<string, object>) => ({
  type: 'object',
  required: ['error'],
  additionalProperties: false,
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message', ...Object.keys(fields)],
      additionalProperties: false,
      properties: { code: { const: code }, message: { type: 'string' }, ...fields },
    },
  },
});
/** 503 index-building (routes.ts): the back-fill after a start from a checkpoint has not reached this yet. */
const indexBuilding = (what: string) => ({
  ...json(ref('IndexBuilding'), `${what} The auditor started from a checkpoint and is still back-filling its index from genesis; retry after Retry-After seconds.`),
  headers: retryAfter,
});
const retryAfter = { 'Retry-After': { description: 'Seconds to wait before asking again.', schema: { type: 'integer', minimum: 1 } } };
/** 503 on a transaction lookup that found nothing but cannot rule the id out yet (routes.ts, domain/not-found-answer.ts). */
const transactionNotDecided = {
  ...json(
    { oneOf: [ref('IndexBuilding'), ref('PendingCatchingUp'), ref('PendingUntracked')] },
    'Not found, but not known to be absent, so the auditor does not say unknown; retry after Retry-After seconds. ' +
      '`index-building`: it may be committed in a block the back-fill has not indexed yet. ' +
      '`pending-catching-up`: it may be in a record of the transactions topic the auditor has not read yet (the auditor waits ' +
      'a moment for its transactions follower to read up to the end offsets fetched after the request arrived, then answers this ' +
      'if it could not, or if the broker did not answer). `pending-untracked`: more transactions are pending than PENDING_TRACK_LIMIT ' +
      'indexes, and it may be one of those.',
  ),
  headers: retryAfter,
};
const pageParameters = [
  {
    name: 'from',
    in: 'query',
    description: 'First item of the page (0-based).',
    schema: { type: 'integer', minimum: 0, default: 0 },
  },
  {
    name: 'limit',
    in: 'query',
    description: `Items per page, at most ${PAGE_LIMIT_MAX}.`,
    schema: { type: 'integer', minimum: 1, maximum: PAGE_LIMIT_MAX, default: PAGE_LIMIT_DEFAULT },
  },
];

/** A GET of one canonical block by its index (`/v1/blocks/:index...`). */
const blockOperation = (operationId: string, summary: string, found: object) => ({
  get: {
    operationId,
    summary,
    parameters: [{ name: 'index', in: 'path', required: true, schema: nonNegative }],
    responses: {
      '200': found,
      '400': errorResponse('The index is not a non-negative integer'),
      '404': errorResponse('No such block'),
      '503': indexBuilding('The block is below the head but not indexed yet.'),
    },
  },
});

const orderParameter = {
  name: 'order',
  in: 'query',
  description: '`asc` (the default) lists upwards from `from`; `desc` lists downwards from `from`, newest first, and `from` defaults to the newest.',
  schema: { type: 'string', enum: ['asc', 'desc'], default: 'asc' },
};

// Each schema is type-checked against the response type it documents (@chainlog/core/api): objectSchema<T>
// refuses a property T does not have and misses none T has.
const headProperties = {
  height: { type: 'integer', minimum: -1, description: 'Index of the head block; -1 before genesis.' },
  hash: { oneOf: [hash, { type: 'null' }] },
  timestamp: { type: ['integer', 'null'] },
  offset: { type: ['integer', 'null'], description: 'Blockchain-topic offset of the head block.' },
  transactionCount: { ...nonNegative, description: 'Committed transactions, coinbases included.' },
};
const caughtUp = { type: 'boolean', description: 'Every blockchain message up to the last known end offset is applied.' };
const blockOffset = { ...nonNegative, description: 'Offset of the block on the blockchain topic.' };
const confirmations = { type: 'integer', minimum: 1, description: '1 for the head, +1 per block above it.' };
const publicKey = { type: 'string', pattern: '^[0-9a-f]{64}$' };
const signature = { type: 'string', pattern: '^[0-9a-f]{128}$' };
const headerProperties = {
  index: nonNegative,
  timestamp: nonNegative,
  previousHash: hash,
  merkleRoot: hash,
  miner: { type: 'string' },
  difficulty: nonNegative,
  sources: { type: 'array', items: ref('SourceRange') },
  minerPublicKey: publicKey,
  version: { type: 'integer', minimum: 2, description: 'Protocol version; absent means 1 (docs/protocol.md §3.10).' },
};

const schemas = {
  Error: objectSchema<{ error: ErrorDetail }>({
    error: {
      ...objectSchema<ErrorDetail>(
        {
          code: { type: 'string', examples: ['bad-parameter', 'unknown-parameter', 'not-found'] },
          message: { type: 'string' },
          parameter: { type: 'string', description: 'The offending parameter (code bad-parameter).' },
        },
        { optional: ['parameter'] },
      ),
      // Errors may name more (the account, the index) than the fields every error has.
      additionalProperties: true,
    },
  }),
  IndexBuilding: retryableError('index-building', {
    height: { type: 'integer', minimum: -1, description: 'Highest block indexed.' },
    contiguousHeight: { type: 'integer', minimum: -1, description: 'Every block from genesis to this one is indexed (-1: not even genesis yet).' },
    missingBlocks: { type: 'integer', minimum: 0, description: 'Blocks below the highest not indexed yet.' },
    ledgerHeight: { type: 'integer', minimum: -1, description: 'The last block balances and histories include.' },
  }),
  PendingCatchingUp: retryableError('pending-catching-up', {
    partitionsBehind: { ...nonNegative, description: 'Transactions partitions not read up to their end offsets in time (0: the end offsets could not be fetched).' },
    recordsBehind: { ...nonNegative, description: 'Records of those partitions not read yet.' },
  }),
  PendingUntracked: retryableError('pending-untracked', {
    untrackedPending: { type: 'integer', minimum: 1, description: 'Pending transactions beyond PENDING_TRACK_LIMIT, whose ids a lookup cannot find.' },
  }),
  Amount: {
    description: 'A ledger amount in minor units: a JSON integer, or a decimal string when beyond ±(2^53 - 1).',
    oneOf: [{ type: 'integer' }, { type: 'string', pattern: '^-?[0-9]+$' }],
  },
  RejectionReason: { type: 'string', enum: [...REJECTION_REASONS] },
  Transaction: objectSchema<Transaction>(
    {
      id: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      amount: { type: 'integer', minimum: 1 },
      timestamp: { ...nonNegative, description: 'Milliseconds since the Unix epoch.' },
      publicKey,
      signature,
    },
    { optional: ['publicKey', 'signature'], closed: true },
  ),
  SkippedRecord: objectSchema<SkippedRecord>({ offset: nonNegative, reason: { type: 'string', enum: [...SKIP_REASONS] } }, { closed: true }),
  SourceRange: objectSchema<SourceRange>(
    {
      topic: { type: 'string' },
      partition: nonNegative,
      firstOffset: nonNegative,
      lastOffset: nonNegative,
      skipped: { type: 'array', items: ref('SkippedRecord'), description: 'Records of the range that are not transactions of the block, and why.' },
    },
    { optional: ['skipped'], closed: true },
  ),
  Block: objectSchema<Block>(
    { ...headerProperties, transactions: { type: 'array', items: ref('Transaction') }, nonce: nonNegative, signature, hash },
    { description: 'A block exactly as on the blockchain topic (see docs/protocol.md).', optional: ['minerPublicKey', 'signature', 'version'], closed: true },
  ),
  Head: objectSchema<HeadResponse>({
    ...headProperties,
    caughtUp,
    appliedOffset: { type: 'integer', minimum: -1, description: 'Last blockchain-topic offset applied.' },
  }),
  BlockResponse: objectSchema<BlockResponse>({ offset: blockOffset, confirmations, block: ref('Block') }),
  BlockSummary: objectSchema<BlockSummaryView>({
    index: nonNegative,
    hash,
    previousHash: hash,
    merkleRoot: hash,
    miner: { type: 'string' },
    difficulty: nonNegative,
    offset: nonNegative,
    timestamp: nonNegative,
    transactionCount: nonNegative,
  }),
  BlockHeaderResponse: objectSchema<BlockHeaderResponse>({
    offset: blockOffset,
    confirmations,
    transactionCount: nonNegative,
    header: objectSchema<SealedHeader>(
      { ...headerProperties, nonce: nonNegative, hash, signature },
      {
        description: 'Every field of the block but its transactions: what its hash, proof of work and signature are checked from.',
        optional: ['minerPublicKey', 'signature', 'version'],
      },
    ),
  }),
  CommitLag: objectSchema<CommitLagView>({
    partition: nonNegative,
    pending: nonNegative,
    oldestAgeSeconds: { type: 'number', minimum: 0 },
    oldestTimestamp: { type: ['integer', 'null'] },
  }),
  LiveView: objectSchema<LiveView>(
    {
      head: objectSchema<LiveView['head']>({ ...headProperties, caughtUp }),
      commitRate: objectSchema<CommitRateView>({
        transactionsPerSecond: { type: 'number', minimum: 0, description: 'User transactions (coinbases excluded).' },
        blocksPerMinute: { type: 'number', minimum: 0 },
        windowSeconds: { type: 'number' },
      }),
      commitLag: { type: 'array', items: ref('CommitLag') },
      rejectedTotal: nonNegative,
      at: { ...nonNegative, description: 'When the auditor computed this view (ms since the epoch).' },
    },
    { description: 'The live head the explorer shows: head, commit rate over the last minute (by block timestamps), commit lag per partition.' },
  ),
  BlockPage: objectSchema<BlockPage>({
    from: nonNegative,
    limit: { type: 'integer', minimum: 1 },
    order: { type: 'string', enum: ['asc', 'desc'] },
    height: { type: 'integer', minimum: -1 },
    next: { type: ['integer', 'null'], description: '`from` of the next page; null on the last page.' },
    blocks: { type: 'array', items: ref('BlockSummary') },
  }),
  InclusionProof: objectSchema<InclusionProof>(
    { leafIndex: nonNegative, treeSize: { type: 'integer', minimum: 1 }, path: { type: 'array', items: hash } },
    { description: 'RFC 6962 audit path of the transaction in the block\'s Merkle tree (leaf data: SHA-256 of the transaction\'s canonical JSON).' },
  ),
  CommittedTransaction: objectSchema<CommittedTransactionView>({
    status: { const: 'committed' },
    transactionId: { type: 'string' },
    blockIndex: nonNegative,
    position: { ...nonNegative, description: 'Index in the block\'s transactions (0 is the coinbase) = proof.leafIndex.' },
    blockHash: hash,
    confirmations: { type: 'integer', minimum: 1 },
    transaction: ref('Transaction'),
    proof: ref('InclusionProof'),
    merkleRoot: hash,
  }),
  PendingTransaction: objectSchema<PendingTransactionView>({
    status: { const: 'pending' },
    transactionId: { type: 'string' },
    partition: nonNegative,
    offset: nonNegative,
    enqueuedAt: {
      type: ['string', 'null'],
      format: 'date-time',
      description: 'Kafka record timestamp of the message; null when it is beyond the representable date range.',
    },
  }),
  DroppedTransaction: objectSchema<DroppedTransactionView>(
    {
      status: { const: 'dropped' },
      transactionId: { type: 'string' },
      partition: nonNegative,
      offset: nonNegative,
      reason: { type: 'string', enum: [...SKIP_REASONS], description: 'Why: the reason the block lists for the offset (refused: unauthorized, insufficient-funds, …).' },
    },
    {
      description: 'Refused, for good: a block consumed the message without including the transaction, for `reason`.',
      optional: ['reason'],
    },
  ),
  UnknownTransaction: objectSchema<UnknownTransactionView>({
    status: { const: 'unknown' },
    transactionId: { type: 'string' },
    error: ref('Error/properties/error'),
  }),
  HistoryEntry: objectSchema<HistoryEntryView>({
    transactionId: { type: 'string' },
    blockIndex: nonNegative,
    position: nonNegative,
    timestamp: nonNegative,
    direction: { enum: ['credit', 'debit', 'self'] },
    counterparty: { type: 'string', description: 'The other account ("0" for a coinbase).' },
    amount: { type: 'integer', minimum: 1 },
    coinbase: { type: 'boolean' },
  }),
  Account: objectSchema<AccountView>({
    account: { type: 'string' },
    balance: ref('Amount'),
    overdrawn: { type: 'boolean', description: 'The balance is below zero (allowed by the protocol, flagged); never for "0", the mint.' },
    overdrafts: { ...nonNegative, description: 'Transactions of this account that spent more than its balance at the time.' },
    transactionCount: nonNegative,
    from: nonNegative,
    limit: { type: 'integer', minimum: 1 },
    next: { type: ['integer', 'null'] },
    history: { type: 'array', items: ref('HistoryEntry'), description: 'Oldest first.' },
  }),
  RejectedBlock: objectSchema<RejectedBlockView>({
    offset: { ...nonNegative, description: 'Offset of the message on the blockchain topic.' },
    reason: ref('RejectionReason'),
    detail: { type: 'string' },
    claimedIndex: { type: ['integer', 'null'] },
    claimedMiner: { type: ['string', 'null'] },
    chainHeight: { type: 'integer', minimum: -1, description: 'Canonical height when the message was read.' },
    canonicalHashAtIndex: { oneOf: [hash, { type: 'null' }], description: 'stale/fork: the canonical block at the claimed index.' },
    observedAt: { type: 'string', format: 'date-time' },
  }),
  CoverageAnomaly: objectSchema<CoverageAnomalyView>(
    {
      offset: { ...nonNegative, description: 'Offset of the block\'s message on the blockchain topic.' },
      claimedIndex: nonNegative,
      claimedMiner: { type: 'string' },
      partition: nonNegative,
      claimedThrough: { ...nonNegative, description: 'The offset through which the block claims the partition, past its end.' },
      detail: { type: 'string' },
      observedAt: { type: 'string', format: 'date-time' },
    },
    {
      description:
        'A block that claims transactions-topic offsets past the end of a partition (an honest miner never does): every reader waits on it, so the chain stops there until records exist.',
    },
  ),
  Overdraft: objectSchema<OverdraftView>({
    account: { type: 'string' },
    transactionId: { type: 'string' },
    blockIndex: nonNegative,
    position: nonNegative,
    amount: { type: 'integer', minimum: 1 },
    balanceBefore: ref('Amount'),
    balanceAfter: ref('Amount'),
  }),
  AuditReport: objectSchema<AuditResponse>({
    chain: objectSchema<HeadView>(headProperties),
    rejected: objectSchema<AuditReportView['rejected']>({
      total: nonNegative,
      byReason: {
        type: 'object',
        required: [...REJECTION_REASONS],
        properties: Object.fromEntries(REJECTION_REASONS.map((reason) => [reason, nonNegative])),
        additionalProperties: false,
      },
      recent: { type: 'array', items: ref('RejectedBlock'), description: 'Newest first.' },
    }),
    forks: objectSchema<AuditReportView['forks']>({
      total: nonNegative,
      recent: { type: 'array', items: ref('RejectedBlock'), description: 'stale and fork rejections, newest first.' },
    }),
    commitLag: { type: 'array', items: ref('CommitLag') },
    anomalies: objectSchema<AuditReportView['anomalies']>({
      total: nonNegative,
      recent: { type: 'array', items: ref('CoverageAnomaly'), description: 'Source-coverage anomalies, newest first.' },
    }),
    overdrafts: objectSchema<AuditReportView['overdrafts']>({
      total: nonNegative,
      overdrawnAccountCount: nonNegative,
      overdrawnAccounts: {
        type: 'array',
        description: 'Accounts below zero now, most negative first.',
        items: objectSchema<OverdrawnAccountView>({ account: { type: 'string' }, balance: ref('Amount'), overdrafts: nonNegative }),
      },
      recent: { type: 'array', items: ref('Overdraft'), description: 'Newest first.' },
    }),
    caughtUp: { type: 'boolean' },
  }),
};

export function buildOpenApiDocument(): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://spec.openapis.org/oas/3.1/dialect/base',
    info: {
      title: 'Chainlog auditor',
      version: '1',
      description:
        'Queries over the canonical chain the auditor rebuilds and validates from the blockchain topic: blocks, ' +
        'transaction status with RFC 6962 inclusion proofs, balances, and the audit report (rejected blocks, forks, ' +
        'commit lag, overdrafts). Every error is JSON. A query parameter a route does not declare, or one given twice ' +
        'or in bracket form, is refused with 400 (unknown-parameter, bad-parameter); integers are canonical decimals ' +
        '(/v1/blocks/00001 is refused, not read as block 1).',
    },
    paths: {
      [openApiPath(AUDITOR_ROUTES.head)]: {
        get: {
          operationId: 'getHead',
          summary: 'The head of the canonical chain',
          responses: { '200': json(ref('Head'), 'The head'), '400': errorResponse('A query parameter (this route takes none)') },
        },
      },
      [openApiPath(AUDITOR_ROUTES.blocks)]: {
        get: {
          operationId: 'listBlocks',
          summary: 'Blocks of the canonical chain, by index (bounded work per page whatever the chain\'s length)',
          parameters: [...pageParameters, orderParameter],
          responses: {
            '200': json(ref('BlockPage'), 'A page of block summaries'),
            '400': errorResponse('A bad paging parameter'),
            '503': indexBuilding('A block of the page is not indexed yet.'),
          },
        },
      },
      [openApiPath(AUDITOR_ROUTES.block)]: blockOperation('getBlock', 'One block of the canonical chain', json(ref('BlockResponse'), 'The block')),
      [openApiPath(AUDITOR_ROUTES.blockHeader)]: blockOperation(
        'getBlockHeader',
        'One block\'s header, nonce, hash and signature, without its transactions',
        json(ref('BlockHeaderResponse'), 'The header'),
      ),
      [openApiPath(AUDITOR_ROUTES.live)]: {
        get: { operationId: 'getLive', summary: 'The live head, commit rate and commit lag (poll it, or stream /v1/chain/events)', responses: { '200': json(ref('LiveView'), 'The live view'), '400': errorResponse('A query parameter (this route takes none)') } },
      },
      [openApiPath(AUDITOR_ROUTES.events)]: {
        get: {
          operationId: 'streamLive',
          summary: 'Server-sent events: `event: live` with a LiveView when the head changes, and every 2 s otherwise',
          responses: {
            '200': { description: 'An event stream', content: { 'text/event-stream': { schema: { type: 'string' } } } },
            '400': errorResponse('A query parameter (this route takes none)'),
            '503': errorResponse('Too many open streams (LIVE_STREAM_LIMIT): poll /v1/chain/live instead'),
          },
        },
      },
      [openApiPath(AUDITOR_ROUTES.transaction)]: {
        get: {
          operationId: 'getTransaction',
          summary: 'Status of a transaction, with an inclusion proof once committed',
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
          responses: {
            '200': json(
              { oneOf: [ref('CommittedTransaction'), ref('PendingTransaction'), ref('DroppedTransaction')] },
              'Committed, pending (read from the transactions topic, not yet in a block) or dropped',
            ),
            '400': errorResponse('A query parameter (this route takes none)'),
            '404': json(
              ref('UnknownTransaction'),
              'Neither committed, pending nor dropped: the index is complete and the auditor has read every record that was on the transactions topic when the request arrived (read-your-writes), so a transaction acknowledged by ingest before this request is never unknown.',
            ),
            '503': transactionNotDecided,
          },
        },
      },
      [openApiPath(AUDITOR_ROUTES.account)]: {
        get: {
          operationId: 'getAccount',
          summary: 'Balance and paged history of an account',
          parameters: [
            {
              name: 'id',
              in: 'path',
              required: true,
              schema: { type: 'string', minLength: 1, maxLength: ACCOUNT_ID_MAX_LENGTH, pattern: ACCOUNT_ID_PATTERN },
            },
            ...pageParameters,
            orderParameter,
          ],
          responses: {
            '200': json(ref('Account'), 'The account'),
            '400': errorResponse('A bad account id or paging parameter'),
            '404': errorResponse('No transaction of the canonical chain involves the account'),
            '503': indexBuilding('Balances and histories do not include every block yet.'),
          },
        },
      },
      [openApiPath(AUDITOR_ROUTES.audit)]: {
        get: {
          operationId: 'getAudit',
          summary: 'Rejected blocks, forks, commit lag per partition, source-coverage anomalies and overdrafts',
          parameters: [
            {
              name: 'limit',
              in: 'query',
              description: 'Most recent items per list.',
              schema: { type: 'integer', minimum: 1, maximum: AUDIT_LIMIT_MAX, default: AUDIT_LIMIT_DEFAULT },
            },
          ],
          responses: { '200': json(ref('AuditReport'), 'The audit report'), '400': errorResponse('A bad limit') },
        },
      },
      '/healthz': { get: { operationId: 'health', summary: 'Liveness', responses: { '200': { description: 'The process is up' } } } },
      '/readyz': {
        get: {
          operationId: 'ready',
          summary: 'Readiness: caught up with the blockchain topic',
          responses: { '200': { description: 'Caught up' }, '503': { description: 'Still catching up, or the follower failed' } },
        },
      },
      '/metrics': { get: { operationId: 'metrics', summary: 'Prometheus metrics', responses: { '200': { description: 'Text exposition format' } } } },
      [AUDITOR_ROUTES.openapi]: {
        get: { operationId: 'openapi', summary: 'This document', responses: { '200': { description: 'OpenAPI 3.1' }, '400': errorResponse('A query parameter (this route takes none)') } },
      },
    },
    components: { schemas },
  };
}
