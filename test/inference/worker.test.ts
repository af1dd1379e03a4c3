import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { InspectionEvent } from 'xstate';
import { defaultBreakerOptions } from '../../src/actors/breaker.ts';
import { workerConcurrency } from '../../src/config.ts';
import type { InferenceOutcome } from '../../src/contracts/inference.ts';
import { breakerIds, fetchLimitWarning } from '../../src/inference/worker.ts';
import { type RunningReplica, startReplica } from '../../src/replica/server.ts';
import { inferWithRetries, openTestQueue, request, type TestQueue, waitFor } from './fixtures.ts';

const slots = 4;

describe('replica pool with circuit breakers on a real Redis', () => {
  let queue: TestQueue;
  let healthy: RunningReplica;
  let broken: RunningReplica;

  beforeEach(async () => {
    queue = await openTestQueue('pool');
    healthy = await startReplica({ port: 0, slots, serviceTimeMs: 2 });
    broken = await startReplica({ port: 0, slots, serviceTimeMs: 2 });
  });

  afterEach(async () => {
    await queue.close();
    await healthy.stop();
    await broken.stop();
  });

  const replicas = () => [
    { url: healthy.url, slots },
    { url: broken.url, slots },
  ];

  async function runRecords(prefix: string, count: number): Promise<InferenceOutcome[]> {
    const gateway = await queue.gateway();
    const ids = Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
    return Promise.all(ids.map((id) => inferWithRetries(gateway, request(id))));
  }

  it('opens the breaker of a replica that fails every call; the other one serves every record', async () => {
    broken.setFaults({ errorRate: 1, errorStatus: 503 });
    const transitions: string[] = [];
    const inspect = (event: InspectionEvent) => {
      if (event.type === '@xstate.snapshot') transitions.push(String(event.snapshot.status));
    };
    const pool = await queue.pool({
      replicas: replicas(),
      breaker: { ...defaultBreakerOptions, consecutiveFailures: 3, cooldownMs: 60_000 },
      inspect,
    });

    const outcomes = await runRecords('hard', 200);

    expect(outcomes.every((o) => o.ok)).toBe(true);
    const servedBy = outcomes.map((o) => (o.ok ? o.result.replica : null));
    expect(new Set(servedBy)).toEqual(new Set([healthy.url]));
    // At most the calls that were already running when the breaker opened reach the broken one.
    const concurrency = workerConcurrency({ url: broken.url, slots });
    expect(broken.requests().length).toBeLessThanOrEqual(3 + concurrency);
    expect(pool.breakers()).toEqual([
      expect.objectContaining({ replica: healthy.url, state: 'closed', opened: 0 }),
      expect.objectContaining({
        replica: broken.url,
        state: 'open',
        opened: 1,
        lastFailure: expect.objectContaining({ code: 'TL_REPLICA', status: 503 }),
      }),
    ]);
    expect(pool.breakerActors().map((actor) => actor.id)).toEqual(
      breakerIds([healthy.url, broken.url]),
    );
    expect(transitions.length).toBeGreaterThan(0);
  });

  it('takes a replica back after an outage: half-open probes succeed and the breaker closes', async () => {
    broken.setFaults({ outageUntil: Date.now() + 60_000 });
    const pool = await queue.pool({
      replicas: replicas(),
      breaker: { ...defaultBreakerOptions, consecutiveFailures: 2, cooldownMs: 300, probes: 1 },
    });
    const changes: string[] = [];
    pool.breakerActors()[1]?.subscribe((snapshot) => {
      const state = String(snapshot.value);
      if (changes.at(-1) !== state) changes.push(state);
    });

    const during = await runRecords('outage', 60);
    expect(during.every((o) => o.ok)).toBe(true);
    expect(pool.breakers()[1]?.state).not.toBe('closed');

    broken.setFaults({});
    await waitFor(() => pool.breakers()[1]?.state === 'halfOpen', 2_000, 'the cooldown to pass');
    const after = await runRecords('after', 200);
    expect(after.every((o) => o.ok)).toBe(true);
    expect(pool.breakers()[1]?.state).toBe('closed');
    const servedByBroken = after.filter((o) => o.ok && o.result.replica === broken.url);
    expect(servedByBroken.length).toBeGreaterThan(0);
    expect(changes).toEqual(expect.arrayContaining(['open', 'halfOpen', 'closed']));
  });

  it('leaves jobs in the queue while its breaker is open, for a replica that can serve them', async () => {
    broken.setFaults({ errorRate: 1, errorStatus: 503 });
    const gateway = await queue.gateway();
    const pool = await queue.pool({
      replicas: [{ url: broken.url, slots }],
      breaker: { ...defaultBreakerOptions, consecutiveFailures: 1, cooldownMs: 60_000 },
    });
    const failed = await gateway.infer(request('first'), new AbortController().signal);
    expect(failed.ok).toBe(false);
    expect(pool.breakers()[0]?.state).toBe('open');

    const waiting = gateway.infer(request('second'), new AbortController().signal);
    await Bun.sleep(500);
    expect(await gateway.queue.getWaitingCount()).toBe(1);
    expect(broken.requests('second')).toHaveLength(0);

    await queue.pool({ replicas: [{ url: healthy.url, slots }] });
    expect(await waiting).toMatchObject({ ok: true, result: { replica: healthy.url } });
    expect(broken.requests()).toHaveLength(1);
  });

  it('does not blame a replica for requests it rightly rejects', async () => {
    const pool = await queue.pool({
      replicas: [{ url: healthy.url, slots, model: 'no-such-model' }],
      breaker: { ...defaultBreakerOptions, consecutiveFailures: 2 },
    });
    const outcomes = await runRecords('rejected', 10);
    expect(outcomes.every((o) => !o.ok && o.error.code === 'TL_VALIDATION')).toBe(true);
    expect(pool.breakers()[0]).toMatchObject({ state: 'closed', calls: 0 });
  });
});

describe('how many requests a replica gets at once', () => {
  let queue: TestQueue;
  let replica: RunningReplica;

  beforeEach(async () => {
    queue = await openTestQueue('headroom');
    replica = await startReplica({ port: 0, slots, serviceTimeMs: 150 });
  });

  afterEach(async () => {
    await queue.close();
    await replica.stop();
  });

  async function mostAtOnce(headroom: number | undefined): Promise<number> {
    await queue.pool({ replicas: [{ url: replica.url, slots, headroom }] });
    const gateway = await queue.gateway();
    let most = 0;
    const sampler = setInterval(() => {
      const { inFlight, queued } = replica.stats();
      most = Math.max(most, inFlight + queued);
    }, 5);
    const ids = Array.from({ length: 24 }, (_, i) => `headroom-${headroom}-${i}`);
    const outcomes = await Promise.all(
      ids.map((id) => gateway.infer(request(id), new AbortController().signal)),
    );
    clearInterval(sampler);
    expect(outcomes.every((o) => o.ok)).toBe(true);
    return most;
  }

  it('is its slots plus half of them by default, the extra waiting in its own queue', async () => {
    expect(workerConcurrency({ url: replica.url, slots })).toBe(slots + 2);
    expect(await mostAtOnce(undefined)).toBe(slots + 2);
  });

  it('is exactly its slots with headroom 0, for servers that refuse what they cannot start', async () => {
    expect(await mostAtOnce(0)).toBe(slots);
  });

  it('gets at most 64 extra by default, what the built-in replica queues before answering 429', () => {
    expect(workerConcurrency({ url: replica.url, slots: 100 })).toBe(150);
    expect(workerConcurrency({ url: replica.url, slots: 200 })).toBe(264);
    expect(workerConcurrency({ url: replica.url, slots: 200, headroom: 100 })).toBe(300);
  });
});

describe("Bun's limit on fetch requests in flight", () => {
  it('is named with the setting that raises it when the workers may run more than it', () => {
    const warning = fetchLimitWarning(300, undefined);
    expect(warning).toContain('at most 256 at a time');
    expect(warning).toContain('BUN_CONFIG_MAX_HTTP_REQUESTS=300');
    expect(fetchLimitWarning(256, undefined)).toBeNull();
    expect(fetchLimitWarning(300, '512')).toBeNull();
    expect(fetchLimitWarning(600, '512')).toContain('at most 512 at a time');
    expect(fetchLimitWarning(300, 'many')).toContain('at most 256 at a time');
  });
});

describe('breaker ids', () => {
  it('name each replica by host and port, numbering a URL listed twice', () => {
    expect(
      breakerIds(['http://10.0.0.1:8000', 'https://gpu-2:8000/', 'http://10.0.0.1:8000']),
    ).toEqual(['breaker-10.0.0.1-8000', 'breaker-gpu-2-8000', 'breaker-10.0.0.1-8000-2']);
  });
});
