import { type ConnectionOptions, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { InferenceOutcome, InferenceRequest } from '../contracts/inference.ts';
import { errorCodes } from '../errors.ts';
import { logger, throttledWarning } from '../log.ts';
import { type InferenceJobData, type InferenceJobResult, jobName } from './job.ts';
import { type JobEvent, JobEvents } from './job-events.ts';
import { jobIdFor } from './job-id.ts';

export interface GatewayOptions {
  connection: ConnectionOptions;
  /** A plain client for the few direct reads the gateway makes. */
  redis: Redis;
  prefix: string;
  queueName: string;
  revision: string;
  /** Finished jobs kept (seconds, count), so that a redelivered record reuses its result. */
  retainSeconds: number;
  retainCount: number;
  /**
   * Enqueues issued within this window go to Redis in one round trip, and the queue's events
   * are read at most once per window. Default 2 ms.
   */
  batchWindowMs?: number;
  /**
   * How often the jobs waited for are checked to still exist in Redis; one whose key is gone
   * at two checks in a row (Redis restarted without its data, or flushed) fails as retryable,
   * so the record's retry enqueues it again instead of waiting for its deadline. Default 5000 ms.
   */
  lostJobCheckMs?: number;
}

interface Waiter {
  resolve(outcome: InferenceOutcome): void;
}

interface StoredJob {
  at: number;
  /** The last lost-job check found no key for it. */
  missing: boolean;
}

interface Pending {
  jobId: string;
  data: InferenceJobData;
}

const log = logger('inference');

/**
 * The partition actors' side of the BullMQ buffer: enqueues one job per record attempt and
 * resolves when a worker finished it. Jobs are keyed by event id and model revision, so a
 * record seen again joins a running job or reuses a finished one instead of calling the model
 * a second time.
 */
export class InferenceGateway {
  readonly #options: GatewayOptions;
  readonly #queue: Queue<InferenceJobData, InferenceJobResult>;
  readonly #events: JobEvents;
  readonly #waiters = new Map<string, Waiter[]>();
  #pending: Pending[] = [];
  #flushTimer: ReturnType<typeof setTimeout> | null = null;
  /** Jobs waited for that Redis acknowledged storing, with what the lost-job check saw. */
  readonly #stored = new Map<string, StoredJob>();
  #lostJobTimer: ReturnType<typeof setInterval> | null = null;
  #checking = false;

  constructor(options: GatewayOptions) {
    this.#options = options;
    this.#queue = new Queue(options.queueName, {
      connection: options.connection,
      prefix: options.prefix,
    });
    this.#queue.on('error', throttledWarning(log, 'inference queue: Redis error'));
    this.#events = new JobEvents({
      redis: options.redis.duplicate(),
      key: `${options.prefix}:${options.queueName}:events`,
      lingerMs: options.batchWindowMs ?? 2,
      onEvent: (event) => this.#onEvent(event),
    });
  }

  get queue(): Queue<InferenceJobData, InferenceJobResult> {
    return this.#queue;
  }

  async start(): Promise<void> {
    await Promise.all([this.#queue.waitUntilReady(), this.#events.start()]);
    const every = this.#options.lostJobCheckMs ?? 5_000;
    this.#lostJobTimer = setInterval(() => void this.#checkLostJobs(every), every);
    this.#lostJobTimer.unref?.();
  }

  infer(request: InferenceRequest, signal: AbortSignal): Promise<InferenceOutcome> {
    const jobId = jobIdFor(request.eventId, this.#options.revision);
    return new Promise<InferenceOutcome>((resolve) => {
      const waiter: Waiter = { resolve };
      const list = this.#waiters.get(jobId);
      if (list) list.push(waiter);
      else this.#waiters.set(jobId, [waiter]);
      signal.addEventListener('abort', () => this.#abandon(jobId, waiter), { once: true });

      this.#pending.push({ jobId, data: { ...request, revision: this.#options.revision } });
      this.#flushTimer ??= setTimeout(() => void this.#flush(), this.#options.batchWindowMs ?? 2);
    });
  }

  /**
   * A worker of this process stored a job's result: a successful one ends the wait now, without
   * waiting for the queue's event stream to bring it round through Redis. Failures still come
   * from the stream only: a failed job is removed and may be enqueued again under the same id,
   * and its stream event arriving after that would end the new attempt's wait with an old
   * answer. The stream's own `completed` event later finds no waiter and does nothing.
   */
  completed(jobId: string, outcome: InferenceOutcome): void {
    if (outcome.ok) this.#finish(jobId, outcome);
  }

  /** Jobs waiting for a worker; the backpressure signal of the inference buffer. */
  async depth(): Promise<number> {
    return this.#queue.getWaitingCount();
  }

  get waiting(): number {
    return this.#waiters.size;
  }

  async close(): Promise<void> {
    if (this.#flushTimer) clearTimeout(this.#flushTimer);
    if (this.#lostJobTimer) clearInterval(this.#lostJobTimer);
    await Promise.all([this.#events.close(), this.#queue.close()]);
  }

  async #flush(): Promise<void> {
    this.#flushTimer = null;
    const batch = this.#pending.filter((p) => this.#waiters.has(p.jobId));
    this.#pending = [];
    if (batch.length === 0) return;
    const { retainSeconds, retainCount } = this.#options;
    try {
      await this.#queue.addBulk(
        batch.map(({ jobId, data }) => ({
          name: jobName,
          data,
          opts: {
            jobId,
            attempts: 1,
            removeOnComplete: { age: retainSeconds, count: retainCount },
            removeOnFail: true,
          },
        })),
      );
      const at = Date.now();
      for (const { jobId } of batch) {
        if (this.#waiters.has(jobId)) this.#stored.set(jobId, { at, missing: false });
      }
    } catch (error) {
      log.warn({ err: error }, 'enqueueing inference jobs failed');
      const failure = {
        code: errorCodes.connection,
        message: 'Redis unavailable',
        retryable: true,
      };
      for (const { jobId } of batch) this.#finish(jobId, { ok: false, error: failure });
    }
  }

  #onEvent(event: JobEvent): void {
    const { jobId } = event;
    if (event.event === 'completed') {
      // Results of this process's own workers were handed over already: nobody waits for them.
      if (this.#waiters.has(jobId)) this.#finish(jobId, parseResult(event.returnvalue));
    } else if (event.event === 'failed') {
      const error = { code: errorCodes.internal, message: event.failedReason, retryable: true };
      this.#finish(jobId, { ok: false, error });
    } else if (this.#waiters.has(jobId)) {
      // BullMQ did not add a job whose id existed: when that job had already finished, no
      // `completed` event is coming, so its stored result is read now.
      void this.#resolveFinished(jobId);
    }
  }

  async #resolveFinished(jobId: string): Promise<void> {
    const key = `${this.#options.prefix}:${this.#options.queueName}:${jobId}`;
    try {
      const [finishedOn, returnvalue] = await this.#options.redis.hmget(
        key,
        'finishedOn',
        'returnvalue',
      );
      if (finishedOn && returnvalue) this.#finish(jobId, parseResult(returnvalue));
    } catch (error) {
      // The job's own `completed` event, or the record's deadline, still ends the wait.
      log.warn({ err: error, jobId }, 'reading a finished job failed');
    }
  }

  /**
   * Fails the jobs stored at least `minAgeMs` ago whose key Redis no longer has, at two checks
   * in a row: no worker will run them and no event will come. One miss alone is not enough,
   * since a job that finished in another process can be removed (`queue.retainCount`) before
   * its `completed` event reaches this reader. One pipelined EXISTS per check.
   */
  async #checkLostJobs(minAgeMs: number): Promise<void> {
    if (this.#checking) return;
    const since = Date.now() - minAgeMs;
    const due = [...this.#stored].filter(([, job]) => job.at <= since);
    if (due.length === 0) return;
    this.#checking = true;
    try {
      const prefix = `${this.#options.prefix}:${this.#options.queueName}:`;
      const pipeline = this.#options.redis.pipeline();
      for (const [jobId] of due) pipeline.exists(prefix + jobId);
      const replies = (await pipeline.exec()) ?? [];
      const lost: string[] = [];
      due.forEach(([jobId, job], index) => {
        const [error, exists] = replies[index] ?? [null, 1];
        // Finished, or enqueued again, while the check was on its way: not this job any more.
        if (error !== null || this.#stored.get(jobId) !== job) return;
        if (exists !== 0) job.missing = false;
        else if (job.missing) lost.push(jobId);
        else job.missing = true;
      });
      if (lost.length === 0) return;
      log.warn({ jobs: lost.length }, 'inference jobs lost from Redis; their records retry');
      const error = {
        code: errorCodes.connection,
        message: 'the inference job was lost from Redis (restarted without its data?)',
        retryable: true,
      };
      // Nothing to remove: the job is gone, and a job under its id now is another member's.
      for (const jobId of lost) this.#finish(jobId, { ok: false, error }, false);
    } catch {
      // Redis is unreachable: the check runs again on the next tick.
    } finally {
      this.#checking = false;
    }
  }

  #finish(jobId: string, outcome: InferenceOutcome, removeFailed = true): void {
    const waiters = this.#waiters.get(jobId);
    if (!waiters) return;
    this.#waiters.delete(jobId);
    this.#stored.delete(jobId);
    // A failed attempt must not be served to the retry as a stored result: drop the job first.
    const ready =
      outcome.ok || !removeFailed
        ? Promise.resolve()
        : this.#queue.remove(jobId).then(() => undefined);
    ready
      .catch(() => undefined)
      .finally(() => {
        for (const waiter of waiters) waiter.resolve(outcome);
      });
  }

  #abandon(jobId: string, waiter: Waiter): void {
    const list = this.#waiters.get(jobId);
    if (!list) return;
    const rest = list.filter((w) => w !== waiter);
    if (rest.length > 0) this.#waiters.set(jobId, rest);
    else {
      this.#waiters.delete(jobId);
      this.#stored.delete(jobId);
    }
  }
}

function parseResult(value: unknown): InferenceOutcome {
  const parsed = typeof value === 'string' ? safeParse(value) : value;
  if (parsed && typeof parsed === 'object' && 'ok' in parsed) return parsed as InferenceOutcome;
  return {
    ok: false,
    error: { code: errorCodes.badResponse, message: 'job result unreadable', retryable: false },
  };
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
