import { afterEach, describe, expect, it } from 'vitest';
import { Service } from '../../src/service.ts';
import {
  type Bench,
  expectCommittedToEnd,
  expectEachIdOnce,
  expectKeyOrder,
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

describe('replica faults, injected for real', () => {
  it('rides out a replica answering 503 for a while: every record emitted once, in key order', async () => {
    bench = await openBench({
      prefix: 'f503',
      partitions: 3,
      emails: 120,
      replica: { slots: 8, serviceTimeMs: 2 },
    });
    bench.replica.setFaults({ errorRate: 1, errorStatus: 503 });
    service = new Service(
      bench.config({
        retry: { maxAttempts: 30, baseDelayMs: 50, maxDelayMs: 400, budgetMinPerSecond: 1_000 },
      }),
    );
    await service.start();
    await bench.publish();
    await Bun.sleep(1_500);
    bench.replica.setFaults({});
    await bench.reader.waitFor(bench.emails.length, 60_000);

    expectEachIdOnce(bench);
    expect(bench.reader.deadLetters).toHaveLength(0);
    expect(bench.reader.outputs.some((o) => o.attempts > 1)).toBe(true);
    expect(bench.replica.requests().some((r) => r.status === 503)).toBe(true);
    expectKeyOrder(bench);
    await expectCommittedToEnd(bench, service.config.kafka.groupId);
  });

  it('honours Retry-After from a replica answering 429', async () => {
    bench = await openBench({
      prefix: 'f429',
      partitions: 2,
      emails: 40,
      replica: { slots: 8, serviceTimeMs: 1 },
    });
    bench.replica.setFaults({ errorRate: 0.5, errorStatus: 429, retryAfterSeconds: 1 });
    service = new Service(bench.config({ retry: { maxAttempts: 30, budgetMinPerSecond: 1_000 } }));
    await service.start();
    await bench.publish();
    await bench.reader.waitFor(bench.emails.length, 60_000);

    expectEachIdOnce(bench);
    const retried = bench.reader.outputs.filter((o) => o.attempts > 1);
    expect(retried.length).toBeGreaterThan(0);
    for (const output of retried) {
      const calls = bench.replica.requests(output.eventId);
      for (let i = 1; i < calls.length; i++) {
        const previous = calls[i - 1];
        const call = calls[i];
        if (!previous || !call || previous.status !== 429) continue;
        // The next attempt starts no earlier than Retry-After after the 429 was answered.
        const answeredAt = previous.startedAt + previous.durationMs;
        expect(call.startedAt - answeredAt).toBeGreaterThanOrEqual(950);
      }
    }
    await expectCommittedToEnd(bench, service.config.kafka.groupId);
  });

  it('aborts calls to a hanging replica at the deadline and dead-letters them with reason deadline', async () => {
    bench = await openBench({
      prefix: 'fhang',
      partitions: 2,
      emails: 12,
      replica: { slots: 8, serviceTimeMs: 1 },
    });
    bench.replica.setFaults({ hang: true });
    service = new Service(bench.config({ task: { defaultTtlMs: 1_500 } }));
    await service.start();
    await bench.publish();
    await bench.reader.waitFor(bench.emails.length, 30_000);

    expectEachIdOnce(bench);
    expect(bench.reader.deadLetters.map((d) => d.reason)).toEqual(
      bench.emails.map(() => 'deadline'),
    );
    await Bun.sleep(200);
    const calls = bench.replica.requests();
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.every((c) => c.status === 499)).toBe(true);
    await expectCommittedToEnd(bench, service.config.kafka.groupId);
  });

  it('dead-letters with reason deadline when the deadline expires while retrying', async () => {
    bench = await openBench({
      prefix: 'fdead',
      partitions: 1,
      emails: 6,
      replica: { slots: 4, serviceTimeMs: 1 },
    });
    bench.replica.setFaults({ errorRate: 1, errorStatus: 503, retryAfterSeconds: 1 });
    service = new Service(
      bench.config({
        task: { defaultTtlMs: 2_500 },
        retry: { maxAttempts: 50, budgetMinPerSecond: 1_000 },
        // This test is about the retry policy alone; the breaker has its own tests.
        breaker: { windowSize: 1_000, minimumCalls: 1_000, consecutiveFailures: 1_000 },
      }),
    );
    await service.start();
    await bench.publish();
    await bench.reader.waitFor(bench.emails.length, 30_000);

    expectEachIdOnce(bench);
    for (const dead of bench.reader.deadLetters) {
      expect(dead.reason).toBe('deadline');
      expect(Number(dead.headers.get('tl-attempts'))).toBeGreaterThanOrEqual(2);
      expect(dead.headers.get('tl-error-code')).toBe('TL_REPLICA');
    }
    await expectCommittedToEnd(bench, service.config.kafka.groupId);
  });
});
