import { Consumer, type Message, type MessagesStream } from '@platformatic/kafka';
import type { OutputValue } from '../contracts/output.ts';

type BufferMessage = Message<Buffer, Buffer, Buffer, Buffer>;

export interface DeadLetterSeen {
  eventId: string;
  reason: string;
  headers: Map<string, string>;
  value: Buffer | undefined;
  key: Buffer | undefined;
}

export interface ResultReaderOptions {
  brokers: string[];
  outputTopic: string;
  deadLetterTopic: string;
}

/**
 * Reads a run's result and dead-letter topics from the start, outside the consumer group
 * under test, and indexes what it saw by event id. Duplicates are kept so that callers can
 * check "exactly once".
 */
export class ResultReader {
  readonly outputs: OutputValue[] = [];
  readonly outputKeys: Array<Buffer | undefined> = [];
  readonly deadLetters: DeadLetterSeen[] = [];
  readonly #options: ResultReaderOptions;
  readonly #consumer: Consumer<Buffer, Buffer, Buffer, Buffer>;
  #stream: MessagesStream<Buffer, Buffer, Buffer, Buffer> | null = null;

  constructor(options: ResultReaderOptions) {
    this.#options = options;
    this.#consumer = new Consumer({
      clientId: 'tokenline-result-reader',
      groupId: `tokenline-reader-${Date.now()}-${Math.random().toString(36).slice(2)}`,
      bootstrapBrokers: options.brokers,
    });
  }

  /** Distinct event ids seen across results and dead letters. */
  get settledIds(): Set<string> {
    const ids = new Set<string>();
    for (const o of this.outputs) ids.add(o.eventId);
    for (const d of this.deadLetters) ids.add(d.eventId);
    return ids;
  }

  async start(): Promise<void> {
    this.#stream = await this.#consumer.consume({
      topics: [this.#options.outputTopic, this.#options.deadLetterTopic],
      mode: 'earliest',
      autocommit: false,
      maxWaitTime: 100,
    });
    this.#stream.on('data', (message: BufferMessage) => this.#accept(message));
  }

  async waitFor(count: number, timeoutMs: number, onProgress?: (n: number) => void): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (this.settledIds.size < count) {
      if (Date.now() > end) {
        throw new Error(`saw ${this.settledIds.size} of ${count} records within ${timeoutMs} ms`);
      }
      onProgress?.(this.settledIds.size);
      await Bun.sleep(100);
    }
    onProgress?.(this.settledIds.size);
  }

  async close(): Promise<void> {
    await this.#stream?.close().catch(() => undefined);
    await this.#consumer.close(true).catch(() => undefined);
  }

  #accept(message: BufferMessage): void {
    if (message.topic === this.#options.outputTopic) {
      this.outputs.push(JSON.parse(message.value.toString()) as OutputValue);
      this.outputKeys.push(message.key ?? undefined);
      return;
    }
    const headers = new Map<string, string>();
    for (const [key, value] of message.headers) headers.set(key.toString(), value.toString());
    this.deadLetters.push({
      eventId: headers.get('tl-event-id') ?? '',
      reason: headers.get('tl-dlq-reason') ?? '',
      headers,
      value: message.value ?? undefined,
      key: message.key ?? undefined,
    });
  }
}
