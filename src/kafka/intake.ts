import type { Message, MessagesStream } from '@platformatic/kafka';
import type { AnyActorRef } from 'xstate';
import type { TopicPartition } from '../actors/supervisor.ts';
import type { SourceRecord } from '../contracts/source-record.ts';
import { logger } from '../log.ts';
import type { BufferConsumer } from './clients.ts';

type BufferMessage = Message<Buffer, Buffer, Buffer, Buffer>;

export interface IntakeOptions {
  consumer: BufferConsumer;
  topic: string;
  /** Receives `assignment.changed` and `records.fetched`. */
  supervisor: AnyActorRef;
  /** True while fetching must stop (a window is full or the queue is deep). */
  shouldPause(): boolean;
  /** True once fetching may resume. */
  mayResume(): boolean;
}

const log = logger('kafka');

/**
 * Feeds the supervisor from the consumer group: assignment changes, and fetched records
 * grouped by partition. Kafka's consumer pauses per stream, not per partition, so the intake
 * pauses the whole stream while any partition or the inference queue is over its mark.
 * TODO(#3): fetch per partition so that one full partition does not hold back the others.
 */
export class Intake {
  readonly #options: IntakeOptions;
  #stream: MessagesStream<Buffer, Buffer, Buffer, Buffer> | null = null;
  #batches = new Map<number, SourceRecord[]>();
  #flushScheduled = false;
  #resumeTimer: ReturnType<typeof setInterval> | null = null;
  #paused = false;
  #stopped = false;

  constructor(options: IntakeOptions) {
    this.#options = options;
  }

  get paused(): boolean {
    return this.#paused;
  }

  async start(): Promise<void> {
    const { consumer, topic } = this.#options;
    consumer.on('consumer:group:join', () => this.#announceAssignment());
    this.#stream = await consumer.consume({
      topics: [topic],
      mode: 'committed',
      fallbackMode: 'earliest',
      autocommit: false,
      maxWaitTime: 100,
    });
    this.#stream.on('data', (message: BufferMessage) => this.#accept(message));
    this.#stream.on('error', (error: Error) => log.error({ err: error }, 'consumer stream error'));
    this.#announceAssignment();
    this.#resumeTimer = setInterval(() => this.#maybeResume(), 20);
  }

  /** Stops fetching; records already fetched still reach their partition actors. */
  pause(): void {
    this.#stopped = true;
    this.#stream?.pause();
  }

  async close(): Promise<void> {
    this.pause();
    if (this.#resumeTimer) clearInterval(this.#resumeTimer);
    await this.#stream?.close();
  }

  /** Partitions of the input topic this member owns now. */
  owned(): TopicPartition[] {
    const assignments = this.#options.consumer.assignments ?? [];
    return assignments
      .filter((a) => a.topic === this.#options.topic)
      .flatMap((a) => a.partitions.map((partition) => ({ topic: a.topic, partition })));
  }

  owns(topic: string, partition: number): boolean {
    return this.owned().some((tp) => tp.topic === topic && tp.partition === partition);
  }

  #announceAssignment(): void {
    this.#options.supervisor.send({ type: 'assignment.changed', partitions: this.owned() });
  }

  #accept(message: BufferMessage): void {
    const record: SourceRecord = {
      topic: message.topic,
      partition: message.partition,
      offset: message.offset,
      timestamp: message.timestamp,
      leaderEpoch: message.leaderEpoch,
      key: message.key ?? undefined,
      value: message.value ?? undefined,
      headers: message.headers,
    };
    const batch = this.#batches.get(record.partition);
    if (batch) batch.push(record);
    else this.#batches.set(record.partition, [record]);
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(() => this.#flush());
    }
  }

  #flush(): void {
    this.#flushScheduled = false;
    const batches = this.#batches;
    this.#batches = new Map();
    for (const [partition, records] of batches) {
      this.#options.supervisor.send({
        type: 'records.fetched',
        topic: this.#options.topic,
        partition,
        records,
      });
    }
    if (!this.#paused && this.#options.shouldPause()) {
      this.#paused = true;
      this.#stream?.pause();
    }
  }

  #maybeResume(): void {
    if (this.#stopped || !this.#paused || !this.#options.mayResume()) return;
    this.#paused = false;
    this.#stream?.resume();
  }
}
