// The OpenAPI 3.1 document of the ingest API, generated from the protocol's TRANSACTION_INPUT_SCHEMA so
// that the transaction's shape has one source of truth. services/ingest/openapi.json is this document
// for the default limits (`npm run openapi -w @chainlog/ingest` rewrites it; a test compares them).
import { INGEST_ROUTES } from '@chainlog/core/api';
import { TRANSACTION_ID_MAX_LENGTH, TRANSACTION_ID_PATTERN, TRANSACTION_INPUT_SCHEMA } from '@chainlog/core/protocol';
import { IDEMPOTENCY_KEY_MAX_LENGTH } from '../domain/ids.js';

export interface OpenApiLimits {
  maxBatchSize: number;
  maxBodyBytes: number;
}

type JsonObject = { [key: string]: unknown };

const ref = (name: string): JsonObject => ({ $ref: `#/components/schemas/${name}` });

function errorResponse(description: string, codes: string[], headers?: JsonObject): JsonObject {
  return {
    description: `${description} Error codes: ${codes.map((code) => `\`${code}\``).join(', ')}.`,
    ...(headers ? { headers } : {}),
    content: { 'application/json': { schema: ref('Error') } },
  };
}

/** The schema without `$schema`: OpenAPI 3.1 schema objects use the document's dialect (a superset of 2020-12). */
function transactionInputSchema(): JsonObject {
  const copy = JSON.parse(JSON.stringify(TRANSACTION_INPUT_SCHEMA)) as JsonObject;
  delete copy.$schema;
  return copy;
}

export function buildOpenApiDocument(limits: OpenApiLimits): JsonObject {
  const retryAfter = {
    'Retry-After': { description: 'Seconds to wait before retrying.', schema: { type: 'integer', minimum: 1 } },
  };
  const requestId = {
    'X-Request-Id': { description: 'The request id (echoed, or generated), also in every log line of the request.', schema: { type: 'string' } },
  };
  return {
    openapi: '3.1.0',
    info: {
      title: 'Chainlog ingest API',
      version: '1.0.0',
      description:
        'The front door of the Chainlog ledger: validates transactions and appends them to the transactions topic ' +
        '(partitioned by sender). A 202 means Kafka acknowledged the write (acks from all in-sync replicas); the ' +
        "transaction's commit status is then queried at its statusUrl (the auditor). Every produced transaction " +
        'carries an id; the chain never records an id twice, so retrying a request with the same ids or the same ' +
        'Idempotency-Key is safe.',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    paths: {
      [INGEST_ROUTES.transactions]: {
        post: {
          operationId: 'submitTransactions',
          summary: 'Submit one transaction or a batch',
          description:
            `A JSON object (one transaction) or a JSON array of 1..${limits.maxBatchSize} transactions; the body is at most ` +
            `${limits.maxBodyBytes} bytes. A batch is all or nothing: one invalid item rejects the whole batch, naming ` +
            "the item's index, and nothing of it is written. Ingest completes each transaction: the id is the client's " +
            '`id`, else derived from the Idempotency-Key header and the sender (`<key>.<tag>` for one transaction, ' +
            '`<key>-<index>.<tag>` in a batch, tag = 16 hex digits of SHA-256 over sender and key), else a random UUID; ' +
            "a missing timestamp is ingest's clock. Transactions with publicKey and signature must carry a valid signature. " +
            'A request whose every id was accepted before with the same content is answered with the first answer ' +
            '(header Idempotent-Replayed: true) and not written again; an id accepted with other content gets 409.',
          parameters: [
            {
              name: 'Idempotency-Key',
              in: 'header',
              required: false,
              description:
                'Names the transactions that carry no id, so that a retry names the same ones; scoped to each ' +
                "transaction's sender, so another sender's key never names them. The derived ids " +
                `(\`<key>.<tag>\` or \`<key>-<index>.<tag>\`) must be valid transaction ids (at most ${TRANSACTION_ID_MAX_LENGTH} characters).`,
              schema: { type: 'string', minLength: 1, maxLength: IDEMPOTENCY_KEY_MAX_LENGTH, pattern: TRANSACTION_ID_PATTERN },
            },
            {
              name: 'X-Request-Id',
              in: 'header',
              required: false,
              description: 'Correlates logs; generated when absent. One that does not match the pattern gets 400 invalid-request-id.',
              schema: { type: 'string', pattern: '^[\\w.-]{1,128}$' },
            },
          ],
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: { oneOf: [ref('TransactionInput'), ref('TransactionBatch')] },
                examples: {
                  minimal: { value: { from: 'alice', to: 'bob', amount: 3 } },
                  batch: {
                    value: [
                      { id: 'order-17', from: 'alice', to: 'bob', amount: 3 },
                      { from: 'carol', to: 'alice', amount: 250, timestamp: 1767225600000 },
                    ],
                  },
                },
              },
            },
          },
          responses: {
            '202': {
              description:
                'Kafka acknowledged every transaction. One transaction is answered with an object (and a Location ' +
                'header naming its statusUrl), a batch with a list in request order.',
              headers: {
                Location: { description: 'The statusUrl of a single transaction.', schema: { type: 'string', format: 'uri' } },
                'Idempotent-Replayed': {
                  description: 'true when every transaction was accepted before with the same content: the first answer, nothing written again.',
                  schema: { type: 'string', enum: ['true'] },
                },
                ...requestId,
              },
              content: { 'application/json': { schema: { oneOf: [ref('AcceptedTransaction'), ref('AcceptedBatch')] } } },
            },
            '400': errorResponse('The body or a transaction is invalid; `field`, `problem` and, in a batch, `index` say where.', [
              'malformed-json',
              'invalid-transaction',
              'empty-batch',
              'invalid-idempotency-key',
              'invalid-signature',
              'signature-required',
              'timestamp-out-of-window',
              'unknown-parameter',
              'invalid-request-id',
            ]),
            '403': errorResponse(
              'Ledger rules are on (ENFORCE_BALANCES, docs/protocol.md §4.4) and the transaction may not spend from its ' +
                'sender: it is unsigned, or signed by a key not bound to `from` (a key account is bound to the key it ' +
                'names, a named account to its ACCOUNT_KEYS). Every block would refuse it, so nothing is written. ' +
                'Balances are not checked here (ingest does not follow the chain): an overdraft is accepted (202) and ' +
                "refused by the miner, whose refusal the auditor reports as the transaction's status (refused: insufficient-funds).",
              ['unauthorized'],
            ),
            '409': errorResponse(
              'An id (given, or derived from the Idempotency-Key) was already accepted with other content: the first ' +
                'transaction stands (idempotency-conflict, naming the key or id); or the same content is being accepted ' +
                'by a concurrent request (request-in-progress, with Retry-After).',
              ['idempotency-conflict', 'request-in-progress'],
            ),
            '413': errorResponse(`The body exceeds ${limits.maxBodyBytes} bytes or the batch ${limits.maxBatchSize} transactions.`, [
              'body-too-large',
              'batch-too-large',
            ]),
            '415': errorResponse('Only application/json (UTF-8) is accepted.', ['unsupported-media-type', 'unsupported-encoding']),
            '429': errorResponse(
              'This client sent more than its rate (RATE_LIMIT_PER_SECOND, with a burst) or holds its share of the ' +
                'in-flight requests (MAX_INFLIGHT_PER_CLIENT): slow down; Retry-After says when to try again.',
              ['rate-limited'],
              retryAfter,
            ),
            '503': errorResponse(
              'Kafka cannot take writes (answered at once while the topic or the producer is unavailable) or did not ' +
                'acknowledge in time, ingest is at its in-flight limit, or it is shutting down. The outcome ' +
                'of a kafka-unavailable answer after a send is unknown: retry with the same ids or Idempotency-Key. ' +
                'mining-backlog (chains with a replay window): mining is behind on the partition the transaction goes to ' +
                '(its oldest unmined transaction is older than MINING_BACKLOG_LIMIT_MS), and a transaction accepted now ' +
                'could wait past the window and be dropped; nothing was written.',
              ['kafka-unavailable', 'overloaded', 'shutting-down', 'mining-backlog'],
              retryAfter,
            ),
          },
        },
      },
      '/healthz': {
        get: {
          operationId: 'health',
          summary: 'Liveness: the process is running',
          responses: { '200': { description: 'Alive.', content: { 'application/json': { schema: ref('Status') } } } },
        },
      },
      '/readyz': {
        get: {
          operationId: 'readiness',
          summary: 'Readiness: connected to Kafka and the transactions topic exists',
          responses: {
            '200': { description: 'Ready.', content: { 'application/json': { schema: ref('Readiness') } } },
            '503': { description: 'Not ready; `reason` says why.', content: { 'application/json': { schema: ref('Readiness') } } },
          },
        },
      },
      '/metrics': {
        get: {
          operationId: 'metrics',
          summary: 'Prometheus metrics',
          responses: { '200': { description: 'Prometheus text exposition format.', content: { 'text/plain': { schema: { type: 'string' } } } } },
        },
      },
      '/openapi.json': {
        get: {
          operationId: 'openapi',
          summary: "This document, with the running instance's limits",
          responses: { '200': { description: 'OpenAPI 3.1 document.', content: { 'application/json': { schema: { type: 'object' } } } } },
        },
      },
    },
    components: {
      schemas: {
        TransactionInput: transactionInputSchema(),
        TransactionBatch: {
          title: 'TransactionBatch',
          type: 'array',
          minItems: 1,
          maxItems: limits.maxBatchSize,
          items: ref('TransactionInput'),
        },
        AcceptedTransaction: {
          title: 'AcceptedTransaction',
          type: 'object',
          additionalProperties: false,
          required: ['id', 'partition', 'offset', 'statusUrl'],
          properties: {
            id: { type: 'string', description: 'The transaction id (given, derived from the Idempotency-Key, or random).' },
            partition: { type: 'integer', minimum: 0, description: 'Partition of the transactions topic (murmur2 of `from`).' },
            offset: { type: 'integer', minimum: 0, description: 'Offset of the message in that partition.' },
            statusUrl: { type: 'string', format: 'uri', description: "The auditor's status endpoint for this transaction." },
          },
        },
        AcceptedBatch: {
          title: 'AcceptedBatch',
          type: 'object',
          additionalProperties: false,
          required: ['transactions'],
          properties: { transactions: { type: 'array', items: ref('AcceptedTransaction') } },
        },
        Error: {
          title: 'Error',
          type: 'object',
          required: ['error'],
          properties: {
            error: {
              type: 'object',
              required: ['code', 'message'],
              properties: {
                code: { type: 'string', description: 'Stable, machine-readable error code.' },
                message: { type: 'string', description: 'Human-readable explanation.' },
                field: { type: 'string', description: 'The offending field (`amount`, `$` for the whole transaction or body, or a header name).' },
                problem: { type: 'string', description: 'What is wrong with the field.' },
                index: { type: 'integer', minimum: 0, description: 'Position of the offending transaction in a batch.' },
                partitions: {
                  type: 'array',
                  items: { type: 'integer', minimum: 0 },
                  description: 'mining-backlog: the transactions partitions mining is behind on.',
                },
              },
            },
          },
        },
        Status: { type: 'object', required: ['status'], properties: { status: { type: 'string' } } },
        Readiness: {
          type: 'object',
          required: ['status'],
          properties: {
            status: { enum: ['ready', 'not-ready'] },
            topic: { type: 'string' },
            partitions: { type: 'integer' },
            reason: { type: 'string' },
          },
        },
      },
    },
  };
}

/** The committed file's exact text. */
export function renderOpenApiDocument(limits: OpenApiLimits): string {
  return `${JSON.stringify(buildOpenApiDocument(limits), null, 2)}\n`;
}
