import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { parseConfig } from '../../src/config.ts';
import type { InferenceOutcome, InferenceRequest } from '../../src/contracts/inference.ts';
import { type GatewayOptions, InferenceGateway } from '../../src/inference/gateway.ts';
import { WorkerPool, type WorkerPoolOptions } from '../../src/inference/worker.ts';
import { redisUrl, uniqueName } from '../support/services.ts';

export const testPrefix = 'tokenline-test';
export const revision = 'rev-test';
export const model = parseConfig({}).model;

/**
 * A queue of its own on the shared Redis, with the gateways and worker pools a test opens on
 * it; `close` stops them all and removes every key of the queue.
 */
export interface TestQueue {
  name: string;
  connection: { url: string; maxRetriesPerRequest: null };
  redis: Redis;
  gateway(options?: Partial<GatewayOptions>): Promise<InferenceGateway>;
  pool(
    options: Partial<WorkerPoolOptions> & Pick<WorkerPoolOptions, 'replicas'>,
  ): Promise<WorkerPool>;
  /** Counts the `completed` events of the queue per job id, from now on. */
  completions(): Promise<{ count(jobId: string): number; close(): Promise<void> }>;
  close(): Promise<void>;
}

export async function openTestQueue(prefix: string): Promise<TestQueue> {
  const name = uniqueName(prefix);
  const connection = { url: redisUrl, maxRetriesPerRequest: null };
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const closers: Array<() => Promise<void>> = [];

  return {
    name,
    connection,
    redis,
    async gateway(options = {}) {
      const gateway = new InferenceGateway({
        connection,
        redis,
        prefix: testPrefix,
        queueName: name,
        revision,
        retainSeconds: 600,
        retainCount: 1_000,
        ...options,
      });
      await gateway.start();
      closers.push(() => gateway.close());
      return gateway;
    },
    async pool(options) {
      const pool = new WorkerPool({
        connection,
        prefix: testPrefix,
        queueName: name,
        model,
        ...options,
      });
      await pool.start();
      closers.push(() => pool.close(true));
      return pool;
    },
    async completions() {
      const events = new QueueEvents(name, { connection, prefix: testPrefix });
      await events.waitUntilReady();
      const counts = new Map<string, number>();
      events.on('completed', ({ jobId }) => counts.set(jobId, (counts.get(jobId) ?? 0) + 1));
      const close = () => events.close();
      closers.push(close);
      return { count: (jobId) => counts.get(jobId) ?? 0, close };
    },
    async close() {
      for (const close of closers.reverse()) await close().catch(() => undefined);
      const queue = new Queue(name, { connection, prefix: testPrefix });
      await queue.obliterate({ force: true });
      await queue.close();
      redis.disconnect();
    },
  };
}

export function request(eventId: string, deadlineInMs = 30_000): InferenceRequest {
  return {
    eventId,
    text: `Subject: meeting\n\nCan we move the review of ${eventId} to Friday?`,
    deadline: Date.now() + deadlineInMs,
    traceparent: undefined,
  };
}

/** What a record actor does, reduced: attempts until a result or `attempts` run out. */
export async function inferWithRetries(
  gateway: InferenceGateway,
  req: InferenceRequest,
  attempts = 10,
  backoffMs = 20,
): Promise<InferenceOutcome> {
  let outcome: InferenceOutcome = await gateway.infer(req, new AbortController().signal);
  for (let attempt = 1; attempt < attempts && !outcome.ok && outcome.error.retryable; attempt++) {
    await Bun.sleep(backoffMs);
    outcome = await gateway.infer(req, new AbortController().signal);
  }
  return outcome;
}

/** Polls until `check` holds, failing after `timeoutMs`. */
export async function waitFor(check: () => boolean, timeoutMs = 10_000, what = 'condition') {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(20);
  }
}
