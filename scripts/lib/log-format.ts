// Turns the services' pino JSON lines into readable one-liners for `npm start`:
//   12:00:01.234 miner-0  INFO  block mined  index=12 transactions=4 hash=0003f1…
// Lines that are not pino JSON (a stack trace, a config error on stderr) pass through unchanged.

const COLOURS = [36, 35, 33, 32, 34, 96, 95, 93, 92, 94] as const;

const LEVELS: Record<string, { label: string; colour?: number }> = {
  trace: { label: 'TRACE', colour: 90 },
  debug: { label: 'DEBUG', colour: 90 },
  info: { label: 'INFO ' },
  warn: { label: 'WARN ', colour: 33 },
  error: { label: 'ERROR', colour: 31 },
  fatal: { label: 'FATAL', colour: 31 },
};
const NUMERIC_LEVELS: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

/** Fields every line has, or that the prefix already shows. */
const HIDDEN = new Set(['level', 'time', 'msg', 'service', 'name', 'pid', 'hostname', 'v']);
const KAFKAJS_HIDDEN = new Set(['component', 'timestamp', 'logger']);
const MAX_VALUE = 160;

export interface LineFormatter {
  (line: string, stream: 'stdout' | 'stderr'): string;
}

export function colourFor(index: number): number {
  return COLOURS[index % COLOURS.length] as number;
}

function paint(enabled: boolean, code: number | undefined, text: string): string {
  return enabled && code !== undefined ? `\u001b[${code}m${text}\u001b[0m` : text;
}

function clock(time: unknown): string {
  const date = typeof time === 'string' || typeof time === 'number' ? new Date(time) : new Date();
  const valid = Number.isNaN(date.getTime()) ? new Date() : date;
  return `${String(valid.getHours()).padStart(2, '0')}:${String(valid.getMinutes()).padStart(2, '0')}:${String(valid.getSeconds()).padStart(2, '0')}.${String(valid.getMilliseconds()).padStart(3, '0')}`;
}

function shorten(text: string): string {
  return text.length > MAX_VALUE ? `${text.slice(0, MAX_VALUE - 1)}…` : text;
}

export function formatValue(value: unknown): string {
  if (typeof value === 'string') {
    if (/^[0-9a-f]{64}$/.test(value)) return `${value.slice(0, 12)}…`;
    return shorten(/[\s"=]/.test(value) || value === '' ? JSON.stringify(value) : value);
  }
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  return shorten(JSON.stringify(value) ?? String(value));
}

function errorText(value: unknown): string {
  if (typeof value !== 'object' || value === null) return formatValue(value);
  const { type, message, stack } = value as { type?: string; message?: string; stack?: string };
  const head = message ?? type ?? 'error';
  // The first frame names where it happened; the full stack stays in the raw log file.
  const frame = stack?.split('\n').find((line) => line.trim().startsWith('at '))?.trim();
  return JSON.stringify(frame ? `${head} (${frame})` : head);
}

/**
 * A formatter for one service's lines. `width` pads the service name so the columns line up;
 * `colour` is an ANSI code, used only when `colours` is on.
 */
export function createLineFormatter(options: { name: string; width: number; colour: number; colours: boolean }): LineFormatter {
  const prefix = paint(options.colours, options.colour, options.name.padEnd(options.width));
  return (line, stream) => {
    const record = parseRecord(line);
    if (record === undefined) {
      const text = stream === 'stderr' ? paint(options.colours, 31, line) : line;
      return `${paint(options.colours, 90, clock(undefined))} ${prefix} ${text}`;
    }
    const levelName = typeof record.level === 'number' ? (NUMERIC_LEVELS[record.level] ?? 'info') : String(record.level ?? 'info');
    const level = LEVELS[levelName] ?? { label: levelName.toUpperCase().padEnd(5) };
    // kafkajs' own lines (routed through the service's logger) repeat their timestamp and logger name.
    const fromKafkajs = record.component === 'kafkajs';
    const fields = Object.entries(record)
      .filter(([key, value]) => !HIDDEN.has(key) && value !== undefined && !(fromKafkajs && KAFKAJS_HIDDEN.has(key)))
      .map(([key, value]) => `${key}=${key === 'err' || key === 'error' ? errorText(value) : formatValue(value)}`);
    const message = `${fromKafkajs ? 'kafkajs: ' : ''}${typeof record.msg === 'string' ? record.msg : ''}`;
    const rest = fields.length > 0 ? `  ${paint(options.colours, 90, fields.join(' '))}` : '';
    return `${paint(options.colours, 90, clock(record.time))} ${prefix} ${paint(options.colours, level.colour, level.label)} ${message}${rest}`;
  };
}

function parseRecord(line: string): Record<string, unknown> | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const value = JSON.parse(line) as unknown;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
    const record = value as Record<string, unknown>;
    return 'level' in record && ('msg' in record || 'time' in record) ? record : undefined;
  } catch {
    return undefined;
  }
}

/** Splits a byte stream into lines, keeping a partial last line until the next chunk (or the end). */
export class LineSplitter {
  #rest = '';
  push(chunk: string): string[] {
    const text = this.#rest + chunk;
    const lines = text.split(/\r?\n/);
    this.#rest = lines.pop() ?? '';
    return lines;
  }
  end(): string[] {
    const rest = this.#rest;
    this.#rest = '';
    return rest === '' ? [] : [rest];
  }
}
