// Transactions from a file or stdin: a JSON array, one JSON object, or JSON lines (one object per line,
// as kcat publishes them). Each is validated with the protocol's own parser before anything is sent.
import { parseStrictJson, parseTransactionInput, type TransactionInput } from '@chainlog/core/protocol';
import { CliError } from './args.js';

export function parseTransactionsText(text: string, source: string): TransactionInput[] {
  const trimmed = text.trim();
  if (trimmed === '') throw new CliError(`${source} has no transactions`);
  if (trimmed.startsWith('[')) {
    let value: unknown;
    try {
      value = strictJson(trimmed);
    } catch (error) {
      throw new CliError(`${source} is not a valid JSON array: ${(error as Error).message}`);
    }
    if (!Array.isArray(value)) throw new CliError(`${source} is not a JSON array`);
    if (value.length === 0) throw new CliError(`${source} has no transactions`);
    return value.map((item, index) => validated(item, `${source}: item ${index}`));
  }
  const transactions: TransactionInput[] = [];
  const lines = text.split(/\r?\n/);
  for (const [index, line] of lines.entries()) {
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = strictJson(line);
    } catch (error) {
      // A single pretty-printed object spans lines: try the whole text once before blaming this line.
      if (transactions.length === 0 && trimmed.startsWith('{')) {
        const whole = tryParse(trimmed);
        if (whole !== undefined) return [validated(whole, source)];
      }
      throw new CliError(`${source}: line ${index + 1} is not valid JSON: ${(error as Error).message}`);
    }
    transactions.push(validated(value, `${source}: line ${index + 1}`));
  }
  return transactions;
}

/**
 * The protocol's strict JSON: a duplicate key or an inexact number (`2.9999999999999999`) is refused here,
 * as ingest and every miner would refuse it, instead of being silently rounded or overwritten.
 */
function strictJson(text: string): unknown {
  const result = parseStrictJson(text);
  if (!result.ok) throw new Error(result.problem.replace(/^is not valid JSON \((.*)\)$/, '$1'));
  return result.value;
}

function tryParse(text: string): unknown {
  const result = parseStrictJson(text);
  return result.ok ? result.value : undefined;
}

function validated(value: unknown, where: string): TransactionInput {
  const result = parseTransactionInput(value);
  if (!result.ok) throw new CliError(`${where}: ${result.error.field} ${result.error.problem}`);
  return result.value;
}

export async function readStream(stream: AsyncIterable<Buffer | string>, maxBytes = 64 * 1024 * 1024): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += buffer.length;
    if (size > maxBytes) throw new CliError(`input is larger than ${maxBytes} bytes`);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
