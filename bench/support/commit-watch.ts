import { Admin } from '@platformatic/kafka';
import { brokers } from './resources.ts';

/**
 * Watches a consumer group's committed offsets of one topic, polling the broker, and says
 * when each offset was first seen committed. Resolution: the polling interval.
 */
export class CommitWatch {
  readonly #admin = new Admin({ clientId: 'tokenline-bench-commits', bootstrapBrokers: brokers });
  readonly #group: string;
  readonly #topic: string;
  /** Per partition: [seen at (epoch ms), committed offset], in time order, offsets rising. */
  readonly #seen = new Map<number, Array<[number, bigint]>>();
  #running = false;
  #loop: Promise<void> | null = null;

  constructor(group: string, topic: string) {
    this.#group = group;
    this.#topic = topic;
  }

  start(intervalMs = 50): void {
    this.#running = true;
    this.#loop = this.#poll(intervalMs);
  }

  async stop(): Promise<void> {
    this.#running = false;
    await this.#loop;
    await this.#admin.close().catch(() => undefined);
  }

  /**
   * Records committed so far over every partition: the latest committed offsets summed (the
   * bench's topics are new, so their offsets start at 0).
   */
  get committed(): number {
    let sum = 0;
    for (const list of this.#seen.values()) sum += Number(list[list.length - 1]?.[1] ?? 0n);
    return sum;
  }

  /** When the commit covering `offset` (an offset above it) was first seen; NaN if never. */
  committedAt(partition: number, offset: bigint): number {
    const seen = this.#seen.get(partition) ?? [];
    let low = 0;
    let high = seen.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if ((seen[middle] as [number, bigint])[1] > offset) high = middle;
      else low = middle + 1;
    }
    return seen[low]?.[0] ?? Number.NaN;
  }

  async #poll(intervalMs: number): Promise<void> {
    while (this.#running) {
      const started = Date.now();
      await this.#read().catch(() => undefined);
      await Bun.sleep(Math.max(0, intervalMs - (Date.now() - started)));
    }
  }

  async #read(): Promise<void> {
    const [group] = await this.#admin.listConsumerGroupOffsets({ groups: [this.#group] });
    const at = Date.now();
    const partitions = group?.topics.find((t) => t.name === this.#topic)?.partitions ?? [];
    for (const p of partitions) {
      const list = this.#seen.get(p.partitionIndex) ?? [];
      const last = list[list.length - 1];
      if (p.committedOffset >= 0n && (!last || p.committedOffset > last[1])) {
        list.push([at, p.committedOffset]);
        this.#seen.set(p.partitionIndex, list);
      }
    }
  }
}
