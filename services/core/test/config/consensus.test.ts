// The consensus settings every node reads the same way; the allow-list also from a file (ALLOWED_MINER_KEYS_FILE).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ConfigError} from '../../src/config/index.js';
import { EnvReader, readConsensusConfig } from '../../src/config/index.js';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const read = (env: Record<string, string>) => {
  const reader = new EnvReader(env);
  const config = readConsensusConfig(reader);
  reader.done();
  return config;
};

describe('readConsensusConfig: the allow-list', () => {
  it('is open (no allowedMiners) when neither ALLOWED_MINER_KEYS nor its _FILE is set', () => {
    expect(read({}).allowedMiners).toBeUndefined();
    expect(read({ ALLOWED_MINER_KEYS: ' ' }).allowedMiners).toBeUndefined();
  });

  it('reads the keys inline or from a file, separated by commas, spaces or newlines, without duplicates', () => {
    expect(read({ ALLOWED_MINER_KEYS: `${A}, ${B}` }).allowedMiners).toEqual([A, B]);
    const file = join(mkdtempSync(join(tmpdir(), 'chainlog-allow-')), 'allowed-miner-keys');
    writeFileSync(file, `${A}\n${B},${A}\n`);
    expect(read({ ALLOWED_MINER_KEYS_FILE: file }).allowedMiners).toEqual([A, B]);
  });

  it('names a malformed key, a missing file, and both forms set at once', () => {
    const problems = (env: Record<string, string>): string => {
      try {
        read(env);
      } catch (error) {
        return (error as ConfigError).problems.join('\n');
      }
      throw new Error('expected a ConfigError');
    };
    expect(problems({ ALLOWED_MINER_KEYS: 'XYZ' })).toContain('ALLOWED_MINER_KEYS must list raw Ed25519 public keys');
    expect(problems({ ALLOWED_MINER_KEYS_FILE: '/nonexistent/keys' })).toContain('ALLOWED_MINER_KEYS_FILE names a file that cannot be read');
    expect(problems({ ALLOWED_MINER_KEYS: A, ALLOWED_MINER_KEYS_FILE: '/x' })).toContain('set only one of ALLOWED_MINER_KEYS and ALLOWED_MINER_KEYS_FILE');
  });
});
