/**
 * The browser's stand-in for node:crypto, which the protocol's sources import (vite.config.ts aliases it).
 * The explorer never calls those functions: it hashes variable-length data with WebCrypto and verifies
 * Ed25519 with WebCrypto (src/verify/crypto.ts), and uses the protocol's pure JavaScript for the rest.
 * Anything that still reaches node:crypto fails loudly here rather than computing something else.
 */
function unavailable(name: string): never {
  throw new Error(`node:crypto ${name}() is not available in the browser; the explorer uses WebCrypto`);
}

export const hash = (): never => unavailable('hash');
export const createHash = (): never => unavailable('createHash');
export const createPublicKey = (): never => unavailable('createPublicKey');
export const createPrivateKey = (): never => unavailable('createPrivateKey');
export const sign = (): never => unavailable('sign');
export const verify = (): never => unavailable('verify');
export const randomUUID = (): never => unavailable('randomUUID');
export const randomBytes = (): never => unavailable('randomBytes');
export type KeyObject = never;
