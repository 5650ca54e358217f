// chainlog key new / key show: Ed25519 key pairs for signing transactions (tx send --key) or blocks
// (a miner's MINER_PRIVATE_KEY_FILE). A key file holds the raw 32-byte seed as 64 hex digits, readable by
// its owner only; the public key is derived from it whenever needed.
import { writeFile } from 'node:fs/promises';
import { newSeed, signerFromSeed, type Signer } from '@chainlog/core/protocol';
import { CliError, flag, optionalString, UsageError } from '../args.js';
import type { Command, CommandContext } from '../context.js';

const SEED_HEX = /^[0-9a-fA-F]{64}$/;

/** The signer of a key file; a missing or malformed file is a one-line error that never shows the key. */
export async function readKeyFile(context: CommandContext, path: string): Promise<Signer> {
  let text: string;
  try {
    text = await context.readFile(path);
  } catch (error) {
    throw new CliError(`cannot read the key file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
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
