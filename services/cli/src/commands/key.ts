// chainlog key new / key show: Ed25519 key pairs for signing transactions (tx send --key) or blocks
// (a miner's MINER_PRIVATE_KEY_FILE). A key file holds the raw 32-byte seed as 64 hex digits, readable by
// its owner only; the public key is derived from it whenever needed.
import { readFile, rename, writeFile } from 'node:fs/promises';
import { newSeed, signerFromSeed, type Signer } from '@chainlog/core/protocol';
import { CliError, flag, optionalString, UsageError } from '../args.js';
import type { Command, CommandContext } from '../context.js';
import { DEFAULT_ACCOUNTS } from '../sample-accounts.js';

const SEED_HEX = /^[0-9a-fA-F]{64}$/;

/** The signer of a key file; a missing or malformed file is a one-line error that never shows the key. */
export async function readKeyFile(context: CommandContext, path: string): Promise<Signer> {
  let text: string;
  try {
    text = await context.readFile(path);
  } catch (error) {
    throw new CliError(`cannot read the key file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  return signerOfKeyText(path, text);
}

function signerOfKeyText(path: string, text: string): Signer {
  const seed = text.trim();
  if (!SEED_HEX.test(seed)) throw new CliError(`${path} is not a key file (an Ed25519 private key as 64 hex digits, as chainlog key new writes)`);
  return signerFromSeed(Buffer.from(seed, 'hex'));
}

export const keyNew: Command = {
  spec: {
    path: ['key', 'new'],
    summary: 'create an Ed25519 key pair: the private key into a file (mode 0600), the public key printed',
    args: '<file>',
    positionals: { min: 1, max: 1 },
    options: {
      force: { type: 'boolean', description: 'overwrite the file if it exists' },
    },
    details: [
      'examples:',
      '  chainlog key new alice.key                  then: chainlog tx send --key alice.key --from alice --to bob --amount 3',
      '  chainlog key new miner-0.key                a miner\'s MINER_PRIVATE_KEY_FILE; its public key goes into ALLOWED_MINER_KEYS',
    ].join('\n'),
  },

  async run(context, options, positionals) {
    const [path] = positionals as [string];
    const seed = newSeed();
    try {
      await writeFile(path, `${seed.toString('hex')}\n`, { mode: 0o600, flag: flag(options, 'force') ? 'w' : 'wx' });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') throw new UsageError(`${path} exists: keep it, or give --force to replace it (its key is then lost)`);
      throw new CliError(`cannot write ${path}: ${code ?? (error as Error).message}`);
    }
    const { publicKey } = signerFromSeed(seed);
    context.out.result(`${publicKey}  (public key; private key in ${path})`, { publicKey, file: path });
    return 0;
  },
};

export const keyShow: Command = {
  spec: {
    path: ['key', 'show'],
    summary: 'print the public key of a key file',
    args: '<file>',
    positionals: { min: 1, max: 1 },
    options: {},
  },

  async run(context, _options, positionals) {
    const [path] = positionals as [string];
    const { publicKey } = await readKeyFile(context, path);
    context.out.result(publicKey, { publicKey, file: path });
    return 0;
  },
};

/** --key FILE, else CHAINLOG_KEY_FILE; undefined when neither is set (the transactions go unsigned). */
export function keyFileOption(context: CommandContext, options: Readonly<Record<string, string | boolean | undefined>>): string | undefined {
  return optionalString(options, 'key') ?? context.globals.keyFile;
}

/** Creates the key file unless it exists (never replacing one, like key new it writes the real file system); its signer either way. */
async function ensureKeyFile(path: string): Promise<{ signer: Signer; created: boolean }> {
  const seed = newSeed();
  try {
    await writeFile(path, `${seed.toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
    return { signer: signerFromSeed(seed), created: true };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EEXIST') throw new CliError(`cannot write ${path}: ${code ?? (error as Error).message}`);
  }
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read the key file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  return { signer: signerOfKeyText(path, text), created: false };
}

/** Written whole and renamed into place: a reader never sees half a file. */
async function writeWhole(path: string, text: string): Promise<void> {
  try {
    await writeFile(`${path}.tmp`, text, { mode: 0o644 });
    await rename(`${path}.tmp`, path);
  } catch (error) {
    throw new CliError(`cannot write ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

export const keyEnsure: Command = {
  spec: {
    path: ['key', 'ensure'],
    summary: 'create the key files that do not exist yet (never replacing one) and optionally write their allow-list',
    args: '<file>...',
    positionals: { min: 1, max: 1024 },
    options: {
      'allow-list': { type: 'string', value: 'FILE', description: 'write the public keys of the given keys there, comma-separated (ALLOWED_MINER_KEYS_FILE)' },
      also: { type: 'string', value: 'FILE', description: 'one more key to create that stays out of the allow-list (e.g. a client key)' },
      'account-keys': { type: 'string', value: 'FILE', description: 'write the ledger rules\' bindings of --accounts to the --also key there (ACCOUNT_KEYS_FILE)' },
      accounts: { type: 'string', value: 'A,B,...', description: `accounts bound by --account-keys (default ${DEFAULT_ACCOUNTS.join(',')}, those of chainlog demo)` },
    },
    details: [
      'Idempotent: run it on every start (Docker Compose\'s keys-init does) and the keys stay the ones first made.',
      'examples:',
      '  chainlog key ensure keys/miner-0.key keys/miner-1.key --allow-list keys/allowed-miner-keys',
      '  chainlog key ensure keys/miner-0.key --allow-list keys/allowed --also keys/client.key --account-keys keys/account-keys',
    ].join('\n'),
  },

  async run(context, options, positionals) {
    const miners = [];
    for (const path of positionals) miners.push({ path, ...(await ensureKeyFile(path)) });
    const also = optionalString(options, 'also');
    const extra = also === undefined ? undefined : { path: also, ...(await ensureKeyFile(also)) };
    const allowList = optionalString(options, 'allow-list');
    const accountKeys = optionalString(options, 'account-keys');
    const accounts = (optionalString(options, 'accounts') ?? DEFAULT_ACCOUNTS.join(',')).split(',').map((account) => account.trim()).filter((account) => account !== '');
    if (accountKeys !== undefined && extra === undefined) throw new UsageError('--account-keys binds accounts to the --also key: give --also FILE');
    if (accountKeys !== undefined && accounts.length === 0) throw new UsageError('--accounts names no account');
    const publicKeys = miners.map((miner) => miner.signer.publicKey);
    if (allowList !== undefined) await writeWhole(allowList, `${publicKeys.join(',')}\n`);
    if (accountKeys !== undefined && extra !== undefined) await writeWhole(accountKeys, `${accounts.map((account) => `${account}=${extra.signer.publicKey}`).join(',')}\n`);
    const all = extra === undefined ? miners : [...miners, extra];
    const created = all.filter((key) => key.created).map((key) => key.path);
    context.out.result(
      `${publicKeys.join(',')}  (${created.length === 0 ? 'every key existed' : `created ${created.join(', ')}`}${allowList === undefined ? '' : `; allow-list in ${allowList}`})`,
      {
        publicKeys,
        created,
        ...(allowList === undefined ? {} : { allowList }),
        ...(extra === undefined ? {} : { also: { file: extra.path, publicKey: extra.signer.publicKey } }),
        ...(accountKeys === undefined ? {} : { accountKeys: { file: accountKeys, accounts } }),
      },
    );
    return 0;
  },
};
