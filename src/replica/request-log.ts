/** One inference request as the replica saw it. */
export interface RequestLogEntry {
  /** From the `x-event-id` header; null when the client sent none. */
  eventId: string | null;
  method: string;
  path: string;
  /** When the request arrived, epoch ms. */
  startedAt: number;
  /** The status answered; 499 when the client gave up first (nginx's convention). */
  status: number;
  durationMs: number;
}

/**
 * The inference requests the replica received, oldest first and bounded, so that tests and
 * operators can count how often each event reached the model.
 */
export class RequestLog {
  readonly #limit: number;
  #entries: RequestLogEntry[] = [];

  constructor(limit: number) {
    this.#limit = limit;
  }

  record(entry: RequestLogEntry): void {
    this.#entries.push(entry);
    // Trimming in chunks keeps the cost per request constant instead of a shift per entry.
    if (this.#entries.length > this.#limit * 1.1) {
      this.#entries = this.#entries.slice(-this.#limit);
    }
  }

  entries(eventId?: string): RequestLogEntry[] {
    const kept = this.#entries.slice(-this.#limit);
    return eventId === undefined ? kept : kept.filter((entry) => entry.eventId === eventId);
  }

  /** Forgets every entry and says how many there were. */
  clear(): number {
    const count = Math.min(this.#entries.length, this.#limit);
    this.#entries = [];

    return count;
  }
}
