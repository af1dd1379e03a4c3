import { afterEach, describe, expect, it } from 'vitest';
import { workerConcurrency } from '../../src/config.ts';
import { type RunningReplica, startReplica } from '../../src/replica/server.ts';
import { Service } from '../../src/service.ts';
import {
  type Bench,
  expectCommittedToEnd,
  expectEachIdOnce,
  expectKeyOrder,
  openBench,
} from '../support/pipeline.ts';

let bench: Bench | undefined;
let broken: RunningReplica | undefined;
let service: Service | undefined;

afterEach(async () => {
  await service?.stop();
  await bench?.close();
  await broken?.stop();
  service = undefined;
  bench = undefined;
  broken = undefined;
});

describe('two replicas behind the service, one of them failing hard', () => {
  it('opens the failing replica’s breaker and emits every record once through the other', async () => {
    bench = await openBench({
      prefix: 'pool2',
      partitions: 2,
      emails: 150,
      replica: { slots: 8, serviceTimeMs: 2 },
    });
    broken = await startReplica({
      port: 0,
      slots: 8,
      serviceTimeMs: 2,
      faults: { errorRate: 1, errorStatus: 503 },
    });
    service = new Service(
      bench.config({
        replicas: [
          { url: bench.replica.url, slots: 8 },
          { url: broken.url, slots: 8 },
        ],
        breaker: { consecutiveFailures: 5, cooldownMs: 60_000 },
        retry: { baseDelayMs: 20, maxDelayMs: 200, budgetMinPerSecond: 1_000 },
      }),
    );
    await service.start();
    await bench.publish();
    await bench.reader.waitFor(bench.emails.length, 60_000);

    expectEachIdOnce(bench);
    expect(bench.reader.deadLetters).toHaveLength(0);
    const served = new Set(
      bench.replica
        .requests()
        .filter((entry) => entry.status === 200)
        .map((entry) => entry.eventId),
    );
    expect(bench.emails.every((email) => served.has(email.eventId))).toBe(true);
    const states = service.breakers().map((actor) => actor.getSnapshot().value);
    expect(states).toEqual(['closed', 'open']);
    // Only the calls already running when it opened reached the broken replica.
    // Those are at most the breaker's threshold plus what its worker may run at once.
    expect(broken.requests().length).toBeLessThanOrEqual(
      5 + workerConcurrency({ url: broken.url, slots: 8 }),
    );
    expectKeyOrder(bench);
    await expectCommittedToEnd(bench, service.config.kafka.groupId);
  });
});
