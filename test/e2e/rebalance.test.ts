import { afterEach, describe, expect, it } from 'vitest';
import { Service } from '../../src/service.ts';
import {
  type Bench,
  expectCommittedToEnd,
  expectEachIdOnce,
  expectKeyOrder,
  openBench,
} from '../support/pipeline.ts';
import { committedOffsets } from '../support/services.ts';

let bench: Bench | undefined;
const services: Service[] = [];

afterEach(async () => {
  await Promise.all(services.map((s) => s.stop()));
  services.length = 0;
  await bench?.close();
  bench = undefined;
});

describe('rebalance and shutdown with records in flight', () => {
  it('a second member joining mid-stream: no record lost or duplicated, key order kept', async () => {
    bench = await openBench({
      prefix: 'rebal',
      partitions: 4,
      emails: 400,
      replica: { slots: 16, serviceTimeMs: 25 },
    });
    const config = bench.config({
      kafka: { sessionTimeoutMs: 6_000, heartbeatIntervalMs: 300 },
      partition: { drainTimeoutMs: 4_000 },
    });
    const first = new Service(config);
    services.push(first);
    await first.start();
    await bench.publish();
    await bench.reader.waitFor(80, 30_000);
    const inFlight = first
      .partitionActors()
      .reduce((n, a) => n + a.getSnapshot().context.window.unsettled, 0);
    expect(inFlight).toBeGreaterThan(0);

    const second = new Service(config);
    services.push(second);
    await second.start();
    await bench.reader.waitFor(bench.emails.length, 60_000);

    expect(second.partitionActors().length).toBeGreaterThan(0);
    expect(first.partitionActors().length).toBeLessThan(4);
    expectEachIdOnce(bench);
    expectKeyOrder(bench);
    await expectCommittedToEnd(bench, config.kafka.groupId);
  });

  it('SIGTERM drains: in-flight records finish, offsets are committed, exit 0; a restart finishes the rest', async () => {
    const { startServiceProcess } = await import('../support/service-process.ts');
    bench = await openBench({
      prefix: 'sigterm',
      partitions: 2,
      emails: 200,
      replica: { slots: 4, serviceTimeMs: 30 },
    });
    // A small window leaves most of the stream in Kafka when SIGTERM arrives.
    const config = bench.config({ partition: { window: 8 } });
    const processed = await startServiceProcess(config);
    await bench.publish();
    await bench.reader.waitFor(40, 30_000);
    const started = Date.now();
    const code = await processed.kill('SIGTERM');
    expect(code).toBe(0);
    expect(Date.now() - started).toBeLessThan(config.partition.drainTimeoutMs + 3_000);
    expect(bench.reader.outputs.length).toBeLessThan(bench.emails.length);
    // What was committed is exactly a completed prefix: every record below it has its result.
    const committed = await committedOffsets(config.kafka.groupId, bench.topics.input);
    // The reader may lag behind the broker; wait until it saw at least the committed records.
    const committedCount = committed.reduce((sum, offset) => sum + Number(offset ?? 0n), 0);
    await bench.reader.waitFor(committedCount, 10_000);
    for (const [partition, offset] of committed.entries()) {
      const below = new Set(
        bench.reader.outputs
          .filter((o) => o.source.partition === partition && BigInt(o.source.offset) < offset)
          .map((o) => o.source.offset),
      );
      expect(BigInt(below.size)).toBe(offset);
    }
    expect(committed.some((offset) => offset > 0n)).toBe(true);

    const again = await startServiceProcess(config);
    await bench.reader.waitFor(bench.emails.length, 60_000);
    await again.kill('SIGTERM');
    expectEachIdOnce(bench);
    await expectCommittedToEnd(bench, config.kafka.groupId);
  });

  it("a member stopping leaves none of the other member's jobs locked: its drain ends in time, nothing is written twice", async () => {
    const { startServiceProcess } = await import('../support/service-process.ts');
    bench = await openBench({
      prefix: 'leave-jobs',
      partitions: 2,
      emails: 400,
      replica: { slots: 8, serviceTimeMs: 100 },
    });
    // Both members' in-process workers pull the one queue, so each runs jobs of the other's
    // records. Default queue locks (15 s) and drain timeout (5 s).
    const config = bench.config({ partition: { ordering: 'none', window: 16 } });
    const first = await startServiceProcess(config);
    const second = await startServiceProcess(config);
    await bench.publish();
    await bench.reader.waitFor(40, 30_000);

    expect(await first.kill('SIGTERM')).toBe(0);
    await bench.reader.waitFor(bench.emails.length, 60_000);
    await expectCommittedToEnd(bench, config.kafka.groupId);
    await second.kill('SIGTERM');
    // The rebalance that the first member's leaving starts drains the second member's
    // partitions; none of its records may wait for a job the first member's workers held.
    expectEachIdOnce(bench);
    expect(second.output()).not.toContain('drain timed out');
  });

  it('a drain past its timeout says how many records it abandons; the next owner does them', async () => {
    const { startServiceProcess } = await import('../support/service-process.ts');
    bench = await openBench({
      prefix: 'drain-late',
      partitions: 2,
      emails: 40,
      replica: { slots: 4, serviceTimeMs: 5 },
    });
    const replica = bench.replica;
    // Slow until the drain has given up, then quick, so that the restart finishes soon.
    replica.setFaults({ latencyMs: 3_000 });
    const config = bench.config({
      partition: { window: 8, drainTimeoutMs: 500 },
      // The jobs of the stopped service stay locked until their locks expire: soon, here.
      queue: { lockDurationMs: 2_000, stalledIntervalMs: 1_000 },
    });
    const processed = await startServiceProcess(config);
    await bench.publish();
    const end = Date.now() + 20_000;
    while (replica.stats().inFlight === 0 && Date.now() < end) await Bun.sleep(50);
    expect(replica.stats().inFlight).toBeGreaterThan(0);

    expect(await processed.kill('SIGTERM')).toBe(0);
    const warning = processed
      .output()
      .split('\n')
      .filter((line) => line.includes('drain timed out'))
      .map((line) => JSON.parse(line) as { abandoned: number; drainTimeoutMs: number });
    expect(warning.length).toBeGreaterThan(0);
    expect(warning.reduce((n, w) => n + w.abandoned, 0)).toBeGreaterThan(0);
    expect(warning.every((w) => w.drainTimeoutMs === 500)).toBe(true);

    replica.setFaults({});
    const again = await startServiceProcess({ ...config, partition: { window: 8 } });
    await bench.reader.waitFor(bench.emails.length, 60_000);
    await again.kill('SIGTERM');
    const ids = new Set(bench.reader.outputs.map((o) => o.eventId));
    expect(ids.size).toBe(bench.emails.length);
    await expectCommittedToEnd(bench, config.kafka.groupId);
  });
});
