import { afterEach, describe, expect, it } from 'vitest';
import {
  type Bench,
  expectCommittedToEnd,
  expectEachIdOnce,
  openBench,
} from '../support/pipeline.ts';
import { type PrivateRedis, startPrivateRedis } from '../support/redis-server.ts';
import { startServiceProcess } from '../support/service-process.ts';

let bench: Bench | undefined;
let redis: PrivateRedis | undefined;

afterEach(async () => {
  await redis?.stop();
  redis = undefined;
  await bench?.close();
  bench = undefined;
});

describe('Redis restarted without its data in the middle of a run', () => {
  it('enqueues the lost jobs again: every record gets its result, long before its deadline', async () => {
    bench = await openBench({
      prefix: 'redis-loss',
      partitions: 2,
      emails: 120,
      replica: { slots: 4, serviceTimeMs: 100 },
    });
    redis = await startPrivateRedis();
    const { port } = redis;
    // Deadlines far beyond the test's wait: a lost job left waiting would fail the test.
    const config = bench.config({ redis: { url: redis.url }, task: { defaultTtlMs: 600_000 } });
    const service = await startServiceProcess(config);
    try {
      await bench.publish();
      await bench.reader.waitFor(15, 30_000);
      // SIGKILL and a new, empty server on the same port: every queued job is gone.
      await redis.stop();
      await Bun.sleep(500);
      redis = await startPrivateRedis([], port);

      await bench.reader.waitFor(bench.emails.length, 90_000);
      expect(bench.reader.deadLetters).toHaveLength(0);
      expectEachIdOnce(bench);
      await expectCommittedToEnd(bench, config.kafka.groupId);
      expect(service.output()).toContain('inference jobs lost from Redis');
      // Jobs lost before their call were run once the records enqueued them again.
      for (const email of bench.emails) {
        expect(bench.replica.requests(email.eventId).length, email.eventId).toBeGreaterThan(0);
      }
    } finally {
      await service.kill('SIGTERM');
    }
  });
});
