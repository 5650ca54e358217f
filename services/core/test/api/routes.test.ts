import { describe, expect, it } from 'vitest';
import { AUDITOR_ROUTES, auditorPaths, openApiPath } from '../../src/api/routes.js';

describe('auditorPaths', () => {
  it('fills the route patterns, ids encoded', () => {
    expect(auditorPaths.block(7)).toBe('/v1/blocks/7');
    expect(auditorPaths.blockHeader(0)).toBe('/v1/blocks/0/header');
    expect(auditorPaths.transaction('a/b c')).toBe('/v1/transactions/a%2Fb%20c');
    expect(auditorPaths.account('alice@x')).toBe('/v1/accounts/alice%40x');
  });

  it('writes only the page parameters that are set, in one order', () => {
    expect(auditorPaths.blocks()).toBe('/v1/blocks');
    expect(auditorPaths.blocks({ order: 'desc', limit: 20, from: 5 })).toBe('/v1/blocks?from=5&limit=20&order=desc');
    expect(auditorPaths.blocks({ limit: 20, order: 'desc' })).toBe('/v1/blocks?limit=20&order=desc');
    expect(auditorPaths.account('bob', { from: 0, limit: 3 })).toBe('/v1/accounts/bob?from=0&limit=3');
    expect(auditorPaths.audit()).toBe('/v1/audit');
    expect(auditorPaths.audit(50)).toBe('/v1/audit?limit=50');
  });

  it('names OpenAPI paths from the same patterns', () => {
    expect(openApiPath(AUDITOR_ROUTES.blockHeader)).toBe('/v1/blocks/{index}/header');
    expect(openApiPath(AUDITOR_ROUTES.account)).toBe('/v1/accounts/{id}');
  });
});
