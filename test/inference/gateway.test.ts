import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { errorCodes } from '../../src/errors.ts';
import { jobIdFor } from '../../src/inference/job-id.ts';
import { type RunningReplica, startReplica } from '../../src/replica/server.ts';
import { openTestQueue, request, revision, type TestQueue, waitFor } from './fixtures.ts';

describe('inference gateway on a real Redis', () => {
  let queue: TestQueue;
  let replica: RunningReplica;

  beforeEach(async () => {
    queue = await openTestQueue('gateway');
    replica = await startReplica({ port: 0, slots: 4, serviceTimeMs: 0 });
    await queue.pool({ replicas: [{ url: replica.url, slots: 4 }] });
  });

  afterEach(async () => {
    await queue.close();
    await replica.stop();
  });

  const calls = (eventId: string) => replica.requests(eventId).length;
  const signal = () => new AbortController().signal;

  it('answers a record submitted again after its job finished from the stored result', async () => {
    const gateway = await queue.gateway();
    const first = await gateway.infer(request('again-1'), signal());
    expect(first.ok).toBe(true);

    const second = await gateway.infer(request('again-1'), signal());
    expect(second).toEqual(first);
    expect(calls('again-1')).toBe(1);
  });

  it('answers a record redelivered to another gateway (a restarted service) the same way', async () => {
    const before = await queue.gateway();
    const first = await before.infer(request('restart-1'), signal());
    await before.close();

    const after = await queue.gateway();
    expect(await after.infer(request('restart-1'), signal())).toEqual(first);
    expect(calls('restart-1')).toBe(1);
  });

  it('joins a job that is still running instead of adding a second one', async () => {
    replica.setFaults({ latencyMs: 400 });
    const gateway = await queue.gateway();
    const other = await queue.gateway();
    const first = gateway.infer(request('join-1'), signal());
    await waitFor(() => replica.stats().inFlight === 1, 5_000, 'the first call to start');

    const joined = await Promise.all([
      other.infer(request('join-1'), signal()),
      gateway.infer(request('join-1'), signal()),
    ]);
    const original = await first;
    expect(original.ok).toBe(true);
    expect(joined).toEqual([original, original]);
    expect(calls('join-1')).toBe(1);
  });

  it('submits the same record twice in one batch as one job', async () => {
    const gateway = await queue.gateway();
    const [a, b] = await Promise.all([
      gateway.infer(request('batch-1'), signal()),
      gateway.infer(request('batch-1'), signal()),
    ]);
    expect(a.ok).toBe(true);
    expect(b).toEqual(a);
    expect(calls('batch-1')).toBe(1);
  });

  it('calls the model again for a retry after a failed attempt', async () => {
    replica.setFaults({ errorRate: 1, errorStatus: 503 });
    const gateway = await queue.gateway();
    const failed = await gateway.infer(request('retry-1'), signal());
    expect(failed).toMatchObject({ ok: false, error: { code: 'TL_REPLICA', retryable: true } });

    replica.setFaults({});
    const retried = await gateway.infer(request('retry-1'), signal());
    expect(retried.ok).toBe(true);
    expect(calls('retry-1')).toBe(2);
  });

  it('keeps finished jobs within the retention bound by count', async () => {
    const gateway = await queue.gateway({ retainCount: 3 });
    for (let i = 0; i < 6; i++) await gateway.infer(request(`retain-${i}`), signal());

    // Past the bound the oldest result is gone: a redelivery now calls the model again.
    const key = (i: number) => `tokenline-test:${queue.name}:${jobIdFor(`retain-${i}`, revision)}`;
    expect(await queue.redis.exists(key(0))).toBe(0);
    expect(await queue.redis.exists(key(5))).toBe(1);
    await gateway.infer(request('retain-0'), signal());
    expect(calls('retain-0')).toBe(2);
  });
});

describe('a worker in the same process as the gateway', () => {
  let queue: TestQueue;
  let replica: RunningReplica;

  beforeEach(async () => {
    queue = await openTestQueue('gateway-local');
    replica = await startReplica({ port: 0, slots: 4, serviceTimeMs: 0 });
  });

  afterEach(async () => {
    await queue.close();
    await replica.stop();
  });

  it('hands over a result once Redis holds it, before the event stream could bring it', async () => {
    // Reads of the event stream pause two seconds after each read that brought entries, and the
    // job's `waiting` entry brings one: its `completed` entry cannot arrive within that time.
    const lingerMs = 2_000;
    const gateway = await queue.gateway({ batchWindowMs: lingerMs });
    const stored: Array<{ finishedOn?: string | null; returnvalue?: string | null }> = [];
    let enqueuedAt = 0;
    await queue.pool({
      replicas: [{ url: replica.url, slots: 4 }],
      onCompleted: (jobId, result) => {
        void queue.redis
          .hmget(`tokenline-test:${queue.name}:${jobId}`, 'timestamp', 'finishedOn', 'returnvalue')
          .then(([timestamp, finishedOn, returnvalue]) => {
            enqueuedAt = Number(timestamp);
            stored.push({ finishedOn, returnvalue });
            gateway.completed(jobId, result);
          });
      },
    });

    const outcome = await gateway.infer(request('local-1'), new AbortController().signal);
    const answeredAt = Date.now();
    expect(outcome.ok).toBe(true);
    expect(stored).toHaveLength(1);
    expect(stored[0]?.finishedOn).not.toBeNull();
    expect(JSON.parse(stored[0]?.returnvalue ?? 'null')).toEqual(outcome);
    expect(answeredAt - enqueuedAt).toBeLessThan(lingerMs);
  });

  it('does not end a wait with a failure handed over directly: failures come from the queue', async () => {
    replica.setFaults({ latencyMs: 300 });
    const gateway = await queue.gateway();
    await queue.pool({ replicas: [{ url: replica.url, slots: 4 }] });
    const pending = gateway.infer(request('local-2'), new AbortController().signal);
    await waitFor(() => replica.stats().inFlight === 1, 5_000, 'the call to start');

    const failure = { code: errorCodes.connection, message: 'stale', retryable: true };
    gateway.completed(jobIdFor('local-2', revision), { ok: false, error: failure });
    const outcome = await pending;
    expect(outcome.ok).toBe(true);
    expect(replica.requests('local-2')).toHaveLength(1);
  });
});
