/**
 * WebCrypto, for what the protocol computes with node:crypto: SHA-256 of variable-length data (a
 * transaction's canonical JSON, a block header's) and Ed25519 signatures. Both need a secure context
 * (HTTPS, or http://localhost): elsewhere the browser has no crypto.subtle, and the explorer says so
 * instead of claiming anything.
 */
import { fromHex, strictnessProblem } from '@chainlog/core/protocol';
import { NO_WEBCRYPTO_ERROR } from './outcome.js';

export class NoWebCryptoError extends Error {
  constructor() {
    super('this page is not in a secure context (HTTPS or localhost), so the browser offers no WebCrypto to check proofs with');
    this.name = NO_WEBCRYPTO_ERROR;
  }
}

function subtle(): SubtleCrypto {
  const api = globalThis.crypto?.subtle;
  if (api === undefined) throw new NoWebCryptoError();
  return api;
}

const utf8 = new TextEncoder();

export async function sha256(data: Uint8Array | string): Promise<Uint8Array> {
  const bytes = typeof data === 'string' ? utf8.encode(data) : data;
  return new Uint8Array(await subtle().digest('SHA-256', bytes as BufferSource));
}

/**
 * Ed25519 (RFC 8032) over `message` with a raw public key, both given as lowercase hex. 'unsupported' when
 * this browser's WebCrypto has no Ed25519 (current Chromium, Firefox and Safari do).
 *
 * `strict` (the default; what protocol version 2 requires, docs/protocol.md §1): the protocol's own
 * strictnessProblem first, libsodium's checks, which WebCrypto does not make (Chromium's BoringSSL, like
 * OpenSSL, accepts a small-order key with R = the identity and S = 0 for every message). `false` only for a
 * version-1 block, whose rules were OpenSSL's plain verification.
 */
export async function verifyEd25519(publicKeyHex: string, message: Uint8Array, signatureHex: string, strict = true): Promise<boolean | 'unsupported'> {
  const rawKey = fromHex(publicKeyHex);
  const signature = fromHex(signatureHex);
  if (rawKey?.length !== 32 || signature?.length !== 64) return false;
  if (strict && strictnessProblem(rawKey, signature) !== undefined) return false;
  let key: CryptoKey;
  try {
    key = await subtle().importKey('raw', rawKey as BufferSource, { name: 'Ed25519' }, false, ['verify']);
  } catch (error) {
    if (error instanceof NoWebCryptoError) throw error;
    // NotSupportedError: no Ed25519 here; a DataError is a malformed key, which does not verify.
    return (error as DOMException).name === 'NotSupportedError' ? 'unsupported' : false;
  }
  try {
    return await subtle().verify({ name: 'Ed25519' }, key, signature as BufferSource, message as BufferSource);
  } catch {
    return false;
  }
}
