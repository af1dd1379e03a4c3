import { afterEach, describe, expect, it } from 'vitest';
import type { PartitionContext } from '../../src/actors/partition.ts';
import { Service } from '../../src/service.ts';
import {
  type Bench,
  expectCommittedToEnd,
  expectEachIdOnce,
  openBench,
} from '../support/pipeline.ts';

let bench: Bench | undefined;
let service: Service | undefined;

afterEach(async () => {
  await service?.stop();
  await bench?.close();
  service = undefined;
  bench = undefined;
});

describe('backpressure', () => {
  it('holds no more than the window while a backlog ten times larger waits in Kafka', async () => {
    const window = 16;
    bench = await openBench({
      prefix: 'backlog',
      partitions: 2,
      emails: 20 * window,
      replica: { slots: 4, serviceTimeMs: 15 },
    });
    await bench.publish();
    service = new Service(bench.config({ partition: { window, ordering: 'none' } }));
    await service.start();
    // Sampling starts once the service runs, so start-up allocations are not counted as growth.
    const samples: Array<{ held: number; rss: number }> = [];
    const sampler = setInterval(() => {
      const held = (service?.partitionActors() ?? []).map(
        (a) => (a.getSnapshot().context as PartitionContext).window.unsettled,
      );
      samples.push({ held: Math.max(0, ...held), rss: process.memoryUsage().rss });
    }, 25);
    try {
      await bench.reader.waitFor(bench.emails.length, 60_000);
    } finally {
      clearInterval(sampler);
    }

    expectEachIdOnce(bench);
    expect(samples.length).toBeGreaterThan(20);
    expect(Math.max(...samples.map((s) => s.held))).toBe(window);
    const rss = samples.map((s) => s.rss);
    // Memory stays flat: the backlog stays in Kafka, not in the process.
    expect(Math.max(...rss) - Math.min(...rss)).toBeLessThan(64 * 1024 * 1024);
    await expectCommittedToEnd(bench, service.config.kafka.groupId);
  });
});
