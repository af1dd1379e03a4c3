import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Subprocess, spawn } from 'bun';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { jobIdFor } from '../../src/inference/job-id.ts';
import { type RunningReplica, startReplica } from '../../src/replica/server.ts';
import { startPrivateRedis } from '../support/redis-server.ts';
import { redisUrl } from '../support/services.ts';
import {
  openTestQueue,
  request,
  revision,
  type TestQueue,
  testPrefix,
  waitFor,
} from './fixtures.ts';

/** Short enough for a test: a dead worker's lock expires after 1 s, checked every 0.5 s. */
const lockDurationMs = 1_000;
const stalledIntervalMs = 500;

describe('a worker process killed in the middle of a job', () => {
  let queue: TestQueue;
  let replica: RunningReplica;
  let dir: string;
  let child: Subprocess<'ignore', 'pipe', 'pipe'> | undefined;

  beforeEach(async () => {
    queue = await openTestQueue('stalled');
    replica = await startReplica({ port: 0, slots: 2, serviceTimeMs: 0 });
    dir = mkdtempSync(join(tmpdir(), 'tokenline-worker-'));
  });

  afterEach(async () => {
    child?.kill('SIGKILL');
    await child?.exited;
    await queue.close();
    await replica.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is recovered by another worker, and its result reaches the gateway once', async () => {
    replica.setFaults({ latencyMs: 1_500 });
    child = await startWorkerProcess(dir, queue.name, replica.url);
    const completions = await queue.completions();
    const gateway = await queue.gateway();

    const outcome = gateway.infer(request('stalled-1'), new AbortController().signal);
    await waitFor(() => replica.stats().inFlight === 1, 10_000, 'the worker process to call');
    child.kill('SIGKILL');
    await child.exited;

    // The second worker finds the job through BullMQ's stalled-job check once the lock expired.
    await queue.pool({
      replicas: [{ url: replica.url, slots: 2 }],
      lockDurationMs,
      stalledIntervalMs,
    });
    const result = await outcome;
    expect(result).toMatchObject({ ok: true, result: { replica: replica.url } });

    await Bun.sleep(2 * stalledIntervalMs);
    expect(completions.count(jobIdFor('stalled-1', revision))).toBe(1);
    // The killed worker's call was cut off with its process; the second one was answered.
    const calls = replica.requests('stalled-1').map((entry) => entry.status);
    expect(calls.sort()).toEqual([200, 499]);
  });

  it('stops on SIGTERM within the lock duration when its replica hangs, and another worker finishes the job', async () => {
    replica.setFaults({ hang: true });
    child = await startWorkerProcess(dir, queue.name, replica.url);
    const gateway = await queue.gateway();
    const outcome = gateway.infer(request('hang-1'), new AbortController().signal);
    await waitFor(() => replica.stats().hanging === 1, 10_000, 'the worker process to call');

    const started = Date.now();
    child.kill('SIGTERM');
    expect(await child.exited).toBe(0);
    // It waited for the job in hand, but no longer than the lock (1 s), not until the deadline.
    expect(Date.now() - started).toBeGreaterThanOrEqual(lockDurationMs - 100);
    expect(Date.now() - started).toBeLessThan(lockDurationMs + 3_000);

    replica.setFaults({ hang: false });
    await queue.pool({
      replicas: [{ url: replica.url, slots: 2 }],
      lockDurationMs,
      stalledIntervalMs,
    });
    expect(await outcome).toMatchObject({ ok: true, result: { replica: replica.url } });
  });
});

describe('the worker command', () => {
  it('refuses to start on a Redis that may evict jobs, and says why', async () => {
    const evicting = await startPrivateRedis(['--maxmemory-policy', 'allkeys-lru']);
    const dir = mkdtempSync(join(tmpdir(), 'tokenline-worker-'));
    try {
      const worker = spawnWorker(dir, { redis: { url: evicting.url } });
      expect(await worker.child.exited).toBe(1);
      await Bun.sleep(50);
      expect(worker.output()).toMatch(/maxmemory-policy allkeys-lru; BullMQ needs noeviction/);
    } finally {
      await evicting.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

interface WorkerProcess {
  child: Subprocess<'ignore', 'pipe', 'pipe'>;
  output(): string;
}

function spawnWorker(dir: string, config: Record<string, unknown>): WorkerProcess {
  const path = join(dir, 'config.json');
  writeFileSync(path, JSON.stringify(config));
  const child = spawn([process.execPath, 'src/main.ts', 'worker'], {
    env: { ...process.env, TOKENLINE_CONFIG: path, TOKENLINE_LOG_LEVEL: 'warn' },
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
  });
  let output = '';
  const decoder = new TextDecoder();
  for (const stream of [child.stdout, child.stderr]) {
    void (async () => {
      for await (const chunk of stream) output += decoder.decode(chunk);
    })();
  }
  return { child, output: () => output };
}

async function startWorkerProcess(
  dir: string,
  queueName: string,
  replicaUrl: string,
): Promise<Subprocess<'ignore', 'pipe', 'pipe'>> {
  const worker = spawnWorker(dir, {
    redis: { url: redisUrl, prefix: testPrefix },
    queue: { name: queueName, lockDurationMs, stalledIntervalMs },
    replicas: [{ url: replicaUrl, slots: 2 }],
  });
  const end = Date.now() + 20_000;
  while (!worker.output().includes('pulling')) {
    if (worker.child.exitCode !== null || Date.now() > end) {
      worker.child.kill('SIGKILL');
      throw new Error(`worker process did not start:\n${worker.output()}`);
    }
    await Bun.sleep(20);
  }
  return worker.child;
}
