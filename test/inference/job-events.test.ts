import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { type JobEvent, JobEvents } from '../../src/inference/job-events.ts';
import { redisUrl, uniqueName } from '../support/services.ts';
import { waitFor } from './fixtures.ts';

describe('queue event reader on a real Redis', () => {
  const key = `tokenline-test:${uniqueName('events')}:events`;
  const writer = new Redis(redisUrl);

  afterEach(async () => {
    await writer.del(key);
  });

  afterAll(() => writer.disconnect());

  it('hands on completed, failed and duplicated entries written after it started', async () => {
    await writer.xadd(key, '*', 'event', 'completed', 'jobId', 'before', 'returnvalue', '{}');
    const seen: JobEvent[] = [];
    const reader = new JobEvents({
      redis: new Redis(redisUrl),
      key,
      lingerMs: 2,
      onEvent: (event) => seen.push(event),
    });
    await reader.start();

    await writer.xadd(key, '*', 'event', 'waiting', 'jobId', 'a');
    await writer.xadd(key, '*', 'event', 'completed', 'jobId', 'a', 'returnvalue', '{"ok":true}');
    await writer.xadd(key, '*', 'event', 'failed', 'jobId', 'b', 'failedReason', 'stalled');
    await writer.xadd(key, '*', 'event', 'duplicated', 'jobId', 'c');
    await waitFor(() => seen.length === 3, 5_000, 'three events');

    expect(seen).toEqual([
      { event: 'completed', jobId: 'a', returnvalue: '{"ok":true}' },
      { event: 'failed', jobId: 'b', failedReason: 'stalled' },
      { event: 'duplicated', jobId: 'c' },
    ]);
    const started = Date.now();
    await reader.close();
    // Closing interrupts the blocking read instead of waiting it out.
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('reads a stream that does not exist yet from its first entry', async () => {
    const seen: JobEvent[] = [];
    const reader = new JobEvents({
      redis: new Redis(redisUrl),
      key,
      lingerMs: 0,
      onEvent: (event) => seen.push(event),
    });
    await reader.start();
    await writer.xadd(key, '*', 'event', 'duplicated', 'jobId', 'first');
    await waitFor(() => seen.length === 1, 5_000, 'the first event');
    await reader.close();
    expect(seen).toEqual([{ event: 'duplicated', jobId: 'first' }]);
  });
});
