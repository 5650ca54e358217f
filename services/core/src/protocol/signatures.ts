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

/**
 * Ed25519 verification (RFC 8032 §5.1.7, cofactorless), strict by default as libsodium's
 * crypto_sign_verify_detached is: the public key must be canonical (its y below p) and not of small order,
 * the signature's R not of small order and its S below the group order L. node:crypto (OpenSSL) does
 * not check the key or R: with a small-order key (the identity, say), R = the identity and S = 0 verify
 * for every message, so one published "signature" would authorise anything. `strict: false` is that
 * plain OpenSSL verification, the rule of blocks that predate protocol version 2 (docs/protocol.md §1).
 * Never throws: malformed keys or signatures simply do not verify.
 */
export function verifySignature(publicKeyHex: string, message: Uint8Array, signatureHex: string, strict = true): boolean {
  const rawKey = fromHex(publicKeyHex);
  const signature = fromHex(signatureHex);
  if (rawKey?.length !== 32 || signature?.length !== 64) return false;
  if (strict && strictnessProblem(rawKey, signature) !== undefined) return false;
  try {
    return verify(null, message, importPublicKey(publicKeyHex, rawKey), signature);
  } catch {
    return false;
  }
}

/** Why libsodium refuses this key and signature before any arithmetic, or undefined when it does not. */
export function strictnessProblem(rawKey: Uint8Array, signature: Uint8Array): string | undefined {
  if (!isCanonicalPoint(rawKey)) return 'the public key is not canonically encoded (y >= p)';
  if (hasSmallOrder(rawKey)) return 'the public key has small order';
  if (hasSmallOrder(signature.subarray(0, 32))) return "the signature's R has small order";
  if (!isCanonicalScalar(signature.subarray(32, 64))) return "the signature's S is not below the group order L";
  return undefined;
}

/** The group order L = 2^252 + 27742317777372353535851937790883648493, little-endian. */
const GROUP_ORDER = Buffer.from('edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010', 'hex');

/** S < L, comparing the little-endian numbers from the most significant byte down. */
function isCanonicalScalar(s: Uint8Array): boolean {
  for (let i = 31; i >= 0; i--) {
    const a = s[i] as number;
    const b = GROUP_ORDER[i] as number;
    if (a !== b) return a < b;
  }
  return false; // S = L
}

/** The encoded y (sign bit of x masked) is below p = 2^255 - 19. */
function isCanonicalPoint(encoded: Uint8Array): boolean {
  if (((encoded[31] as number) & 0x7f) !== 0x7f) return true;
  for (let i = 30; i >= 1; i--) if (encoded[i] !== 0xff) return true;
  return (encoded[0] as number) < 0xed;
}

/**
 * Every encoding of a point of order 1, 2, 4 or 8, sign bit ignored: libsodium's list. y = 0, 1, the two
 * y of the order-8 points, p - 1, and the non-canonical p and p + 1 (meaning 0 and 1).
 */
const SMALL_ORDER_ENCODINGS: readonly Buffer[] = [
  '0000000000000000000000000000000000000000000000000000000000000000',
  '0100000000000000000000000000000000000000000000000000000000000000',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
].map((hex) => Buffer.from(hex, 'hex'));

function hasSmallOrder(encoded: Uint8Array): boolean {
  return SMALL_ORDER_ENCODINGS.some((small) => {
    for (let i = 0; i < 31; i++) if (encoded[i] !== small[i]) return false;
    return ((encoded[31] as number) & 0x7f) === small[31];
  });
}
