import { type MessageToProduce, Producer } from '@platformatic/kafka';
import { type Email, splitCorpus } from '../../src/replica/corpus.ts';
import { brokers } from './resources.ts';

type Message = MessageToProduce<Buffer, Buffer, Buffer, Buffer>;

export interface WorkloadOptions {
  /** Distinct ordering keys the records are spread over. */
  keys: number;
  /** A record's deadline header: its send time plus this. */
  ttlMs: number;
  /** Prefix of event ids, unique per run so that no stored result is reused across runs. */
  idPrefix: string;
}

/**
 * The bench's input: the held-out SpamAssassin emails over and over (each copy its own event
 * id), keys spread over a fixed number of distinct keys by a hash of the index, and a
 * `deadline` header. Record `i` is the same email and key for every contender and every run,
 * so "the same input" holds by construction.
 */
export class Workload {
  readonly options: WorkloadOptions;
  readonly #emails: readonly Email[];
  readonly #values: Buffer[];
  readonly #keys: Buffer[];
  readonly #keyOf: (index: number) => number;
  #deadlines = new Float64Array(1024).fill(Number.NaN);

  constructor(options: WorkloadOptions) {
    this.options = options;
    this.#emails = splitCorpus().heldOut;
    // The values are the same bytes on every copy: only the event-id header differs.
    this.#values = this.#emails.map((e) => Buffer.from(JSON.stringify({ text: e.text })));
    this.#keys = Array.from({ length: options.keys }, (_, k) => Buffer.from(`key-${k}`));
    this.#keyOf = keyIndexer(options.keys);
  }

  eventId(index: number): string {
    return `${this.options.idPrefix}-${index}`;
  }

  /** Index of the record an event id names, or -1 for an id of another workload. */
  indexOf(eventId: string): number {
    const prefix = `${this.options.idPrefix}-`;
    if (!eventId.startsWith(prefix)) return -1;
    const index = Number(eventId.slice(prefix.length));
    return Number.isInteger(index) ? index : -1;
  }

  /** The corpus label of record `index`, to score the model's answers. */
  label(index: number): string {
    return this.#email(index).label;
  }

  /** Average value size in bytes, for the envelope. */
  get meanValueBytes(): number {
    return this.#values.reduce((sum, v) => sum + v.length, 0) / this.#values.length;
  }

  /** The deadline record `index` was sent with (epoch ms), or NaN if it was not sent. */
  deadline(index: number): number {
    return index < this.#deadlines.length ? (this.#deadlines[index] as number) : Number.NaN;
  }

  message(topic: string, index: number, now: number): Message {
    this.#remember(index, now + this.options.ttlMs);
    const headers = new Map<Buffer, Buffer>([
      [Buffer.from('event-id'), Buffer.from(this.eventId(index))],
      [Buffer.from('deadline'), Buffer.from(String(now + this.options.ttlMs))],
    ]);
    return {
      topic,
      key: this.#keys[this.#keyOf(index)] as Buffer,
      value: this.#values[index % this.#values.length] as Buffer,
      headers,
    };
  }

  #remember(index: number, deadline: number): void {
    if (index >= this.#deadlines.length) {
      const grown = new Float64Array(Math.max(index + 1, this.#deadlines.length * 2));
      grown.fill(Number.NaN);
      grown.set(this.#deadlines);
      this.#deadlines = grown;
    }
    this.#deadlines[index] = deadline;
  }

  #email(index: number): Email {
    return this.#emails[index % this.#emails.length] as Email;
  }
}

/** A producer for the bench's input, with the broker acknowledging each batch it wrote. */
export function inputProducer(): Producer<Buffer, Buffer, Buffer, Buffer> {
  return new Producer({ clientId: 'tokenline-bench-input', bootstrapBrokers: brokers, acks: 1 });
}

/**
 * Writes records `from`..`to` (exclusive) as fast as the broker takes them: batches of
 * `batch` records, a few batches in flight at once. Returns the records written per second.
 */
export async function produceBacklog(
  workload: Workload,
  topic: string,
  range: { from: number; to: number },
  onProgress?: (written: number) => void,
): Promise<number> {
  const producer = inputProducer();
  const started = performance.now();
  // A batch per partition must stay under the broker's message.max.bytes (1 MB by default).
  const batch = 100;
  const inFlight = 4;
  let next = range.from;
  const lane = async () => {
    while (next < range.to) {
      const from = next;
      next = Math.min(range.to, next + batch);
      const now = Date.now();
      const messages: Message[] = [];
      for (let i = from; i < next; i++) messages.push(workload.message(topic, i, now));
      await producer.send({ messages });
      onProgress?.(next - range.from);
    }
  };
  try {
    await Promise.all(Array.from({ length: inFlight }, lane));
  } finally {
    await producer.close();
  }

  return (range.to - range.from) / ((performance.now() - started) / 1000);
}

/**
 * Spreads record indexes over `keys` keys, the same index always to the same key: a 32-bit
 * integer mix (MurmurHash3's finalizer), stateless so that any range can be produced alone.
 */
function keyIndexer(keys: number): (index: number) => number {
  return (index) => {
    let h = (index ^ 0x7e11) >>> 0;
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    return ((h ^ (h >>> 16)) >>> 0) % keys;
  };
}
