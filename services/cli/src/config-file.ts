// The CLI's configuration file: `NAME=value` lines (dotenv syntax) with the same variable names as the
// environment, both the CLI's own (CHAINLOG_INGEST_URL, CHAINLOG_KEY_FILE, ...) and the consensus
// settings the services read (DIFFICULTY, ALLOWED_MINER_KEYS, ...), so `chain tail --kafka` and
// `chain verify` judge blocks exactly as the miners and the auditor do. `npm start` writes one to
// <data dir>/chainlog.env. Precedence: flags, then the environment, then the file.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseEnv } from 'node:util';

/** What `npm start` writes with its default data dir, read when nothing else names a file. */
export const DEFAULT_CONFIG_FILE = '.data/chainlog.env';

export class ConfigFileError extends Error {}

/** --config FILE / --config=FILE from the command line, if given. */
export function configFlag(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') return undefined;
    if (arg === '--config') return argv[i + 1];
    if (arg.startsWith('--config=')) return arg.slice('--config='.length);
  }
  return undefined;
}

/**
 * The environment with the configuration file's variables underneath it. The file is --config, else
 * CHAINLOG_CONFIG, else DEFAULT_CONFIG_FILE in the working directory when it exists. A named file that
 * cannot be read is an error; the default one is optional.
 */
export function withConfigFile(
  argv: readonly string[],
  env: Record<string, string | undefined>,
  cwd: string,
  read: (path: string) => string = (path) => readFileSync(path, 'utf8'),
  exists: (path: string) => boolean = existsSync,
): Record<string, string | undefined> {
  const named = configFlag(argv) ?? nonEmpty(env['CHAINLOG_CONFIG']);
  const path = named === undefined ? resolve(cwd, DEFAULT_CONFIG_FILE) : resolve(cwd, named);
  if (named === undefined && !exists(path)) return env;
  let text: string;
  try {
    text = read(path);
  } catch (error) {
    throw new ConfigFileError(`cannot read the configuration file ${named ?? path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const fromFile = parseEnv(text) as Record<string, string>;
  return { ...fromFile, ...definedOnly(env), CHAINLOG_CONFIG: path };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function definedOnly(env: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined && entry[1].trim() !== ''));
}
