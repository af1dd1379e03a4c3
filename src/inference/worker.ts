import type { ConnectionOptions, Job } from 'bullmq';
import type { AnyActorRef, InspectionEvent } from 'xstate';
import { type BreakerOptions, defaultBreakerOptions } from '../actors/breaker.ts';
import { type Config, type ReplicaConfig, workerConcurrency } from '../config.ts';
import { TokenlineError, toErrorInfo } from '../errors.ts';
import { logger } from '../log.ts';
import { withTimeout } from '../timeout.ts';
import type { InferenceJobData, InferenceJobResult } from './job.ts';
import { ReplicaClient } from './replica-client.ts';
import { type BreakerView, ReplicaWorker } from './replica-worker.ts';

export type { BreakerView } from './replica-worker.ts';

export interface WorkerPoolOptions {
  connection: ConnectionOptions;
  prefix: string;
  queueName: string;
  replicas: ReplicaConfig[];
  model: Config['model'];
  /** Thresholds of every replica's circuit breaker. Default `defaultBreakerOptions`. */
  breaker?: BreakerOptions;
  /** Lock on a running job, renewed while its worker lives. Default 15000 ms (`queue.*`). */
  lockDurationMs?: number;
  /** How often workers look for jobs whose lock expired. Default 10000 ms (`queue.*`). */
  stalledIntervalMs?: number;
  /** Receives every inspection event of the breaker actors (transitions included). */
  inspect?: (event: InspectionEvent) => void;
  /** Called with each job's result once it is stored (see `InferenceGateway.completed`). */
  onCompleted?: (jobId: string, result: InferenceJobResult) => void;
}

const log = logger('worker');

/**
 * Workers that pull inference jobs for a pool of replicas. Each replica gets its own BullMQ
 * worker whose concurrency is its slots plus its headroom (`workerConcurrency`), so a replica
 * takes work at the pace it serves it and a slow replica simply takes less; each has a circuit
 * breaker, so a failing replica takes none while the others carry the load. The limit is per
 * worker process: in-process workers and a `worker` process for the same replica add up.
 */
export class WorkerPool {
  readonly #workers: ReplicaWorker[];
  /** Requests this pool's workers may have at their replicas at once. */
  readonly #concurrency: number;
  readonly #lockDurationMs: number;

  constructor(options: WorkerPoolOptions) {
    this.#lockDurationMs = options.lockDurationMs ?? 15_000;
    this.#concurrency = options.replicas.reduce((sum, r) => sum + workerConcurrency(r), 0);
    const ids = breakerIds(options.replicas.map((replica) => replica.url));
    this.#workers = options.replicas.map(
      (replica, index) =>
        new ReplicaWorker({
          id: ids[index] ?? `breaker-${index}`,
          replica,
          client: new ReplicaClient(replica, options.model),
          connection: options.connection,
          prefix: options.prefix,
          queueName: options.queueName,
          breaker: options.breaker ?? defaultBreakerOptions,
          lockDurationMs: this.#lockDurationMs,
          stalledIntervalMs: options.stalledIntervalMs ?? 10_000,
          run: runJob,
          inspect: options.inspect,
          onCompleted: options.onCompleted,
        }),
    );
  }

  async start(): Promise<void> {
    const warning = fetchLimitWarning(this.#concurrency, process.env.BUN_CONFIG_MAX_HTTP_REQUESTS);
    if (warning) log.warn({ requests: this.#concurrency }, warning);
    await Promise.all(this.#workers.map((w) => w.start()));
  }

  /** Every replica's breaker: state, window and last failure. */
  breakers(): BreakerView[] {
    return this.#workers.map((w) => w.view());
  }

  /** The breaker actors, for the HTTP API's actor list and live events. */
  breakerActors(): AnyActorRef[] {
    return this.#workers.map((w) => w.breaker as AnyActorRef);
  }

  /**
   * Stops taking jobs. `force` leaves running jobs behind: their locks expire and BullMQ's
   * stalled-job check hands them to another worker.
   */
  async close(force = false): Promise<void> {
    await Promise.all(this.#workers.map((w) => w.close(force)));
  }
  /**
   * Stops on shutdown: the jobs in hand (other service members' records among them) finish
   * first, for at most the lock's duration, since a job held longer goes to another worker
   * anyway. Forced at once, they would stay locked that long and hold up the drains that this
   * member's leaving starts on the others; unbounded, a hanging replica would hold the process
   * until the records' deadline.
   */
  async shutdown(): Promise<void> {
    const boundMs = this.#lockDurationMs;
    await withTimeout(
      this.close(),
      boundMs,
      () => new Error(`jobs still running after ${boundMs} ms`),
    ).catch((error: unknown) =>
      log.warn(
        { err: error },
        'workers stopped with jobs in hand; other workers take them once their locks expire',
      ),
    );
  }
}

/**
 * Runs one job. A replica failure is an outcome, not a thrown error: the job completes with
 * the classified error and the partition actor decides whether to retry. `signal` is BullMQ's
 * cancellation of the job, which aborts the HTTP call.
 */
export async function runJob(
  client: ReplicaClient,
  job: Job<InferenceJobData, InferenceJobResult>,
  signal?: AbortSignal,
): Promise<InferenceJobResult> {
  const started = Date.now();
  const data = job.data;
  try {
    const answer = await client.infer(data.text, {
      eventId: data.eventId,
      deadline: data.deadline,
      traceparent: data.traceparent,
      signal,
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

/** Bun's default limit on fetch requests in flight per process (its fetch documentation). */
const bunDefaultFetchLimit = 256;

/**
 * Bun sends at most `BUN_CONFIG_MAX_HTTP_REQUESTS` (default 256) fetch requests at a time per
 * process and holds the rest back: workers allowed more than that would keep fewer requests at
 * their replicas than their slots and headroom say, without any error. Returns the warning to
 * log, or null when the limit is high enough.
 */
export function fetchLimitWarning(requests: number, setting: string | undefined): string | null {
  const configured = Number(setting);
  const limit = setting && Number.isInteger(configured) && configured > 0 ? configured : null;
  const effective = limit ?? bunDefaultFetchLimit;
  if (requests <= effective) return null;
  return (
    `the replica workers of this process may run ${requests} requests at once, but Bun sends ` +
    `at most ${effective} at a time; set BUN_CONFIG_MAX_HTTP_REQUESTS=${requests} or more ` +
    "in its environment, or run some replicas' workers in another process (`worker`)"
  );
}

/** `breaker-<host>-<port>` per replica URL, numbered when the same URL is listed twice. */
export function breakerIds(urls: string[]): string[] {
  const seen = new Map<string, number>();
  return urls.map((url) => {
    const base =
      `breaker-${url.replace(/^[a-z]+:\/\//i, '').replace(/[^A-Za-z0-9.]+/g, '-')}`.replace(
        /-+$/,
        '',
      );
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    return count === 0 ? base : `${base}-${count + 1}`;
  });
}
