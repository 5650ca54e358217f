// The Event recorder: one Event per report, repeats aggregated into its count, failures logged, not thrown.
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { EventRecorder, type EventApi } from '../src/kube/events.js';

class FakeEvents implements EventApi {
  created: { name: string; reason: string; message: string; instance: string; uid: string | undefined }[] = [];
  bumped: { name: string; count: number }[] = [];
  failBump = false;
  failCreate = false;
  async create(event: Parameters<EventApi['create']>[0]): Promise<void> {
    if (this.failCreate) throw new Error('forbidden');
    this.created.push({ name: event.name, reason: event.reason, message: event.message, instance: event.instance, uid: event.target.uid });
  }
  async bump(event: Parameters<EventApi['bump']>[0]): Promise<void> {
    if (this.failBump) throw new Error('not found');
    this.bumped.push({ name: event.name, count: event.count });
  }
}

const target = { name: 'chainlog-miner', namespace: 'ledger', uid: 'u-1' };

describe('EventRecorder', () => {
  it('creates an Event per report and bumps its count on a repeat within the window', async () => {
    const api = new FakeEvents();
    let now = 1_000_000;
    const recorder = new EventRecorder(api, 'operator-0', pino({ level: 'silent' }), () => now);
    await recorder.record(target, { type: 'Normal', reason: 'MinersBelowPartitions', message: '1 for 2' });
    await recorder.record(target, { type: 'Normal', reason: 'MinersBelowPartitions', message: '1 for 2' });
    await recorder.record(target, { type: 'Normal', reason: 'MinersBelowPartitions', message: '1 for 3' });
    expect(api.created.map((event) => event.message)).toEqual(['1 for 2', '1 for 3']);
    expect(api.created[0]).toMatchObject({ instance: 'operator-0', uid: 'u-1' });
    expect(api.created[0]?.name).toMatch(/^chainlog-miner\.[0-9a-f]+$/);
    expect(api.bumped).toEqual([{ name: api.created[0]?.name, count: 2 }]);
    now += 11 * 60_000; // past the aggregation window: a new Event
    await recorder.record(target, { type: 'Normal', reason: 'MinersBelowPartitions', message: '1 for 2' });
    expect(api.created).toHaveLength(3);
  });

  it('never throws: a failed write is logged, and a failed bump (expired Event) creates a new one next time', async () => {
    const api = new FakeEvents();
    const recorder = new EventRecorder(api, 'operator-0', pino({ level: 'silent' }));
    api.failCreate = true;
    await expect(recorder.record(target, { type: 'Warning', reason: 'ScaleFailed', message: 'x' })).resolves.toBeUndefined();
    api.failCreate = false;
    await recorder.record(target, { type: 'Warning', reason: 'ScaleFailed', message: 'x' });
    api.failBump = true;
    await recorder.record(target, { type: 'Warning', reason: 'ScaleFailed', message: 'x' });
    api.failBump = false;
    await recorder.record(target, { type: 'Warning', reason: 'ScaleFailed', message: 'x' });
    expect(api.created).toHaveLength(2);
  });
});
