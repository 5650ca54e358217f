// bench/lib/chain-state.ts: a chain kept on a broker between bench:restart runs comes back exactly as built
// (the generator's state at the tip included), and a file naming another chain or broker is refused.
import { describe, expect, it } from 'vitest';
import { assembleBlock, encodeBlock, GENESIS_BLOCK, sealBlock } from '@chainlog/core/protocol';
import { chainMismatch, parseChain, serializeChain, type SavedChain } from '../bench/lib/chain-state.js';

function savedChain(): SavedChain {
  const transactions = [
    { id: 'a1', from: 'account-1', to: 'account-2', amount: 3, timestamp: 1_700_000_000_000 },
    { id: 'b2', from: 'account-2', to: 'account-3', amount: 5, timestamp: 1_700_000_000_001 },
  ];
  const tip = sealBlock(
    assembleBlock({
      previous: GENESIS_BLOCK,
      transactions,
      sources: [{ topic: 'tx', partition: 0, firstOffset: 0, lastOffset: 1 }],
      miner: 'bench-miner',
      timestamp: 1_700_000_000_002,
      difficulty: 0,
      reward: 50,
    }),
    0,
  );
  return {
    brokers: '127.0.0.1:20200',
    parameters: { total: 2, perBlock: 2, windowMs: 60_000, blockReward: 50 },
    topics: { blockchain: 'bench-chain', transactions: 'bench-tx' },
    built: {
      blocks: 2,
      bytes: 1234,
      seconds: 1.5,
      state: { tip, transactionCount: 3, sourceOffsets: [{ topic: 'tx', partition: 0, lastOffset: 1 }], recentIds: transactions.map(({ id, timestamp }) => ({ id, timestamp })) },
    },
  };
}

describe('chain state file', () => {
  it('round-trips the chain, its build figures and the state at the tip', () => {
    const saved = savedChain();
    const parsed = parseChain(serializeChain(saved));
    expect(parsed).toEqual(saved);
    expect(Buffer.from(encodeBlock(parsed.built.state!.tip))).toEqual(Buffer.from(encodeBlock(saved.built.state!.tip)));
  });

  it('round-trips a chain built without a window (no state)', () => {
    const { state: _state, ...figures } = savedChain().built;
    const saved = { ...savedChain(), built: figures };
    expect(parseChain(serializeChain(saved))).toEqual(saved);
  });

  it('refuses a file of another format or without its topics, and a tip that does not decode', () => {
    const text = JSON.parse(serializeChain(savedChain())) as Record<string, unknown>;
    expect(() => parseChain(JSON.stringify({ ...text, format: 2 }))).toThrow(/format 2/);
    expect(() => parseChain(JSON.stringify({ ...text, topics: { blockchain: 'x' } }))).toThrow(/topics/);
    expect(() => parseChain(JSON.stringify({ ...text, parameters: { total: 2, perBlock: 2, windowMs: 60_000 } }))).toThrow(/blockReward/);
    const state = text.state as Record<string, unknown>;
    expect(() => parseChain(JSON.stringify({ ...text, state: { ...state, tip: Buffer.from('{"index":1}').toString('base64') } }))).toThrow(/tip does not decode/);
  });

  it('names what differs when a run asks for another chain or broker', () => {
    const saved = savedChain();
    expect(chainMismatch(saved, saved.parameters, saved.brokers)).toBeUndefined();
    expect(chainMismatch(saved, { ...saved.parameters, total: 10 }, saved.brokers)).toBe('it was built with total 2; asked for total 10');
    expect(chainMismatch(saved, { ...saved.parameters, windowMs: 1, perBlock: 4 }, saved.brokers)).toBe('it was built with perBlock 2, windowMs 60000; asked for perBlock 4, windowMs 1');
    expect(chainMismatch(saved, saved.parameters, '127.0.0.1:9092')).toBe('it is on 127.0.0.1:20200, not 127.0.0.1:9092');
  });
});
