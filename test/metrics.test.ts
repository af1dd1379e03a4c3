import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { partitionMachine } from '../src/actors/partition.ts';
import { parseConfig } from '../src/config.ts';
import { Metrics } from '../src/metrics.ts';
import { brokerFetch, fakePorts, settle, sourceRecord, success } from './support/machine-ports.ts';

async function consumed(metrics: Metrics): Promise<number> {
  const metric = await metrics.registry.getSingleMetric('tokenline_records_consumed_total')?.get();
  return metric?.values.reduce((sum, v) => sum + v.value, 0) ?? Number.NaN;
}

describe('tokenline_records_consumed_total', () => {
  it('counts each offset once, though a full window makes the partition fetch records again', async () => {
    const metrics = new Metrics(
      { partitions: () => [], queueDepth: () => 0, breakers: () => [] },
      'r1',
      'in',
    );
    const ports = fakePorts(Date.now);
    const config = parseConfig({});
    const actor = createActor(partitionMachine, {
      inspect: metrics.inspect,
      input: {
        topic: 'in',
        partition: 0,
        task: config.task,
        ports,
        options: { ...config.partition, window: 2 },
      },
    });
    actor.start();
    // Every fetch returns all five records from the offset asked for, as the broker would.
    const records = [0, 1, 2, 3, 4].map((o) => sourceRecord(o, `k${o}`, { text: 'hi' }));
    ports.fetch = brokerFetch(ports, records);
    for (let i = 0; i < 12; i++) {
      await settle();
      for (const call of ports.calls) call.answer.resolve(success());
    }
    await settle();
    expect(ports.produced).toHaveLength(5);
    // The window of two turned records away, so they were fetched more than once...
    expect(ports.fetches.length).toBeGreaterThan(2);
    // ...and still count once each.
    expect(await consumed(metrics)).toBe(5);
    actor.stop();
  });
});
