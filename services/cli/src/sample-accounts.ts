/**
 * The sample accounts of the README, `chainlog demo` and the local stacks (npm start, Docker Compose): there they
 * belong to the CLI's generated key and are funded at genesis, so a permissioned ledger with its rules on can be
 * tried at once. One list for all of them.
 */
export const DEFAULT_ACCOUNTS: readonly string[] = ['alice', 'bob', 'carol', 'dave', 'erin'];
