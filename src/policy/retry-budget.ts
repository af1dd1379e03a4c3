/** Options of the retry budget; defaults live in the configuration schema (`retry.*`). */
export interface RetryBudgetOptions {
  /** Retries allowed per first attempt, e.g. 0.2: at most one retry per five records. */
  ratio: number;
  /** Retries allowed per second regardless of traffic, so a quiet pool can still retry. */
  minPerSecond: number;
}

/**
 * A retry budget shared by every record of a replica pool. Each first attempt deposits
 * `ratio` of a token, time deposits `minPerSecond`, each retry withdraws one. When an outage
 * makes every call fail, retries are capped at that share of the normal load instead of
 * multiplying it; the balance is capped so that a long calm does not bank a retry storm.
 */
export class RetryBudget {
  readonly #options: RetryBudgetOptions;
  readonly #now: () => number;
  readonly #cap: number;
  #tokens: number;
  #updatedAt: number;

  constructor(options: RetryBudgetOptions, now: () => number = Date.now) {
    this.#options = options;
    this.#now = now;
    this.#cap = Math.max(10, options.minPerSecond * 10);
    this.#tokens = this.#cap;
    this.#updatedAt = now();
  }

  get balance(): number {
    this.#refill();
    return this.#tokens;
  }

  recordAttempt(): void {
    this.#refill();
    this.#tokens = Math.min(this.#cap, this.#tokens + this.#options.ratio);
  }

  /** Takes a token for one retry; false when the budget is spent. */
  tryRetry(): boolean {
    this.#refill();
    // Tolerance for the float sum of fractional deposits (ten deposits of 0.2 are not 2).
    if (this.#tokens < 1 - 1e-9) return false;
    this.#tokens -= 1;
    return true;
  }

  #refill(): void {
    const now = this.#now();
    const elapsed = Math.max(0, now - this.#updatedAt) / 1000;
    this.#updatedAt = now;
    this.#tokens = Math.min(this.#cap, this.#tokens + elapsed * this.#options.minPerSecond);
  }
}
