import { messageSize } from '../contracts/message-size.ts';
import type { ProducedMessage } from '../contracts/output.ts';
import { errorCodes, TokenlineError } from '../errors.ts';
import type { BufferProducer } from './clients.ts';

interface Waiting {
  message: ProducedMessage;
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * Writes results and dead letters in batches: messages handed in within `lingerMs` go to the
 * broker in one produce request, and each caller's promise settles when the broker
 * acknowledged the batch, so an offset is committed only after its output is durable.
 */
export class OutputSink {
  readonly #producer: BufferProducer;
  readonly #lingerMs: number;
  readonly #maxBatch: number;
  #waiting: Waiting[] = [];
  #timer: ReturnType<typeof setTimeout> | null = null;

  readonly #maxMessageBytes: number;

  constructor(
    producer: BufferProducer,
    options: { lingerMs?: number; maxBatch?: number; maxMessageBytes?: number } = {},
  ) {
    this.#producer = producer;
    this.#maxMessageBytes = options.maxMessageBytes ?? 1_000_000;
    this.#lingerMs = options.lingerMs ?? 2;
    this.#maxBatch = options.maxBatch ?? 500;
  }

  send(message: ProducedMessage): Promise<void> {
    // A record the broker would refuse must not fail the batch it travels in: refuse it here.
    const size = messageSize(message);
    if (size > this.#maxMessageBytes) {
      const limit = this.#maxMessageBytes;
      const text = `record of about ${size} bytes exceeds ${limit} for ${message.topic}`;
      return Promise.reject(new TokenlineError(errorCodes.tooLarge, text));
    }
    return new Promise<void>((resolve, reject) => {
      this.#waiting.push({ message, resolve, reject });
      if (this.#waiting.length >= this.#maxBatch) this.#flushNow();
      else this.#timer ??= setTimeout(() => this.#flushNow(), this.#lingerMs);
    });
  }

  #flushNow(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    const batch = this.#waiting;
    this.#waiting = [];
    if (batch.length === 0) return;
    this.#producer.send({ messages: batch.map((w) => w.message) }).then(
      () => {
        for (const w of batch) w.resolve();
      },
      (error: unknown) => {
        const failure = new TokenlineError(errorCodes.produce, 'producing to Kafka failed', {
          cause: error,
        });
        for (const w of batch) w.reject(failure);
      },
    );
  }
}
