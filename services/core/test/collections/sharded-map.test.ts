import { describe, expect, it } from 'vitest';
import { ShardedMap } from '../../src/collections/sharded-map.js';

describe('ShardedMap', () => {
  it('spreads entries over shards of bounded size and finds, updates and deletes them in any shard', () => {
    const map = new ShardedMap<string, number>(3);
    for (let i = 0; i < 10; i++) map.set(`k${i}`, i);
    expect(map.size).toBe(10);
    expect(map.shardCount).toBe(4);
    expect(map.get('k0')).toBe(0);
    expect(map.get('k9')).toBe(9);
    expect(map.has('k10')).toBe(false);
    map.set('k1', 100);
    expect(map.size).toBe(10);
    expect(map.get('k1')).toBe(100);
    expect(map.delete('k4')).toBe(true);
    expect(map.delete('k4')).toBe(false);
    expect(map.has('k4')).toBe(false);
    expect(map.size).toBe(9);
    expect([...map.keys()].sort()).toEqual(['k0', 'k1', 'k2', 'k3', 'k5', 'k6', 'k7', 'k8', 'k9']);
  });

  it('counts a key set twice in the only shard once', () => {
    const map = new ShardedMap<string, boolean>();
    map.set('a', true);
    map.set('a', false);
    expect(map.size).toBe(1);
    expect([...map.values()]).toEqual([false]);
  });

  it('rejects a shard capacity below 1', () => {
    expect(() => new ShardedMap(0)).toThrow(RangeError);
  });
});
