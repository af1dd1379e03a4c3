import { type ConnectionOptions, type Job, WaitingError, Worker } from 'bullmq';
import { type Actor, createActor, type InspectionEvent } from 'xstate';
import {
  type BreakerOptions,
  type BreakerState,
  breakerEvents,
  breakerMachine,
  failureRate,
  isReplicaFailure,
} from '../actors/breaker.ts';
import { type ReplicaConfig, workerConcurrency } from '../config.ts';
import type { ErrorInfo } from '../errors.ts';
import { logger, throttledWarning } from '../log.ts';
import type { InferenceJobData, InferenceJobResult } from './job.ts';
import type { ReplicaClient } from './replica-client.ts';

export type BreakerActor = Actor<typeof breakerMachine>;

/** A breaker as the HTTP API and metrics show it. */
export interface BreakerView {
  /** Id of the breaker actor, e.g. `breaker-127.0.0.1-8000`. */
  id: string;
  replica: string;
  state: BreakerState;
  /** Calls in the sliding window, and the share of them that failed. */
  calls: number;
  failureRate: number;
  consecutiveFailures: number;
  /** Times the breaker opened since the worker started. */
  opened: number;
  openedAt: number | null;
  lastFailure: ErrorInfo | null;
}

export interface ReplicaWorkerOptions {
  id: string;
  replica: ReplicaConfig;
  client: ReplicaClient;
  connection: ConnectionOptions;
  prefix: string;
  queueName: string;
  breaker: BreakerOptions;
  lockDurationMs: number;
  stalledIntervalMs: number;
  /** Runs one job against the replica; the outcome is reported to the breaker. */
  run(
    client: ReplicaClient,
    job: Job<InferenceJobData, InferenceJobResult>,
    signal: AbortSignal | undefined,
  ): Promise<InferenceJobResult>;
  inspect?: (event: InspectionEvent) => void;
  /** A job's result was stored in Redis; the gateway of the same process hears it here first. */
  onCompleted?: (jobId: string, result: InferenceJobResult) => void;
}

type InferenceJob = Job<InferenceJobData, InferenceJobResult>;

const log = logger('worker');

/**
 * One replica's BullMQ worker and the circuit breaker that gates it. Closed, the worker takes
 * as many jobs as the replica has slots; open, it is paused and takes none; half-open, it takes
 * only the breaker's probes. A job fetched in the instant before a pause goes back to the
 * queue untouched, for another replica.
 */
export class ReplicaWorker {
  readonly id: string;
  readonly replica: string;
  readonly breaker: BreakerActor;
  readonly #options: ReplicaWorkerOptions;
  readonly #worker: Worker<InferenceJobData, InferenceJobResult>;
  #probesInFlight = 0;
  /** The state the worker was last set up for, and the one last logged. */
  #following: BreakerState = 'closed';
  #logged: BreakerState = 'closed';

  constructor(options: ReplicaWorkerOptions) {
    this.#options = options;
    this.id = options.id;
    this.replica = options.client.url;
    this.breaker = createActor(breakerMachine, {
      id: options.id,
      input: { replica: this.replica, options: options.breaker },
      inspect: (event) => this.#inspect(event),
    });
    this.#worker = new Worker<InferenceJobData, InferenceJobResult>(
      options.queueName,
      (job, token, signal) => this.#process(job, token, signal),
      {
        connection: options.connection,
        prefix: options.prefix,
        concurrency: workerConcurrency(options.replica),
        lockDuration: options.lockDurationMs,
        stalledInterval: options.stalledIntervalMs,
        name: this.replica,
        autorun: false,
      },
    );
    const warn = throttledWarning(log, 'worker error');
    this.#worker.on('error', (error) => warn(error, { replica: this.replica }));
    const { onCompleted } = options;
    // BullMQ emits `completed` once the result is stored and the job moved to completed.
    if (onCompleted)
      this.#worker.on('completed', (job, result) => onCompleted(job.id ?? '', result));
    this.breaker.subscribe((snapshot) => this.#follow(snapshot.value));
  }

  async start(): Promise<void> {
    this.breaker.start();
    await this.#worker.waitUntilReady();
    // Not awaited: run() resolves only when the worker stops.
    void this.#worker.run().catch((error: unknown) => {
      log.error({ err: error, replica: this.replica }, 'worker stopped');
    });
  }

  async close(force: boolean): Promise<void> {
    await this.#worker.close(force);
    this.breaker.stop();
  }

  view(): BreakerView {
    const snapshot = this.breaker.getSnapshot();
    const { context } = snapshot;

    return {
      id: this.id,
      replica: this.replica,
      state: snapshot.value,
      calls: context.window.length,
      failureRate: failureRate(context.window),
      consecutiveFailures: context.consecutiveFailures,
      opened: context.opened,
      openedAt: context.openedAt,
      lastFailure: context.lastFailure,
    };
  }

  async #process(
    job: InferenceJob,
    token: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<InferenceJobResult> {
    const state = this.breaker.getSnapshot().value;
    const probe = state === 'halfOpen';
    if (state === 'open' || (probe && this.#probesInFlight >= this.#options.breaker.probes)) {
      await job.moveToWait(token);
      throw new WaitingError();
    }

    if (probe) this.#probesInFlight += 1;
    try {
      const outcome = await this.#options.run(this.#options.client, job, signal);
      this.#report(outcome, signal);
      return outcome;
    } finally {
      if (probe) this.#probesInFlight -= 1;
    }
  }

  /** Tells the breaker what the call says about the replica; a cancelled call says nothing. */
  #report(outcome: InferenceJobResult, signal: AbortSignal | undefined): void {
    if (this.breaker.getSnapshot().status !== 'active') return;
    if (outcome.ok) {
      this.breaker.send({ type: breakerEvents.callSucceeded });
    } else if (isReplicaFailure(outcome.error) && !signal?.aborted) {
      this.breaker.send({ type: breakerEvents.callFailed, error: outcome.error });
    }
  }

  /** Pauses, throttles or resumes the worker to match the breaker's state. */
  #follow(state: BreakerState): void {
    if (state === this.#following) return;
    this.#following = state;
    if (state === 'open') {
      // Jobs already running finish on their own; waiting for them would delay nothing useful.
      void this.#worker.pause(true);
      return;
    }
    this.#worker.concurrency =
      state === 'closed' ? workerConcurrency(this.#options.replica) : this.#options.breaker.probes;
    void this.#worker.resume();
  }

  #inspect(event: InspectionEvent): void {
    this.#options.inspect?.(event);
    if (event.type !== '@xstate.snapshot') return;
    const snapshot = event.snapshot as ReturnType<BreakerActor['getSnapshot']>;
    if (snapshot.value === this.#logged) return;
    const from = this.#logged;
    this.#logged = snapshot.value;
    const { window, consecutiveFailures, lastFailure } = snapshot.context;
    log.info(
      {
        replica: this.replica,
        from,
        to: snapshot.value,
        failureRate: failureRate(window),
        consecutiveFailures,
        lastFailure: lastFailure?.code,
      },
      'breaker transition',
    );
  }
}
