import { inputProducer, type Workload } from './workload.ts';

/**
 * Writes records at a steady rate, as live traffic would arrive: every tick it sends the
 * records due by then in one batch, so a record's send time is within a tick of its due time.
 */
export class PacedProducer {
  readonly #workload: Workload;
  readonly #topic: string;
  readonly #ratePerSecond: number;
  readonly #producer = inputProducer();
  readonly #sends = new Set<Promise<unknown>>();
  #timer: ReturnType<typeof setInterval> | null = null;
  #started = 0;
  #sent = 0;
  #failures = 0;

  constructor(workload: Workload, topic: string, ratePerSecond: number) {
    this.#workload = workload;
    this.#topic = topic;
    this.#ratePerSecond = ratePerSecond;
  }

  /** Records sent so far; record indexes run from 0 to `sent - 1`. */
  get sent(): number {
    return this.#sent;
  }

  get failures(): number {
    return this.#failures;
  }

  start(tickMs = 10): void {
    this.#started = performance.now();
    this.#timer = setInterval(() => this.#tick(), tickMs);
  }

  /** Stops sending and waits for every batch sent to be acknowledged. */
  async stop(): Promise<number> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await Promise.allSettled([...this.#sends]);
    await this.#producer.close();
    return this.#sent;
  }

  #tick(): void {
    const due = Math.floor(((performance.now() - this.#started) / 1000) * this.#ratePerSecond);
    // A batch per partition must stay under the broker's message.max.bytes.
    const to = Math.min(due, this.#sent + 100);
    if (to <= this.#sent) return;
    const now = Date.now();
    const messages = [];
    for (let i = this.#sent; i < to; i++)
      messages.push(this.#workload.message(this.#topic, i, now));
    this.#sent = to;
    const send = this.#producer.send({ messages }).catch(() => {
      this.#failures += messages.length;
    });
    this.#sends.add(send);
    void send.finally(() => this.#sends.delete(send));
  }
}
