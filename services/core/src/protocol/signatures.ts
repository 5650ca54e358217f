/**
 * Ed25519 keys and signatures as they appear on the wire: public keys are the raw 32-byte key and
 * signatures the raw 64-byte signature, both as lowercase hex (RFC 8032 encodings).
 */
import { createPrivateKey, createPublicKey, randomBytes, sign, verify, type KeyObject } from 'node:crypto';
import { fromHex, toHex } from './encoding.js';

export const PUBLIC_KEY_HEX_PATTERN = '^[0-9a-f]{64}$';
export const SIGNATURE_HEX_PATTERN = '^[0-9a-f]{128}$';

// DER prefixes that turn a raw Ed25519 seed / public key into PKCS#8 / SPKI, which node:crypto imports.
const PKCS8_SEED_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

// Importing a key costs more than verifying with it, and the same few miner and client keys sign
// everything: keep imported keys, forgetting them all if an unusual number of keys shows up.
const MAX_CACHED_KEYS = 1024;
const publicKeys = new Map<string, KeyObject>();

function importPublicKey(publicKeyHex: string, rawKey: Buffer): KeyObject {
  let key = publicKeys.get(publicKeyHex);
  if (key === undefined) {
    // JWK import is an order of magnitude faster than DER import in Node 20.
    key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: rawKey.toString('base64url') }, format: 'jwk' });
    if (publicKeys.size >= MAX_CACHED_KEYS) publicKeys.clear();
    publicKeys.set(publicKeyHex, key);
  }
  return key;
}

/** Something that signs on behalf of one Ed25519 key. */
export interface Signer {
  /** Raw public key, lowercase hex. */
  readonly publicKey: string;
  sign(message: Uint8Array): string;
}

export function signerFromPrivateKey(privateKey: KeyObject): Signer {
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new TypeError('an Ed25519 private key is required');
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  return {
    publicKey: toHex(spki.subarray(SPKI_PREFIX.length)),
    sign: (message) => toHex(sign(null, message, privateKey)),
  };
}

/**
 * A fresh private key as its 32-byte RFC 8032 seed: any 32 random bytes are one (the public key is derived
 * by hashing it). The one source of new keys: `chainlog key new`, `npm start`'s keys, the chart's key Job.
 */
export function newSeed(): Buffer {
  return randomBytes(32);
}

/** A signer from a 32-byte RFC 8032 seed (the private key's canonical form); deterministic, for fixtures. */
export function signerFromSeed(seed: Uint8Array): Signer {
  if (seed.length !== 32) throw new RangeError('an Ed25519 seed is 32 bytes');
  const der = Buffer.concat([PKCS8_SEED_PREFIX, seed]);
  return signerFromPrivateKey(createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }));
}

/** Never throws: malformed keys or signatures simply do not verify. */
export function verifySignature(publicKeyHex: string, message: Uint8Array, signatureHex: string): boolean {
  const rawKey = fromHex(publicKeyHex);
  const signature = fromHex(signatureHex);
  if (rawKey?.length !== 32 || signature?.length !== 64) return false;
  try {
    return verify(null, message, importPublicKey(publicKeyHex, rawKey), signature);
  } catch {
    return false;
  }
}
