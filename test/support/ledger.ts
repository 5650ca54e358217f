// A permissioned chain with ledger rules for the integration tests of issue #19: one miner key allowed, carol's
// account bound to her key and funded at genesis, balances enforced, blocks cut quickly.
import type { Signer } from '@chainlog/core/protocol';

/** The miner overrides (minerEnv's second argument) of that chain: `minerSeed` signs blocks, carol holds 10. */
export function carolLedgerEnv(minerSeed: Buffer, minerKey: Signer, carol: Signer): Record<string, string> {
  return {
    CUT_AT_PENDING_TRANSACTIONS: '50',
    MAX_BLOCK_WAIT_MS: '300',
    MINER_PRIVATE_KEY: minerSeed.toString('hex'),
    ALLOWED_MINER_KEYS: minerKey.publicKey,
    ENFORCE_BALANCES: 'true',
    ACCOUNT_KEYS: `carol=${carol.publicKey}`,
    GENESIS_ALLOCATIONS: 'carol=10',
  };
}
