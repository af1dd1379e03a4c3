import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Subprocess, spawn } from 'bun';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { jobIdFor } from '../../src/inference/job-id.ts';
import { type RunningReplica, startReplica } from '../../src/replica/server.ts';
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
      replicas: [{ url: replica.url, slots: 2, weight: 1 }],
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
});

async function startWorkerProcess(
  dir: string,
  queueName: string,
  replicaUrl: string,
): Promise<Subprocess<'ignore', 'pipe', 'pipe'>> {
  const path = join(dir, 'config.json');
  const config = {
    redis: { url: redisUrl, prefix: testPrefix },
    queue: { name: queueName, lockDurationMs, stalledIntervalMs },
    replicas: [{ url: replicaUrl, slots: 2 }],
  };
  writeFileSync(path, JSON.stringify(config));
  const child = spawn([process.execPath, 'src/main.ts', 'worker'], {
    env: { ...process.env, TOKENLINE_CONFIG: path, TOKENLINE_LOG_LEVEL: 'warn' },
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
  });
  let output = '';
  const decoder = new TextDecoder();
  void (async () => {
    for await (const chunk of child.stdout) output += decoder.decode(chunk);
  })();
  void (async () => {
    for await (const chunk of child.stderr) output += decoder.decode(chunk);
  })();
  const end = Date.now() + 20_000;
  while (!output.includes('pulling')) {
    if (child.exitCode !== null || Date.now() > end) {
      child.kill('SIGKILL');
      throw new Error(`worker process did not start:\n${output}`);
    }
    await Bun.sleep(20);
  }
  return child;
}
