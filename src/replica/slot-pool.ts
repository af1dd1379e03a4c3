/** A held slot; `release` hands it to the next waiter, and calling it twice is harmless. */
export interface SlotLease {
  release(): void;
}

interface Waiter {
  grant(lease: SlotLease): void;
}

/**
 * The replica's batch slots: at most `slots` requests are served at once, at most
 * `queueLimit` more wait in arrival order, and anything beyond that is turned away at once
 * (the caller answers 429), as TGI does when its concurrent-request limit is reached.
 */
export class SlotPool {
  readonly slots: number;
  readonly queueLimit: number;
  #inUse = 0;
  readonly #waiters: Waiter[] = [];

  constructor(slots: number, queueLimit: number) {
    this.slots = slots;
    this.queueLimit = queueLimit;
  }

  get inUse(): number {
    return this.#inUse;
  }

  get queued(): number {
    return this.#waiters.length;
  }

  /**
   * A lease once a slot is free, or `undefined` when the queue is already full. The promise
   * rejects with the signal's reason if the caller gives up first, which frees its place.
   */
  acquire(signal: AbortSignal): Promise<SlotLease> | undefined {
    if (signal.aborted) return Promise.reject(signal.reason);
    if (this.#inUse < this.slots && this.#waiters.length === 0) {
      this.#inUse += 1;
      return Promise.resolve(this.#lease());
    }
    if (this.#waiters.length >= this.queueLimit) return undefined;

    return this.#wait(signal);
  }

  #wait(signal: AbortSignal): Promise<SlotLease> {
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        grant: (lease) => {
          signal.removeEventListener('abort', onAbort);
          resolve(lease);
        },
      };
      const onAbort = () => {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  #lease(): SlotLease {
    let held = true;

    return {
      release: () => {
        if (!held) return;
        held = false;
        this.#handOver();
      },
    };
  }

  /** A freed slot goes straight to the longest waiter, so a newcomer cannot jump the queue. */
  #handOver(): void {
    const next = this.#waiters.shift();
    if (next) next.grant(this.#lease());
    else this.#inUse -= 1;
  }
}
