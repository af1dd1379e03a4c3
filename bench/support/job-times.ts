import { Redis } from 'ioredis';
import { jobIdFor } from '../../src/inference/job-id.ts';
import { redisPrefix, redisUrl } from './resources.ts';

/** When BullMQ created a job, a worker took it, and the worker finished it (epoch ms). */
export interface JobTimes {
  createdAt: number;
  processedAt: number;
  finishedAt: number;
}

/**
 * Reads the times BullMQ keeps in each finished job's hash (finished jobs are retained for
 * redeliveries, so they are still there after the run). Missing jobs map to undefined.
 */
export async function readJobTimes(
  queueName: string,
  jobs: Array<{ eventId: string; revision: string }>,
): Promise<Array<JobTimes | undefined>> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 3 });
  const base = `${redisPrefix}:${queueName}:`;
  const times: Array<JobTimes | undefined> = [];
  try {
    for (let i = 0; i < jobs.length; i += 1_000) {
      const pipeline = redis.pipeline();
      for (const job of jobs.slice(i, i + 1_000)) {
        pipeline.hmget(
          `${base}${jobIdFor(job.eventId, job.revision)}`,
          'timestamp',
          'processedOn',
          'finishedOn',
        );
      }
      for (const [error, reply] of (await pipeline.exec()) ?? []) {
        times.push(error ? undefined : toTimes(reply as Array<string | null>));
      }
    }
  } finally {
    redis.disconnect();
  }
  return times;
}

function toTimes(reply: Array<string | null>): JobTimes | undefined {
  const [created, processed, finished] = reply.map(Number);
  if (!created || !processed || !finished) return undefined;
  return { createdAt: created, processedAt: processed, finishedAt: finished };
}
