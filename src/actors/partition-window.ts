import type { SourceRecord } from '../contracts/source-record.ts';

/** How records of one partition may overtake each other. */
export type Ordering = 'key' | 'partition' | 'none';

interface Held {
  /** Dropped once settled: only the offset matters until the commit passes it. */
  record: SourceRecord | null;
  group: string | null;
  settled: boolean;
  /** Dead-lettered with `park`: holds its group, and the commit, until `unpark`. */
  parked?: boolean;
}

/**
 * The records a partition actor holds, from admission until their offset is committed.
 *
 * It answers three questions in O(1) amortised time: may this record start now (no earlier
 * record of its ordering group is unsettled), which record of a group starts next when one
 * settles, and which offset may be committed (every held offset before it has settled — a
 * contiguous prefix, so no commit ever passes a record still in flight).
 */
export class PartitionWindow {
  readonly #ordering: Ordering;
  readonly #held = new Map<bigint, Held>();
  // Offsets in admission (= offset) order; the head is the oldest record not yet released.
  #order: bigint[] = [];
  #head = 0;
  readonly #groups = new Map<string, bigint[]>();
  // Groups whose records wait for an operator after one of them was dead-lettered.
  readonly #parked = new Set<string>();
  #nextOffset: bigint | null = null;
  #unsettled = 0;

  constructor(ordering: Ordering) {
    this.#ordering = ordering;
  }

  /** Records admitted and not yet settled (in flight, backing off, or waiting on their key). */
  get unsettled(): number {
    return this.#unsettled;
  }

  /**
   * Records held until the commit passes them: the unsettled ones, and settled ones behind a
   * record that still holds the commit (a parked dead letter, or one retrying to its deadline).
   */
  get held(): number {
    return this.#held.size;
  }

  /** Offset the next fetched record must have to be new; null before the first one. */
  get nextOffset(): bigint | null {
    return this.#nextOffset;
  }

  /**
   * Admits a fetched record. Returns 'start' when it may be inferred now, 'wait' when an
   * earlier record of its group is unsettled, 'duplicate' when it was admitted before
   * (the consumer refetches from the committed offset after a rebalance).
   */
  admit(record: SourceRecord): 'start' | 'wait' | 'duplicate' {
    if (this.#nextOffset !== null && record.offset < this.#nextOffset) return 'duplicate';
    this.#nextOffset = record.offset + 1n;
    const group = this.#groupOf(record);
    this.#held.set(record.offset, { record, group, settled: false });
    this.#order.push(record.offset);
    this.#unsettled++;
    if (group === null) return 'start';

    const queue = this.#groups.get(group);
    if (queue) {
      queue.push(record.offset);
      return queue.length === 1 && !this.#parked.has(group) ? 'start' : 'wait';
    }
    this.#groups.set(group, [record.offset]);
    return 'start';
  }

  /**
   * Marks a record settled; returns the record of the same group that may start now. With
   * `park` (a dead letter in `key` order), the record instead holds its group and the commit
   * until `unpark`: the commit stays before it, so whoever owns the partition after a restart
   * or rebalance reads it again, dead-letters it again and parks the key again.
   */
  settle(offset: bigint, park = false): SourceRecord | undefined {
    const held = this.#held.get(offset);
    if (!held || held.settled || held.parked) return undefined;
    if (park && held.group !== null) {
      held.parked = true;
      this.#parked.add(held.group);
      return undefined;
    }
    this.#markSettled(held);
    if (held.group === null) return undefined;

    const queue = this.#groups.get(held.group) ?? [];
    queue.shift();
    return this.#headOf(held.group, queue);
  }

  /** Lets a parked group go on: its dead letter settles; returns its record that may start now. */
  unpark(group: string): SourceRecord | undefined {
    if (!this.#parked.delete(group)) return undefined;
    const queue = this.#groups.get(group) ?? [];
    const first = queue[0];
    const head = first === undefined ? undefined : this.#held.get(first);
    if (head?.parked) {
      head.parked = false;
      this.#markSettled(head);
      queue.shift();
    }
    return this.#headOf(group, queue);
  }

  /** Settled: its value is dropped, only its offset waits for the commit to pass it. */
  #markSettled(held: Held): void {
    held.settled = true;
    held.record = null;
    this.#unsettled--;
  }

  /** Unsettled records that wait only for an operator: parked dead letters and those behind. */
  get waitingForOperator(): number {
    let waiting = 0;
    for (const group of this.#parked) waiting += this.#groups.get(group)?.length ?? 0;
    return waiting;
  }

  /** Unsettled records that still run or wait for their turn, not for an operator. */
  get inFlight(): number {
    return this.#unsettled - this.waitingForOperator;
  }

  /** Groups parked after a dead letter, as their key bytes read as latin1. */
  parkedGroups(): string[] {
    return [...this.#parked];
  }

  #headOf(group: string, queue: bigint[]): SourceRecord | undefined {
    const next = queue[0];
    if (next === undefined) {
      this.#groups.delete(group);
      return undefined;
    }
    return this.#held.get(next)?.record ?? undefined;
  }

  /**
   * Releases the settled prefix and returns the offset to commit (last settled + 1), or
   * null when the prefix did not grow.
   */
  releaseSettledPrefix(): bigint | null {
    let commit: bigint | null = null;
    while (this.#head < this.#order.length) {
      const offset = this.#order[this.#head] as bigint;
      if (!this.#held.get(offset)?.settled) break;
      this.#held.delete(offset);
      this.#head++;
      commit = offset + 1n;
    }
    // Compact now and then rather than shifting the array on every release.
    if (this.#head > 1024 && this.#head * 2 > this.#order.length) {
      this.#order = this.#order.slice(this.#head);
      this.#head = 0;
    }
    return commit;
  }

  #groupOf(record: SourceRecord): string | null {
    if (this.#ordering === 'none') return null;
    if (this.#ordering === 'partition') return '';
    // A record without a key has no ordering obligation towards any other record.
    if (record.key === undefined || record.key === null) return null;
    return keyGroup(record.key);
  }
}

/** The group of a record key in `key` ordering: its bytes, one character each (latin1). */
export function keyGroup(key: Buffer): string {
  return key.toString('latin1');
}
