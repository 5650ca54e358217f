/**
 * Strict JSON for transaction inputs (docs/protocol.md §1, §2.1): RFC 8259 JSON text, and on top of it
 *
 * - no byte-order mark (RFC 8259 §8.1: a generator must not add one; a reader that drops it silently
 *   would accept bytes another reader refuses);
 * - no duplicate key in any object (JSON.parse keeps the last one, other parsers the first or neither,
 *   so a message with duplicates means different transactions to different readers);
 * - numbers are Chainlog's integers: a number whose decimal text is not an integer (`2.9999999999999999`,
 *   `1700000000000.0000001`) parses as NaN instead of the double nearest to it. JSON.parse rounds such
 *   text to an integer (3, 1700000000000), which would commit an amount or timestamp nobody wrote; NaN
 *   fails every integer check, so the field is rejected as not an integer. Text that is an integer in
 *   another spelling (`3.0`, `3e0`, `30e-1`) is that integer.
 *
 * Small and allocation-light: inputs are single transactions or HTTP batches.
 */

export type StrictJsonResult = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly problem: string };

/** Deep enough for any transaction input or batch, shallow enough that recursion cannot overflow the stack. */
const MAX_DEPTH = 64;

const NUMBER = /-?(?:0|[1-9][0-9]*)(\.[0-9]+)?(?:[eE]([+-]?[0-9]+))?/y;
const NUMBER_TEXT = /^-?(0|[1-9][0-9]*)(?:\.([0-9]+))?(?:[eE]([+-]?[0-9]+))?$/;

class JsonSyntaxError extends Error {}

/** Parses `text` as strict JSON (above). Never throws. */
export function parseStrictJson(text: string): StrictJsonResult {
  if (text.charCodeAt(0) === 0xfeff) return { ok: false, problem: 'starts with a byte-order mark (U+FEFF), which JSON text must not' };
  const parser = new Parser(text);
  try {
    const value = parser.value(0);
    parser.whitespace();
    if (parser.at < text.length) parser.fail('unexpected text after the JSON value');
    return { ok: true, value };
  } catch (error) {
    if (error instanceof JsonSyntaxError) return { ok: false, problem: error.message };
    throw error;
  }
}

/**
 * Whether a JSON number's text denotes an integer: digits × 10^(exponent − fraction digits) with the
 * trailing zeros of the digits moved into the exponent must have a non-negative exponent (or be zero).
 */
export function isIntegerNumberText(text: string): boolean {
  const match = NUMBER_TEXT.exec(text);
  if (match === null) return false;
  const [, integer = '', fraction = '', exponentText] = match;
  const digits = (integer + fraction).replace(/^0+/, '');
  if (digits === '') return true; // zero, however spelled
  const trailingZeros = digits.length - digits.replace(/0+$/, '').length;
  const exponent = exponentText === undefined ? 0 : Number(exponentText);
  return exponent - fraction.length + trailingZeros >= 0;
}

class Parser {
  at = 0;

  readonly #text: string;

  constructor(text: string) {
    this.#text = text;
  }

  fail(problem: string): never {
    throw new JsonSyntaxError(`is not valid JSON (${problem} at position ${this.at})`);
  }

  /** Skips JSON's four whitespace characters (a loop: a sticky regex per token cost a third of the parse). */
  whitespace(): void {
    const text = this.#text;
    let at = this.at;
    for (;;) {
      const code = text.charCodeAt(at);
      if (code !== 0x20 && code !== 0x0a && code !== 0x0d && code !== 0x09) break;
      at++;
    }
    this.at = at;
  }

  value(depth: number): unknown {
    this.whitespace();
    const c = this.#text[this.at];
    switch (c) {
      case '{':
        return this.object(depth + 1);
      case '[':
        return this.array(depth + 1);
      case '"':
        return this.string();
      case 't':
        return this.literal('true', true);
      case 'f':
        return this.literal('false', false);
      case 'n':
        return this.literal('null', null);
      default:
        if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.number();
        return this.fail(c === undefined ? 'unexpected end of input' : `unexpected character ${JSON.stringify(c)}`);
    }
  }

  literal<T>(word: string, value: T): T {
    if (!this.#text.startsWith(word, this.at)) this.fail(`expected ${word}`);
    this.at += word.length;
    return value;
  }

  number(): number {
    NUMBER.lastIndex = this.at;
    const match = NUMBER.exec(this.#text);
    if (match === null) return this.fail('invalid number');
    const text = match[0];
    this.at = NUMBER.lastIndex;
    const value = Number(text);
    // Plain integer text (the common case) needs no further look.
    if (match[1] === undefined && match[2] === undefined) return value;
    return isIntegerNumberText(text) ? value : Number.NaN;
  }

  string(): string {
    const start = this.at;
    let end = start + 1;
    let escaped = false;
    for (;;) {
      const code = this.#text.charCodeAt(end);
      if (Number.isNaN(code)) {
        this.at = end;
        this.fail('unterminated string');
      }
      if (code === 0x22) break;
      if (code < 0x20) {
        this.at = end;
        this.fail('control character in string');
      }
      if (code === 0x5c) {
        escaped = true;
        end += 2;
        continue;
      }
      end++;
    }
    this.at = end + 1;
    if (!escaped) return this.#text.slice(start + 1, end);
    try {
      // JSON.parse of one string literal decodes its escapes exactly as JSON defines them.
      return JSON.parse(this.#text.slice(start, end + 1)) as string;
    } catch {
      this.at = start;
      return this.fail('invalid escape in string');
    }
  }

  array(depth: number): unknown[] {
    if (depth > MAX_DEPTH) this.fail(`nested deeper than ${MAX_DEPTH} levels`);
    this.at++;
    const items: unknown[] = [];
    this.whitespace();
    if (this.#text[this.at] === ']') {
      this.at++;
      return items;
    }
    for (;;) {
      items.push(this.value(depth));
      this.whitespace();
      const c = this.#text[this.at++];
      if (c === ']') return items;
      if (c !== ',') {
        this.at--;
        this.fail("expected ',' or ']'");
      }
    }
  }

  object(depth: number): Record<string, unknown> {
    if (depth > MAX_DEPTH) this.fail(`nested deeper than ${MAX_DEPTH} levels`);
    this.at++;
    const object: Record<string, unknown> = {};
    this.whitespace();
    if (this.#text[this.at] === '}') {
      this.at++;
      return object;
    }
    for (;;) {
      this.whitespace();
      if (this.#text[this.at] !== '"') this.fail('expected a string key');
      const keyAt = this.at;
      const key = this.string();
      if (Object.hasOwn(object, key)) {
        this.at = keyAt;
        this.fail(`duplicate key ${JSON.stringify(key)}`);
      }
      this.whitespace();
      if (this.#text[this.at] !== ':') this.fail("expected ':'");
      this.at++;
      const value = this.value(depth);
      // As JSON.parse does: "__proto__" is an own property, never the prototype.
      if (key === '__proto__') Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
      else object[key] = value;
      this.whitespace();
      const c = this.#text[this.at++];
      if (c === '}') return object;
      if (c !== ',') {
        this.at--;
        this.fail("expected ',' or '}'");
      }
    }
  }
}
