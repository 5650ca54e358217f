// The explorer's in-browser Ed25519 check (src/verify/crypto.ts) against the protocol's signature vectors:
// strict, as the protocol requires of version-2 blocks, it refuses every small-order key and R and every
// non-canonical key and S that WebCrypto itself (OpenSSL here, BoringSSL in Chromium) lets through; plain
// (version-1 blocks) it agrees with WebCrypto. Runs on Node's WebCrypto, the same API the browser offers.
import { readFileSync } from 'node:fs';
import { fromHex } from '@chainlog/core/protocol';
import { describe, expect, it } from 'vitest';
import { verifyEd25519 } from '../src/verify/crypto.js';

interface SignatureCase {
  readonly description: string;
  readonly publicKey: string;
  readonly message: string;
  readonly signature: string;
  readonly strict: boolean;
  readonly plain: boolean;
}

const vectors = JSON.parse(readFileSync(new URL('../../core/test/vectors/signatures.json', import.meta.url), 'utf8')) as { cases: SignatureCase[] };

describe('verifyEd25519 (explorer)', () => {
  it('has the vectors that matter: valid signatures, and small-order cases that verify plainly but not strictly', () => {
    expect(vectors.cases.some(({ strict }) => strict)).toBe(true);
    expect(vectors.cases.filter(({ strict, plain }) => plain && !strict).length).toBeGreaterThanOrEqual(3);
  });

  it.each(vectors.cases.map((vector) => [vector.description, vector] as const))('strict: %s', async (_name, vector) => {
    const message = fromHex(vector.message) ?? new Uint8Array(0);
    expect(await verifyEd25519(vector.publicKey, message, vector.signature)).toBe(vector.strict);
    expect(await verifyEd25519(vector.publicKey, message, vector.signature, true)).toBe(vector.strict);
  });

  it.each(vectors.cases.map((vector) => [vector.description, vector] as const))('plain (version 1): %s', async (_name, vector) => {
    const message = fromHex(vector.message) ?? new Uint8Array(0);
    expect(await verifyEd25519(vector.publicKey, message, vector.signature, false)).toBe(vector.plain);
  });
});
