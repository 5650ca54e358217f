/**
 * The transaction input as a JSON Schema (draft 2020-12): the single source of truth that ingest embeds in
 * its OpenAPI document. parseTransactionInput implements exactly this schema (a property test checks that
 * both agree), and adds readable problems.
 */
import {
  ACCOUNT_ID_MAX_LENGTH,
  ACCOUNT_ID_PATTERN,
  COINBASE_SENDER,
  TRANSACTION_ID_MAX_LENGTH,
  TRANSACTION_ID_PATTERN,
} from './identifiers.js';
import { PUBLIC_KEY_HEX_PATTERN, SIGNATURE_HEX_PATTERN } from './signatures.js';

const account = {
  type: 'string',
  minLength: 1,
  maxLength: ACCOUNT_ID_MAX_LENGTH,
  pattern: ACCOUNT_ID_PATTERN,
} as const;

export const TRANSACTION_INPUT_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  title: 'TransactionInput',
  description:
    'A transfer of `amount` minor units from `from` to `to`. The minimal form has only from, to and amount; ' +
    'a missing id is derived from the Kafka position (tx:<topic>:<partition>:<offset>) and a missing timestamp ' +
    'is the Kafka record timestamp. A signature covers the canonical JSON (RFC 8785) of the transaction ' +
    'without `signature`, so a signed transaction must carry its id and timestamp.',
  type: 'object',
  additionalProperties: false,
  required: ['from', 'to', 'amount'],
  properties: {
    id: {
      description: 'Client-chosen unique id. Colons are reserved for ids the ledger derives.',
      type: 'string',
      minLength: 1,
      maxLength: TRANSACTION_ID_MAX_LENGTH,
      pattern: TRANSACTION_ID_PATTERN,
    },
    from: {
      ...account,
      description: `Sending account. "${COINBASE_SENDER}" is reserved for block rewards.`,
      not: { const: COINBASE_SENDER },
    },
    to: { ...account, description: 'Receiving account.' },
    amount: {
      description: 'Positive integer number of minor units (no fractions).',
      type: 'integer',
      minimum: 1,
      maximum: Number.MAX_SAFE_INTEGER,
    },
    timestamp: {
      description: 'Milliseconds since the Unix epoch.',
      type: 'integer',
      minimum: 0,
      maximum: Number.MAX_SAFE_INTEGER,
    },
    publicKey: {
      description: 'Raw 32-byte Ed25519 public key, lowercase hex.',
      type: 'string',
      pattern: PUBLIC_KEY_HEX_PATTERN,
    },
    signature: {
      description: 'Ed25519 signature (64 bytes, lowercase hex) over the canonical JSON of the transaction without `signature`.',
      type: 'string',
      pattern: SIGNATURE_HEX_PATTERN,
    },
  },
  dependentRequired: {
    signature: ['publicKey', 'id', 'timestamp'],
    publicKey: ['signature'],
  },
} as const;
