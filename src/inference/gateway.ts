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
}

interface Waiter {
  resolve(outcome: InferenceOutcome): void;
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

  #finish(jobId: string, outcome: InferenceOutcome): void {
    const waiters = this.#waiters.get(jobId);
    if (!waiters) return;
    this.#waiters.delete(jobId);
    // A failed attempt must not be served to the retry as a stored result: drop the job first.
    const ready = outcome.ok ? Promise.resolve() : this.#queue.remove(jobId).then(() => undefined);
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
    else this.#waiters.delete(jobId);
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
