/**
 * The byte-level primitives every hash in the protocol is built from: RFC 8785 canonical JSON (JCS),
 * SHA-256, strict UTF-8 and strict lowercase hex. Strictness matters: if two byte strings could mean the
 * same value, a relayed block could be altered without changing its meaning or its hash checks.
 */
import { hash } from 'node:crypto';
import canonicalize from 'canonicalize';
import { parseStrictJson } from './strict-json.js';

/** RFC 8785 canonical JSON text of a JSON-compatible value. Throws on values JSON cannot represent
 * (NaN, Infinity, lone surrogates, undefined at the top level): callers only pass validated data. */
export function canonicalJson(value: unknown): string {
  const text = canonicalize(value);
  if (text === undefined) throw new TypeError('value has no JSON representation');
  return text;
}

export function canonicalBytes(value: unknown): Buffer {
  return Buffer.from(canonicalJson(value), 'utf8');
}

/** SHA-256 of bytes, or of a string's UTF-8 encoding. */
export function sha256(data: Uint8Array | string): Buffer {
  return hash('sha256', data, 'buffer');
}

export const HASH_HEX_PATTERN = /^[0-9a-f]{64}$/;

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** Decodes lowercase hex only (Buffer.from(…, 'hex') silently stops at the first bad character). */
export function fromHex(hex: string): Buffer | undefined {
  if (hex.length % 2 !== 0 || !/^[0-9a-f]*$/.test(hex)) return undefined;
  return Buffer.from(hex, 'hex');
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Parses UTF-8 JSON bytes without throwing: invalid UTF-8 and invalid JSON both come back as a problem. */
export function parseJsonBytes(bytes: Uint8Array): { ok: true; text: string; value: unknown } | { ok: false; problem: string } {
  let text: string;
  try {
    text = strictUtf8.decode(bytes);
  } catch {
    return { ok: false, problem: 'is not valid UTF-8' };
  }
  try {
    return { ok: true, text, value: JSON.parse(text) as unknown };
  } catch (error) {
    return { ok: false, problem: `is not valid JSON (${(error as Error).message})` };
  }
}

/** parseJsonBytes with strict-json.ts's rules: no byte-order mark, no duplicate keys, exact integers. */
export function parseStrictJsonBytes(bytes: Uint8Array): { ok: true; value: unknown } | { ok: false; problem: string } {
  let text: string;
  try {
    text = strictUtf8.decode(bytes);
  } catch {
    return { ok: false, problem: 'is not valid UTF-8' };
  }
  return parseStrictJson(text);
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
