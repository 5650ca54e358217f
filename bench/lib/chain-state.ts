// A generated chain kept on a running broker between benchmark runs (`--chain-state <file>`): generating 10 million
// transactions takes a quarter of an hour here, measuring a restart on them a minute. The first run writes what
// the later ones need into the file: where the chain is (broker, topics), how it was built (the parameters it
// must match), the figures of the build, and the generator's state at the tip (for --generated-checkpoint).
// A later run checks the parameters and that the topics still hold the whole chain before it trusts the file.
import { readFileSync, writeFileSync } from 'node:fs';
import { decodeBlock, encodeBlock, type ChainState } from '@chainlog/core/protocol';
import type { BuiltChain } from './chain.js';

/** What the chain was built with: a later run must ask for exactly this chain. */
export interface ChainParameters {
  readonly total: number;
  readonly perBlock: number;
  readonly windowMs: number;
  readonly blockReward: number;
}

export interface SavedChain {
  readonly brokers: string;
  readonly parameters: ChainParameters;
  readonly topics: { readonly blockchain: string; readonly transactions: string };
  readonly built: BuiltChain;
}

const FORMAT = 1;

/** The file's text: JSON, the tip block in its canonical wire form (base64), the rest as it is. */
export function serializeChain(saved: SavedChain): string {
  const { state, ...figures } = saved.built;
  return JSON.stringify({
    format: FORMAT,
    brokers: saved.brokers,
    parameters: saved.parameters,
    topics: saved.topics,
    built: figures,
    state:
      state === undefined
        ? undefined
        : { tip: Buffer.from(encodeBlock(state.tip)).toString('base64'), transactionCount: state.transactionCount, sourceOffsets: state.sourceOffsets, recentIds: state.recentIds },
  });
}

/** Parses a file written by serializeChain; throws naming what is wrong. */
export function parseChain(text: string): SavedChain {
  const raw = JSON.parse(text) as Record<string, unknown>;
  if (raw.format !== FORMAT) throw new Error(`chain state format ${String(raw.format)}, expected ${FORMAT}`);
  const parameters = raw.parameters as ChainParameters;
  const topics = raw.topics as SavedChain['topics'];
  const built = raw.built as Omit<BuiltChain, 'state'>;
  if (typeof raw.brokers !== 'string' || typeof topics?.blockchain !== 'string' || typeof topics.transactions !== 'string') throw new Error('chain state without brokers or topics');
  for (const key of ['total', 'perBlock', 'windowMs', 'blockReward'] as const) {
    if (!Number.isInteger(parameters?.[key])) throw new Error(`chain state without parameters.${key}`);
  }
  if (!Number.isInteger(built?.blocks) || typeof built.bytes !== 'number' || typeof built.seconds !== 'number') throw new Error('chain state without the build figures');
  const savedState = raw.state as { tip: string; transactionCount: number; sourceOffsets: ChainState['sourceOffsets']; recentIds: ChainState['recentIds'] } | undefined;
  let state: ChainState | undefined;
  if (savedState !== undefined) {
    const tip = decodeBlock(Buffer.from(savedState.tip, 'base64'));
    if (!tip.ok) throw new Error(`chain state's tip does not decode: ${tip.error.field} ${tip.error.problem}`);
    state = { tip: tip.value, transactionCount: savedState.transactionCount, sourceOffsets: savedState.sourceOffsets, recentIds: savedState.recentIds };
  }
  return { brokers: raw.brokers, parameters, topics, built: { ...built, ...(state === undefined ? {} : { state }) } };
}

/** Why the saved chain is not the one asked for (undefined: it is). */
export function chainMismatch(saved: SavedChain, wanted: ChainParameters, brokers: string): string | undefined {
  if (saved.brokers !== brokers) return `it is on ${saved.brokers}, not ${brokers}`;
  const different = (Object.keys(wanted) as (keyof ChainParameters)[]).filter((key) => saved.parameters[key] !== wanted[key]);
  if (different.length > 0) return `it was built with ${different.map((key) => `${key} ${saved.parameters[key]}`).join(', ')}; asked for ${different.map((key) => `${key} ${wanted[key]}`).join(', ')}`;
  return undefined;
}

export function saveChain(file: string, saved: SavedChain): void {
  writeFileSync(file, serializeChain(saved));
}

export function loadChain(file: string): SavedChain {
  return parseChain(readFileSync(file, 'utf8'));
}
