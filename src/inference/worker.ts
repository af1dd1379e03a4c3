import { type ConnectionOptions, type Job, Worker } from 'bullmq';
import type { Config, ReplicaConfig } from '../config.ts';
import { TokenlineError, toErrorInfo } from '../errors.ts';
import { logger } from '../log.ts';
import type { InferenceJobData, InferenceJobResult } from './job.ts';
import { ReplicaClient } from './replica-client.ts';

export interface WorkerPoolOptions {
  connection: ConnectionOptions;
  prefix: string;
  queueName: string;
  replicas: ReplicaConfig[];
  model: Config['model'];
}

const log = logger('worker');

/**
 * Workers that pull inference jobs for a pool of replicas. Each replica gets its own BullMQ
 * worker whose concurrency equals its slots, so a replica takes work at the pace it serves it
 * and a slow replica simply takes less.
 */
export class WorkerPool {
  readonly #workers: Worker<InferenceJobData, InferenceJobResult>[] = [];

  constructor(options: WorkerPoolOptions) {
    for (const replica of options.replicas) {
      const client = new ReplicaClient(replica, options.model);
      const worker = new Worker<InferenceJobData, InferenceJobResult>(
        options.queueName,
        (job) => runJob(client, job),
        { connection: options.connection, prefix: options.prefix, concurrency: replica.slots },
      );
      worker.on('error', (error) => log.warn({ err: error, replica: client.url }, 'worker error'));
      this.#workers.push(worker);
    }
  }

  async start(): Promise<void> {
    await Promise.all(this.#workers.map((w) => w.waitUntilReady()));
  }

  /**
   * Stops taking jobs. `force` leaves running jobs behind: their locks expire and BullMQ's
   * stalled-job check hands them to another worker.
   */
  async close(force = false): Promise<void> {
    await Promise.all(this.#workers.map((w) => w.close(force)));
  }
}

/**
 * Runs one job. A replica failure is an outcome, not a thrown error: the job completes with
 * the classified error and the partition actor decides whether to retry.
 */
export async function runJob(
  client: ReplicaClient,
  job: Job<InferenceJobData, InferenceJobResult>,
): Promise<InferenceJobResult> {
  const started = Date.now();
  const data = job.data;
  try {
    const answer = await client.infer(data.text, {
      eventId: data.eventId,
      deadline: data.deadline,
      traceparent: data.traceparent,
    });
    return {
      ok: true,
      result: {
        output: answer.output,
        model: client.modelName,
        revision: data.revision,
        usage: answer.usage,
        queueMs: Math.max(0, (job.processedOn ?? started) - job.timestamp),
        serviceMs: Date.now() - started,
        replica: client.url,
      },
    };
  } catch (error) {
    if (!(error instanceof TokenlineError))
      log.error({ err: error }, 'unexpected inference failure');
    return { ok: false, error: toErrorInfo(error) };
  }
}
