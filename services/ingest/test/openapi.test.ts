// The committed OpenAPI document is the one the code generates from TRANSACTION_INPUT_SCHEMA, and its
// schemas are valid JSON Schema 2020-12 that agree with the protocol's validator.
import { readFileSync } from 'node:fs';
import { parseTransactionInput } from '@chainlog/core/protocol';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../src/config.js';
import { buildOpenApiDocument, renderOpenApiDocument } from '../src/http/openapi.js';

const committedPath = new URL('../openapi.json', import.meta.url);

describe('openapi.json', () => {
  it('is up to date (regenerate with `npm run openapi -w @chainlog/ingest`)', () => {
    expect(readFileSync(committedPath, 'utf8')).toBe(renderOpenApiDocument(DEFAULT_LIMITS));
  });

  it('is an OpenAPI 3.1 document whose references all resolve', () => {
    const document = buildOpenApiDocument(DEFAULT_LIMITS) as { openapi: string; components: { schemas: Record<string, unknown> } };
    expect(document.openapi).toBe('3.1.0');
    const refs = JSON.stringify(document).match(/"\$ref":"[^"]+"/g) ?? [];
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) {
      const name = /#\/components\/schemas\/([^"]+)"/.exec(ref)?.[1];
      expect(name && document.components.schemas[name], ref).toBeDefined();
    }
  });

  it('describes a request body that accepts what the protocol accepts', () => {
    const document = buildOpenApiDocument({ maxBatchSize: 3, maxBodyBytes: 1024 }) as { components: { schemas: Record<string, object> } };
    const ajv = new Ajv2020({ strict: false });
    for (const [name, schema] of Object.entries(document.components.schemas)) ajv.addSchema(schema, `#/components/schemas/${name}`);
    const validate = (name: string, value: unknown): boolean => ajv.validate(`#/components/schemas/${name}`, value);
    const samples: unknown[] = [
      { from: 'alice', to: 'bob', amount: 3 },
      { from: 'alice', to: 'bob', amount: 3.5 },
      { from: '0', to: 'bob', amount: 3 },
      { from: 'alice', to: 'bob', amount: 3, extra: true },
      { id: 'a:b', from: 'alice', to: 'bob', amount: 3 },
      { from: 'alice', to: 'bob', amount: 3, signature: 'ab'.repeat(64) },
      { from: 'alice', amount: 3 },
    ];
    for (const sample of samples) expect(validate('TransactionInput', sample), JSON.stringify(sample)).toBe(parseTransactionInput(sample).ok);
    expect(validate('TransactionBatch', [])).toBe(false);
    expect(validate('TransactionBatch', [samples[0], samples[0], samples[0]])).toBe(true);
    expect(validate('TransactionBatch', [samples[0], samples[0], samples[0], samples[0]])).toBe(false);
  });
});
