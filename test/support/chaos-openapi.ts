// Hostile HTTP requests generated from the services' own OpenAPI documents (services/ingest/openapi.json,
// services/auditor/openapi.json): for every operation, requests whose path and query parameters, headers and
// body are drawn from the declared schemas, then, for most of them, one part made to violate its schema (wrong
// type, out of range, pattern broken, unknown or array-shaped query parameter, missing or extra property).
// The contract checked on every answer: its status is one the document declares for that operation (or one of
// the HTTP edge answers any request may get), a 4xx carries the JSON error body, and a 2xx body validates
// against the declared response schema.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import type { FuzzCase } from './chaos-fuzz.js';
import { REPO_ROOT } from './processes.js';

type Schema = Record<string, unknown>;
interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required?: boolean;
  schema?: Schema;
}
interface Operation {
  target: FuzzCase['target'];
  method: string;
  template: string;
  parameters: Parameter[];
  body?: Schema;
  /** Declared status -> schema of its JSON body (undefined: not JSON or not described). */
  responses: Map<number, Schema | undefined>;
}

/** What any request may be answered by core's HTTP edges, whatever the operation declares (docs/reliability.md). */
export const EDGE_STATUSES: ReadonlySet<number> = new Set([405, 408, 413, 414, 429, 431, 503]);
// Streams that never end (server-sent events): not requests a fuzz can wait for.
const STREAMING = new Set(['GET /v1/chain/events']);
const DOCUMENT_ID = (target: string): string => `https://chainlog.invalid/${target}/openapi.json`;

interface Documents {
  operations: Operation[];
  ajv: Ajv2020;
  resolve: (target: FuzzCase['target'], schema: Schema | undefined) => Schema | undefined;
}

let loaded: Documents | undefined;

/** The operations of both documents, and a validator for their schemas; read once. */
export function openApiDocuments(): Documents {
  if (loaded !== undefined) return loaded;
  const ajv = new Ajv2020({ strict: false, validateFormats: false });
  const documents = new Map<FuzzCase['target'], Schema>();
  const operations: Operation[] = [];
  for (const target of ['ingest', 'auditor'] as const) {
    const document = JSON.parse(readFileSync(join(REPO_ROOT, 'services', target, 'openapi.json'), 'utf8')) as Schema & { paths: Record<string, Record<string, Schema>> };
    documents.set(target, document);
    ajv.addSchema({ ...document, $id: DOCUMENT_ID(target) });
    for (const [template, item] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        if (method === 'parameters' || STREAMING.has(`${method.toUpperCase()} ${template}`)) continue;
        const responses = new Map<number, Schema | undefined>();
        for (const [status, response] of Object.entries((operation.responses ?? {}) as Record<string, Schema>)) {
          const content = (response.content ?? {}) as Record<string, { schema?: Schema }>;
          responses.set(Number(status), content['application/json']?.schema);
        }
        const body = ((operation.requestBody as Schema | undefined)?.content as Record<string, { schema?: Schema }> | undefined)?.['application/json']?.schema;
        operations.push({ target, method: method.toUpperCase(), template, parameters: (operation.parameters ?? []) as Parameter[], ...(body ? { body } : {}), responses });
      }
    }
  }
  const resolve = (target: FuzzCase['target'], schema: Schema | undefined): Schema | undefined => {
    let current = schema;
    for (let hops = 0; current !== undefined && typeof current.$ref === 'string' && hops < 10; hops++) {
      const path = (current.$ref as string).replace(/^#\//, '').split('/');
      current = path.reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], documents.get(target)) as Schema | undefined;
    }
    return current;
  };
  loaded = { operations, ajv, resolve };
  return loaded;
}

// ---------------------------------------------------------------------------------------------------
// Values from schemas.

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)] as T;
}

/** Characters a `^[class]{n,m}$` / `^[class]+$` pattern allows (the patterns the documents use); undefined otherwise. */
function patternAlphabet(pattern: string): { chars: string; min: number; max: number } | undefined {
  const match = /^\^\[([^\]]+)\](\+|\*|\{(\d+)(?:,(\d+))?\})\$$/.exec(pattern);
  if (match === null) return undefined;
  let chars = '';
  const body = (match[1] as string).replace(/\\w/g, 'a-zA-Z0-9_').replace(/\\(.)/g, '$1');
  for (let i = 0; i < body.length; i++) {
    if (body[i + 1] === '-' && i + 2 < body.length) {
      for (let c = body.charCodeAt(i); c <= body.charCodeAt(i + 2); c++) chars += String.fromCharCode(c);
      i += 2;
    } else chars += body[i];
  }
  const [min, max] = match[2] === '+' ? [1, 24] : match[2] === '*' ? [0, 24] : [Number(match[3]), Number(match[4] ?? match[3])];
  return { chars, min, max };
}

function sampleString(random: () => number, schema: Schema): string {
  if (Array.isArray(schema.enum)) return String(pick(random, schema.enum));
  const min = Number(schema.minLength ?? 1);
  const max = Math.min(Number(schema.maxLength ?? 24), min + 24);
  const alphabet = typeof schema.pattern === 'string' ? patternAlphabet(schema.pattern) : undefined;
  const chars = alphabet?.chars ?? 'abcdefghijklmnopqrstuvwxyz0123456789';
  const low = Math.max(min, alphabet?.min ?? 0);
  const high = Math.max(low, Math.min(max, alphabet?.max ?? max));
  const length = low + Math.floor(random() * (high - low + 1));
  let out = '';
  for (let i = 0; i < length; i++) out += chars[Math.floor(random() * chars.length)];
  return out === '0' && schema.not !== undefined ? 'a' : out;
}

/** A value valid against the schema as far as this generator understands it (resolving $refs). */
export function sample(random: () => number, schema: Schema | undefined, resolve: (s: Schema | undefined) => Schema | undefined, depth = 0): unknown {
  const s = resolve(schema);
  if (s === undefined || depth > 6) return null;
  if ('const' in s) return s.const;
  if (Array.isArray(s.enum)) return pick(random, s.enum);
  const choices = (s.oneOf ?? s.anyOf) as Schema[] | undefined;
  if (choices !== undefined) return sample(random, pick(random, choices), resolve, depth + 1);
  const type = Array.isArray(s.type) ? pick(random, (s.type as string[]).filter((t) => t !== 'null')) : s.type;
  switch (type) {
    case 'integer':
    case 'number': {
      const min = Number(s.minimum ?? 0);
      const max = Math.min(Number(s.maximum ?? min + 1000), min + 1000);
      return min + Math.floor(random() * (max - min + 1));
    }
    case 'boolean':
      return random() < 0.5;
    case 'array': {
      const length = Math.max(Number(s.minItems ?? 0), Math.min(Number(s.maxItems ?? 3), 3));
      return Array.from({ length: Math.max(1, Math.floor(random() * length) + 1) }, () => sample(random, s.items as Schema, resolve, depth + 1));
    }
    case 'object': {
      const out: Record<string, unknown> = {};
      const required = new Set((s.required ?? []) as string[]);
      for (const [name, property] of Object.entries((s.properties ?? {}) as Record<string, Schema>)) {
        if (required.has(name) || random() < 0.4) out[name] = sample(random, property, resolve, depth + 1);
      }
      return out;
    }
    default:
      return sampleString(random, s);
  }
}

/** A value that breaks the schema in one way (best effort: the server decides, the contract is the answer). */
function violate(random: () => number, schema: Schema | undefined, resolve: (s: Schema | undefined) => Schema | undefined): unknown {
  const s = resolve(schema) ?? {};
  const type = Array.isArray(s.type) ? s.type[0] : s.type;
  const options: (() => unknown)[] = [() => null, () => ({ nested: [1] }), () => 'x'.repeat(300), () => -1.5, () => '', () => '%00', () => '9'.repeat(40)];
  if (type === 'integer' || type === 'number') options.push(() => Number(s.minimum ?? 0) - 1, () => Number(s.maximum ?? 1e15) + 1, () => '1e3', () => '0x10', () => 'NaN', () => '00001');
  if (type === 'string') options.push(() => 12345, () => `${sampleString(random, s)}!*`, () => 'é'.repeat(5));
  if (type === 'object') {
    const valid = sample(random, s, resolve) as Record<string, unknown>;
    const required = (s.required ?? []) as string[];
    options.push(() => ({ ...valid, unexpected: true }), () => (required.length > 0 ? Object.fromEntries(Object.entries(valid).filter(([key]) => key !== pick(random, required))) : { ...valid, unexpected: 1 }));
  }
  if (type === 'array') options.push(() => [], () => Array.from({ length: 1001 }, () => ({})));
  return pick(random, options)();
}

// ---------------------------------------------------------------------------------------------------
// Requests.

export type OpenApiCase = FuzzCase & { operation: string; declared: number[] };

const asText = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value) ?? '');

/** One request for a random operation: mostly schema-valid, with (70 %) one part broken. */
export function openApiCase(random: () => number, n: number, idPrefix: string): OpenApiCase {
  const { operations, resolve: resolveIn } = openApiDocuments();
  const operation = pick(random, operations);
  const resolve = (schema: Schema | undefined): Schema | undefined => resolveIn(operation.target, schema);
  const broken = random() < 0.7 ? pick(random, ['path', 'query', 'header', 'body', 'extra-query', 'array-query']) : undefined;
  let path = operation.template;
  const query = new URLSearchParams();
  const headers: Record<string, string> = {};
  for (const parameter of operation.parameters) {
    const breakIt = broken === parameter.in && random() < 0.7;
    if (!breakIt && parameter.required !== true && random() < 0.5) continue;
    const value = asText(breakIt ? violate(random, parameter.schema, resolve) : sample(random, parameter.schema, resolve));
    if (parameter.in === 'path') path = path.replace(`{${parameter.name}}`, encodeURIComponent(value) || '%20');
    else if (parameter.in === 'query') query.append(parameter.name, value);
    else if (/^[\t\x20-\x7e]*$/.test(value)) headers[parameter.name.toLowerCase()] = value;
  }
  if (broken === 'extra-query') query.append(pick(random, ['unknown', 'limit[]', 'x-y', '__proto__']), '1');
  if (broken === 'array-query') {
    const name = operation.parameters.find((p) => p.in === 'query')?.name ?? 'limit';
    query.append(name, '1');
    query.append(name, '2');
  }
  const search = query.toString();
  let body: Buffer | undefined;
  if (operation.body !== undefined) {
    let value = broken === 'body' ? violate(random, operation.body, resolve) : sample(random, operation.body, resolve);
    // Valid ids of our own, so that anything acknowledged can be found in the chain.
    if (broken !== 'body') value = withIds(value, `${idPrefix}-oa${n}`);
    body = Buffer.from(asText(value));
    headers['content-type'] = 'application/json';
  }
  return {
    target: operation.target,
    label: `openapi ${operation.method} ${operation.template}${broken ? ` (${broken} broken)` : ''}`,
    method: operation.method,
    path: search === '' ? path : `${path}?${search}`,
    headers,
    ...(body ? { body } : {}),
    operation: `${operation.target} ${operation.method} ${operation.template}`,
    declared: [...operation.responses.keys()],
  };
}

function withIds(value: unknown, prefix: string): unknown {
  if (Array.isArray(value)) return value.map((item, i) => withIds(item, `${prefix}-${i}`));
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    // A signature over other content would not verify: leave signed-looking items to be refused.
    return 'signature' in record ? record : { ...record, id: prefix };
  }
  return value;
}

/** A contract breach of one answer, or undefined when the answer keeps the document's promises. */
export function contractBreach(fuzz: OpenApiCase, status: number, body: string): string | undefined {
  if (status === 0 || status >= 500) return undefined; // no answer and 5xx are judged by the fuzz itself
  if (!fuzz.declared.includes(status) && !EDGE_STATUSES.has(status)) return `${status} is not declared for ${fuzz.operation}`;
  if (fuzz.path.startsWith('/metrics') || fuzz.path.startsWith('/openapi.json')) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return status === 405 || status >= 400 ? `${status} without a JSON body for ${fuzz.operation}` : undefined;
  }
  const validator = fuzz.declared.includes(status) ? responseValidator(fuzz, status) : undefined;
  if (validator !== undefined) {
    return validator(parsed) ? undefined : `${status} body of ${fuzz.operation} does not match its schema: ${JSON.stringify(validator.errors?.slice(0, 2))}`;
  }
  if (status >= 400) {
    const code = (parsed as { error?: { code?: unknown } } | null)?.error?.code;
    return typeof code === 'string' ? undefined : `${status} without error.code for ${fuzz.operation}`;
  }
  return undefined;
}

const validators = new Map<string, ValidateFunction | undefined>();

function responseValidator(fuzz: OpenApiCase, status: number): ValidateFunction | undefined {
  const key = `${fuzz.operation} ${status}`;
  if (validators.has(key)) return validators.get(key);
  const { operations, ajv } = openApiDocuments();
  const operation = operations.find((o) => `${o.target} ${o.method} ${o.template}` === fuzz.operation);
  const schema = operation?.responses.get(status);
  let validator: ValidateFunction | undefined;
  if (schema !== undefined && operation !== undefined) {
    // A JSON pointer into the document itself, so the schema's own $refs resolve there.
    const pointer = ['paths', operation.template, operation.method.toLowerCase(), 'responses', String(status), 'content', 'application/json', 'schema']
      .map((part) => part.replace(/~/g, '~0').replace(/\//g, '~1'))
      .join('/');
    validator = ajv.getSchema(`${DOCUMENT_ID(operation.target)}#/${pointer}`);
  }
  validators.set(key, validator);
  return validator;
}
