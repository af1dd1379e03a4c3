import type { Redis } from 'ioredis';
import { type Actor, createActor } from 'xstate';
import type { PartitionInput } from './actors/partition.ts';
import type { PartitionPorts } from './actors/ports.ts';
import { supervisorMachine, type TopicPartition } from './actors/supervisor.ts';
import type { Config } from './config.ts';
import { InferenceGateway } from './inference/gateway.ts';
import { ReplicaClient } from './inference/replica-client.ts';
import { WorkerPool } from './inference/worker.ts';
import {
  type BufferConsumer,
  type BufferProducer,
  checkTopics,
  createConsumer,
  createProducer,
} from './kafka/clients.ts';
import { Intake } from './kafka/intake.ts';
import { OutputSink } from './kafka/output-sink.ts';
import { logger } from './log.ts';
import { RetryBudget } from './policy/retry-budget.ts';
import { connectRedis } from './redis.ts';

export type SupervisorActor = Actor<typeof supervisorMachine>;

const log = logger('service');

/**
 * The running pipeline: consumer group, supervisor and partition actors, inference gateway,
 * in-process workers (unless they run elsewhere), and the sink. `start` fails fast and names
 * what is wrong; `stop` drains within the configured bound and commits before leaving.
 */
export class Service {
  readonly config: Config;
  revision = 'unknown';
  #redis: Redis | null = null;
  #gateway: InferenceGateway | null = null;
  #workers: WorkerPool | null = null;
  #consumer: BufferConsumer | null = null;
  #producer: BufferProducer | null = null;
  #intake: Intake | null = null;
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

  get intake(): Intake | null {
    return this.#intake;
  }

  async start(): Promise<void> {
    const { config } = this;
    const { topics } = config;
    await checkTopics(config.kafka, [topics.input, topics.output, topics.deadLetter]);
    this.#redis = await connectRedis(config.redis.url, config.kafka.connectTimeoutMs);
    this.revision = await resolveRevision(config);

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
    const sink = new OutputSink(this.#producer, { maxMessageBytes: config.kafka.maxMessageBytes });
    const ports = this.#ports(sink);
    this.#supervisor = createActor(supervisorMachine, {
      input: { partitionInput: (tp) => this.#partitionInput(tp, ports) },
    });
    this.#supervisor.start();
    await this.#startIntake();
    log.info({ revision: this.revision, input: topics.input }, 'service started');
  }

  /** Drains (no new fetches, in-flight work finishes or is abandoned), commits, and leaves. */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    this.#intake?.pause();
    const supervisor = this.#supervisor;
    if (supervisor && supervisor.getSnapshot().status === 'active') {
      supervisor.send({ type: 'service.shutdown' });
      await waitForDone(supervisor, this.config.partition.drainTimeoutMs + 5_000);
    }
    await this.#intake?.close().catch(() => undefined);
    await this.#consumer?.close(true).catch(() => undefined);
    await this.#producer?.close().catch(() => undefined);
    // In-flight records were drained or abandoned above; nothing left is worth waiting for.
    await this.#workers?.close(true).catch(() => undefined);
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
    });
    await this.#workers.start();
  }

  async #startIntake(): Promise<void> {
    const { config } = this;
    const supervisor = this.supervisor;
    const gateway = this.#gateway;
    const partitionsPaused = () =>
      Object.values(supervisor.getSnapshot().children).some((child) =>
        child?.getSnapshot().matches?.({ running: { intake: 'paused' } }),
      );
    this.#intake = new Intake({
      consumer: this.#consumer as BufferConsumer,
      topic: config.topics.input,
      supervisor,
      shouldPause: () => partitionsPaused() || (gateway?.waiting ?? 0) >= config.queue.highWater,
      mayResume: () => !partitionsPaused() && (gateway?.waiting ?? 0) <= config.queue.lowWater,
    });
    await this.#intake.start();
  }

  #ports(sink: OutputSink): PartitionPorts {
    const { config } = this;
    const gateway = this.#gateway as InferenceGateway;
    const consumer = this.#consumer as BufferConsumer;
    return {
      infer: (request, signal) => gateway.infer(request, signal),
      produce: (message) => sink.send(message),
      commit: async (request) => {
        // Never commit for a partition this member no longer owns: the new owner's progress
        // would be overwritten.
        if (!this.#intake?.owns(request.topic, request.partition)) return;
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
}

async function resolveRevision(config: Config): Promise<string> {
  if (config.model.revision !== 'auto') return config.model.revision;
  const first = config.replicas[0];
  if (!first) return 'unknown';
  try {
    const revision = await new ReplicaClient(first, config.model).revision(3_000);
    return revision && /^[A-Za-z0-9._-]+$/.test(revision) ? revision : 'unknown';
  } catch (error) {
    log.warn({ err: error, replica: first.url }, 'could not read the model revision');
    return 'unknown';
  }
}

function waitForDone(actor: SupervisorActor, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      subscription.unsubscribe();
      resolve();
    }, timeoutMs);
    const subscription = actor.subscribe((snapshot) => {
      if (snapshot.status !== 'done') return;
      clearTimeout(timer);
      subscription.unsubscribe();
      resolve();
    });
    if (actor.getSnapshot().status === 'done') {
      clearTimeout(timer);
      resolve();
    }
  });
}
