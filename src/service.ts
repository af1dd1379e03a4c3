import type { Redis } from 'ioredis';
import { type Actor, type AnyActorRef, createActor } from 'xstate';
import type { PartitionContext, PartitionInput } from './actors/partition.ts';
import type { PartitionPorts } from './actors/ports.ts';
import { partitionActorId, supervisorMachine, type TopicPartition } from './actors/supervisor.ts';
import type { Config } from './config.ts';
import type { DeadLetterReason } from './contracts/dead-letter.ts';
import { type RedriveReport, redriveDeadLetters } from './http/dead-letter-redrive.ts';
import {
  probeKafka,
  probeRedis,
  type ReadinessCheck,
  type ReadinessReport,
  reportOf,
  supervisorCheck,
} from './http/health.ts';
import { InferenceGateway } from './inference/gateway.ts';
import { checkModels, resolveRevision } from './inference/revision.ts';
import { WorkerPool } from './inference/worker.ts';
import { logRecordLosses } from './inspection-log.ts';
import {
  type BufferConsumer,
  type BufferProducer,
  checkTopics,
  createConsumer,
  createProducer,
} from './kafka/clients.ts';
import { GroupMembership } from './kafka/group-membership.ts';
import { OutputSink } from './kafka/output-sink.ts';
import { PartitionSource } from './kafka/partition-source.ts';
import { logger } from './log.ts';
import { Metrics, type MetricsSource } from './metrics.ts';
import { RetryBudget } from './policy/retry-budget.ts';
import { connectRedis } from './redis.ts';

export type SupervisorActor = Actor<typeof supervisorMachine>;

/** How long a readiness probe waits for Kafka or Redis. */
const probeTimeoutMs = 1_000;

/** Fetch long-poll: short enough to notice a drain quickly, long enough to batch. */
const fetchMaxWaitMs = 500;
const fetchMaxBytes = 1024 * 1024;

const log = logger('service');

/**
 * The running pipeline: group membership, supervisor and partition actors (each fetching its
 * own partition), inference gateway, in-process workers (unless they run elsewhere), and the
 * sink. `start` fails fast and names what is wrong; `stop` drains within the configured bound
 * and commits before leaving the group.
 */
export class Service {
  readonly config: Config;
  revision = 'unknown';
  metrics: Metrics | null = null;
  #redis: Redis | null = null;
  #gateway: InferenceGateway | null = null;
  #workers: WorkerPool | null = null;
  #consumer: BufferConsumer | null = null;
  #producer: BufferProducer | null = null;
  #source: PartitionSource | null = null;
  #membership: GroupMembership | null = null;
  #supervisor: SupervisorActor | null = null;
  #stopping: Promise<void> | null = null;

  constructor(config: Config) {
    this.config = config;
  }

  get supervisor(): SupervisorActor {
    if (!this.#supervisor) throw new Error('service not started');
    return this.#supervisor;
  }

  get gateway(): InferenceGateway | null {
    return this.#gateway;
  }

  /** Circuit-breaker actors of the in-process replica workers (none when they run elsewhere). */
  breakers(): AnyActorRef[] {
    return this.#workers?.breakerActors() ?? [];
  }

  /** Partition actors running now. */
  partitionActors(): AnyActorRef[] {
    const children = this.#supervisor?.getSnapshot().children ?? {};
    return Object.values(children).filter((c): c is AnyActorRef => c !== undefined);
  }

  async start(): Promise<void> {
    const { config } = this;
    const { topics } = config;
    await checkTopics(config.kafka, [topics.input, topics.output, topics.deadLetter]);
    this.#redis = await connectRedis(config.redis.url, config.kafka.connectTimeoutMs);
    this.revision = resolveRevision(config, await checkModels(config));

    const connection = { url: config.redis.url, maxRetriesPerRequest: null };
    this.#gateway = new InferenceGateway({
      connection,
      redis: this.#redis,
      prefix: config.redis.prefix,
      queueName: config.queue.name,
      revision: this.revision,
      retainSeconds: config.queue.retainSeconds,
      retainCount: config.queue.retainCount,
    });
    await this.#gateway.start();
    if (config.workers.inProcess) await this.#startWorkers(connection);

    this.#producer = createProducer(config.kafka);
    this.#consumer = createConsumer(config.kafka);
    this.#source = new PartitionSource(this.#consumer);
    this.metrics = new Metrics(this.#metricsSource(), this.revision, topics.input);
    this.#startSupervisor();
    await this.#joinGroup();
    log.info({ revision: this.revision, input: topics.input }, 'service started');
  }

  /** Drains (no new fetches, in-flight work finishes or is abandoned), commits, and leaves. */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    const supervisor = this.#supervisor;
    if (supervisor && supervisor.getSnapshot().status === 'active') {
      supervisor.send({ type: 'service.shutdown' });
      await waitUntil(
        supervisor,
        (s) => s.status === 'done',
        this.config.partition.drainTimeoutMs + 5_000,
      );
    }
    // Before leaving: the other members' drains start only then, and may wait for jobs these
    // workers hold (`WorkerPool.shutdown`).
    await this.#workers?.shutdown();
    await this.#membership
      ?.leave()
      .catch((error) => log.warn({ err: error }, 'leaving the group failed'));
    if (!this.#membership) await this.#consumer?.close(true).catch(() => undefined);
    await this.#source?.close().catch(() => undefined);
    await this.#producer?.close().catch(() => undefined);
    await this.#gateway?.close().catch(() => undefined);
    this.#redis?.disconnect();
    supervisor?.stop();
    log.info('service stopped');
  }

  async #startWorkers(connection: { url: string; maxRetriesPerRequest: null }): Promise<void> {
    const { config } = this;
    this.#workers = new WorkerPool({
      connection,
      prefix: config.redis.prefix,
      queueName: config.queue.name,
      replicas: config.replicas,
      model: config.model,
      breaker: config.breaker,
      lockDurationMs: config.queue.lockDurationMs,
      stalledIntervalMs: config.queue.stalledIntervalMs,
      onCompleted: (jobId, result) => this.#gateway?.completed(jobId, result),
    });
    await this.#workers.start();
  }

  #startSupervisor(): void {
    const { config } = this;
    const sink = new OutputSink(this.#producer as BufferProducer, {
      maxMessageBytes: config.kafka.maxMessageBytes,
    });
    const ports = this.#ports(sink);
    this.#supervisor = createActor(supervisorMachine, {
      input: {
        partitionInput: (tp) => this.#partitionInput(tp, ports),
        budget: {
          restarts: config.supervisor.restartBudget,
          windowMs: config.supervisor.restartWindowMs,
        },
        now: Date.now,
      },
      inspect: (event) => {
        this.metrics?.inspect(event);
        logRecordLosses(event);
      },
    });
    this.#supervisor.subscribe({
      next: (snapshot) => {
        if (snapshot.value !== 'failed') return;
        log.error(
          { failure: snapshot.context.failure },
          'a partition actor exhausted its restarts',
        );
      },
    });
    this.#supervisor.start();
  }

  async #joinGroup(): Promise<void> {
    const supervisor = this.supervisor;
    const source = this.#source as PartitionSource;
    this.#membership = new GroupMembership(this.#consumer as BufferConsumer, {
      onAssignment: (partitions) => {
        const input = partitions.filter((tp) => tp.topic === this.config.topics.input);
        log.info({ partitions: input.map((tp) => tp.partition) }, 'partitions assigned');
        supervisor.send({ type: 'assignment.changed', partitions: input });
      },
      // The group's protocol is eager: before rejoining, every owned partition is drained and
      // its completed prefix committed while this member still owns it.
      beforeRevoke: async (revoked) => {
        if (supervisor.getSnapshot().status !== 'active') return;
        supervisor.send({ type: 'assignment.changed', partitions: [] });
        const ids = new Set(revoked.map(partitionActorId));
        await waitUntil(
          supervisor,
          (s) => Object.keys(s.children).every((id) => !ids.has(id)),
          this.config.partition.drainTimeoutMs + 1_000,
        );
        await Promise.all(revoked.map((tp) => source.release(tp.topic, tp.partition)));
      },
    });
    await this.#membership.join([this.config.topics.input]);
  }

  #ports(sink: OutputSink): PartitionPorts {
    const { config } = this;
    const gateway = this.#gateway as InferenceGateway;
    const consumer = this.#consumer as BufferConsumer;
    const source = this.#source as PartitionSource;
    return {
      startOffset: (topic, partition) => source.startOffset(topic, partition),
      fetch: (topic, partition, offset, signal) =>
        source.fetch(topic, partition, offset, {
          maxWaitMs: fetchMaxWaitMs,
          maxBytes: fetchMaxBytes,
          signal,
        }),
      queueAboveHighWater: () => gateway.waiting >= config.queue.highWater,
      queueBelowLowWater: () => gateway.waiting <= config.queue.lowWater,
      infer: (request, signal) => gateway.infer(request, signal),
      produce: (message) => sink.send(message),
      commit: async (request) => {
        // Never commit for a partition this member no longer owns: the consumer would send it
        // under its current generation and overwrite the new owner's progress.
        if (!this.#membership?.owns(request.topic, request.partition)) return;
        await consumer.commit({ offsets: [request] });
      },
      now: Date.now,
      random: Math.random,
      retry: config.retry,
      retryBudget: new RetryBudget({
        ratio: config.retry.budgetRatio,
        minPerSecond: config.retry.budgetMinPerSecond,
      }),
      outputTopic: config.topics.output,
      deadLetterTopic: config.topics.deadLetter,
      modelRevision: this.revision,
      maxValueBytes: config.task.maxValueBytes,
      produceRetryMs: 1_000,
    };
  }

  #partitionInput(tp: TopicPartition, ports: PartitionPorts): PartitionInput {
    const { partition, task } = this.config;
    return { ...tp, options: partition, task, ports };
  }

  #metricsSource(): MetricsSource {
    return {
      partitions: () =>
        this.partitionActors().map((actor) => {
          const context = actor.getSnapshot().context as PartitionContext;
          const lag =
            context.highWatermark !== null
              ? Number(
                  context.highWatermark - (context.committedOffset ?? context.fetchOffset ?? 0n),
                )
              : null;
          return {
            partition: String(context.partition),
            inFlight: context.window.inFlight,
            paused: context.pausedBy !== null,
            lag,
          };
        }),
      queueDepth: () => this.#gateway?.waiting ?? 0,
      breakers: () => this.#workers?.breakers() ?? [],
    };
  }

  // Operator controls and probes, for the HTTP API (src/http). Pause, resume, window size and
  // restart of a partition are events to the running actors (src/http/partition-controls.ts).

  /**
   * Readiness for /health/ready: false until the group assigned this member partitions, while
   * a revocation drains them, and while the broker or Redis does not answer a cheap request
   * within `probeTimeoutMs`. The HTTP layer reuses an answer for a second.
   */
  async readiness(): Promise<ReadinessReport> {
    const [kafka, redis] = await Promise.all([this.#kafkaCheck(), this.#redisCheck()]);
    return reportOf({ group: this.#groupCheck(), kafka, redis });
  }

  /** Copies dead letters (all, or one reason's) back to the input topic in offset order. */
  redriveDeadLetters(reason?: DeadLetterReason, dropDeadline = false): Promise<RedriveReport> {
    const producer = this.#producer;
    if (!producer) return Promise.reject(new Error('service not started'));
    const { kafka, topics } = this.config;
    return redriveDeadLetters({
      kafka,
      deadLetterTopic: topics.deadLetter,
      inputTopic: topics.input,
      producer,
      reason,
      dropDeadline,
    });
  }

  #groupCheck(): ReadinessCheck {
    const membership = this.#membership;
    if (!membership || membership.generationId < 0 || !this.#supervisor) {
      return { ok: false, detail: 'not yet a member of the consumer group' };
    }
    return supervisorCheck(this.#supervisor);
  }

  #kafkaCheck(): Promise<ReadinessCheck> {
    return probeKafka(this.#producer, this.config.topics.input, probeTimeoutMs);
  }

  #redisCheck(): Promise<ReadinessCheck> {
    return probeRedis(this.#redis, probeTimeoutMs);
  }
}

type SupervisorSnapshot = ReturnType<SupervisorActor['getSnapshot']>;

function waitUntil(
  actor: SupervisorActor,
  done: (snapshot: SupervisorSnapshot) => boolean,
  timeoutMs: number,
): Promise<void> {
  return new Promise((resolve) => {
    if (done(actor.getSnapshot())) {
      resolve();
      return;
    }
    const timer = setTimeout(() => {
      subscription.unsubscribe();
      resolve();
    }, timeoutMs);
    const subscription = actor.subscribe({
      next: (snapshot) => {
        if (!done(snapshot)) return;
        clearTimeout(timer);
        subscription.unsubscribe();
        resolve();
      },
      complete: () => {
        clearTimeout(timer);
        resolve();
      },
    });
  });
}
