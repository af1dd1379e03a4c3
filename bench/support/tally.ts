import { Consumer, type Message, type MessagesStream } from '@platformatic/kafka';
import type { OutputValue } from '../../src/contracts/output.ts';
import { brokers, type RunTopics } from './resources.ts';

type BufferMessage = Message<Buffer, Buffer, Buffer, Buffer>;

/** What a result record says of its record; the figures need no more. */
export type SettledResult = Pick<OutputValue, 'attempts' | 'timings' | 'source' | 'revision'> & {
  label: string | undefined;
};

/** An input record with a key: which record of the same key came before which. */
export interface KeyedInput {
  eventId: string;
  key: string;
  partition: number;
}

/** One settled record as its result or dead letter shows it. */
export interface Settled {
  eventId: string;
  /** Broker append time of the result or dead letter (the topics use LogAppendTime). */
  appendedAt: number;
  /** Null for a dead letter. */
  result: SettledResult | null;
  /** Dead-letter reason, null for a result. */
  reason: string | null;
  sourcePartition: number;
  sourceOffset: bigint;
}

/**
 * Reads a contender's result and dead-letter topics from the start, outside its consumer
 * group, and keeps what the figures need of every record. Results and dead letters written
 * twice are both kept, so duplicates can be counted. With `inputTimes` it reads the input
 * topic too, for the time each record was appended there.
 */
export class Tally {
  readonly settled: Settled[] = [];
  /** Append time of each input record by event id, when `inputTimes` was asked for. */
  readonly inputAt = new Map<string, number>();
  /**
   * The input records with a key, in the order read (offset order within a partition), when
   * `inputTimes` was asked for: which record of the same key came before which.
   */
  readonly keyed: KeyedInput[] = [];
  readonly #topics: RunTopics;
  readonly #inputTimes: boolean;
  readonly #consumer: Consumer<Buffer, Buffer, Buffer, Buffer>;
  readonly #ids = new Set<string>();
  #stream: MessagesStream<Buffer, Buffer, Buffer, Buffer> | null = null;

  constructor(topics: RunTopics, groupId: string, options: { inputTimes?: boolean } = {}) {
    this.#topics = topics;
    this.#inputTimes = options.inputTimes ?? false;
    this.#consumer = new Consumer({
      clientId: 'tokenline-bench-tally',
      groupId,
      bootstrapBrokers: brokers,
    });
  }

  /** Distinct event ids settled so far. */
  get distinct(): number {
    return this.#ids.size;
  }

  has(eventId: string): boolean {
    return this.#ids.has(eventId);
  }

  async start(): Promise<void> {
    const { input, output, deadLetter } = this.#topics;
    this.#stream = await this.#consumer.consume({
      topics: this.#inputTimes ? [input, output, deadLetter] : [output, deadLetter],
      mode: 'earliest',
      autocommit: false,
      maxWaitTime: 100,
    });
    this.#stream.on('data', (message: BufferMessage) => this.#accept(message));
  }

  /** Waits until `count` distinct records settled; false when the time ran out first. */
  async waitFor(count: number, timeoutMs: number): Promise<boolean> {
    const end = Date.now() + timeoutMs;
    while (this.#ids.size < count) {
      if (Date.now() > end) return false;
      await Bun.sleep(100);
    }
    return true;
  }

  /**
   * Waits until the tally has read every result and dead letter appended so far (the topics'
   * end offsets now); false when the time ran out first. For a tally started after the run.
   */
  async readToEnd(timeoutMs: number): Promise<boolean> {
    const { output, deadLetter } = this.#topics;
    const ends = await this.#consumer.listOffsets({ topics: [output, deadLetter] });
    let total = 0;
    for (const offsets of ends.values()) for (const end of offsets) total += Number(end);
    const until = Date.now() + timeoutMs;
    while (this.settled.length < total) {
      if (Date.now() > until) return false;
      await Bun.sleep(100);
    }
    return true;
  }

  async close(): Promise<void> {
    await this.#stream?.close().catch(() => undefined);
    await this.#consumer.close(true).catch(() => undefined);
  }

  #accept(message: BufferMessage): void {
    const appendedAt = Number(message.timestamp);
    if (message.topic === this.#topics.input) {
      const eventId = headerOf(message, 'event-id') ?? '';
      this.inputAt.set(eventId, appendedAt);
      if (message.key?.length) {
        this.keyed.push({
          eventId,
          key: message.key.toString('latin1'),
          partition: message.partition,
        });
      }
      return;
    }
    if (message.topic === this.#topics.output) {
      const value = JSON.parse(message.value.toString()) as OutputValue;
      const output = value.output as { label?: unknown } | undefined;
      this.#add({
        eventId: value.eventId,
        appendedAt,
        result: {
          attempts: value.attempts,
          timings: value.timings,
          source: value.source,
          revision: value.revision,
          label: typeof output?.label === 'string' ? output.label : undefined,
        },
        reason: null,
        sourcePartition: value.source.partition,
        sourceOffset: BigInt(value.source.offset),
      });
      return;
    }
    const header = (name: string) => headerOf(message, name);
    this.#add({
      eventId: header('tl-event-id') ?? header('event-id') ?? '',
      appendedAt,
      result: null,
      reason: header('tl-dlq-reason') ?? 'unknown',
      sourcePartition: Number(header('tl-source-partition') ?? -1),
      sourceOffset: BigInt(header('tl-source-offset') ?? -1),
    });
  }

  #add(settled: Settled): void {
    this.settled.push(settled);
    this.#ids.add(settled.eventId);
  }
}

function headerOf(message: BufferMessage, name: string): string | undefined {
  for (const [key, value] of message.headers) {
    if (key.toString() === name) return value.toString();
  }
  return undefined;
}
