// The committed OpenAPI document is the generated one (regenerate: npm run openapi -w @chainlog/auditor).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { buildOpenApiDocument } from '../src/http/openapi.js';
import { openApiValidator } from './support/openapi-validator.js';

describe('openapi.json', () => {
  it('matches the document the service serves', () => {
    const committed = readFileSync(new URL('../openapi.json', import.meta.url), 'utf8');
    expect(committed).toBe(`${JSON.stringify(buildOpenApiDocument(), null, 2)}\n`);
  });

  it('has schemas that compile and refs that resolve', () => {
    const ajv = new Ajv2020({ strict: false });
    const document = { ...buildOpenApiDocument(), $id: 'https://chainlog.invalid/openapi.json' };
    ajv.addSchema(document);
    const schemas = (document as unknown as { components: { schemas: Record<string, unknown> } }).components.schemas;
    for (const name of Object.keys(schemas)) {
      expect(ajv.getSchema(`https://chainlog.invalid/openapi.json#/components/schemas/${name}`), name).toBeTypeOf('function');
    }
  });
});

describe('the schemas', () => {
  const validate = openApiValidator();

  it('take a source range with skipped records, as blocks carry them', () => {
    const range = { topic: 'transactions', partition: 0, firstOffset: 4, lastOffset: 9, skipped: [{ offset: 5, reason: 'malformed' }] };
    expect(() => validate('SourceRange', range)).not.toThrow();
    expect(() => validate('SourceRange', { ...range, skipped: [{ offset: 5, reason: 'no-such-reason' }] })).toThrow(/SourceRange/);
  });
});
