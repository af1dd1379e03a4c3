import type { DeadLetterReason } from '../contracts/dead-letter.ts';
import { type ErrorInfo, errorCodes } from '../errors.ts';

/** Retry policy of inference calls; defaults live in the configuration schema. */
export interface RetryPolicy {
  /** Attempts per record, the first included. */
  maxAttempts: number;
  /** Ceiling of the first backoff; doubles with each attempt. */
  baseDelayMs: number;
  /** Largest backoff, also the cap on a server's Retry-After. */
  maxDelayMs: number;
}

export interface RetryFacts {
  error: ErrorInfo;
  /** Attempts made so far, the failed one included. */
  attempts: number;
  now: number;
  deadline: number;
  /** Uniform in [0, 1); injected so that tests are deterministic. */
  random: number;
}

export type RetryDecision =
  | { action: 'retry'; delayMs: number }
  | { action: 'dead-letter'; reason: DeadLetterReason };

/**
 * Decides what follows a failed attempt. Exponential backoff with full jitter (a uniform
 * draw between zero and the ceiling) spreads retries of many records apart; a Retry-After
 * from the server replaces the draw; no retry is scheduled past the record's deadline.
 */
export function decideRetry(policy: RetryPolicy, facts: RetryFacts): RetryDecision {
  const { error, attempts, now, deadline } = facts;
  if (error.code === errorCodes.decode) return { action: 'dead-letter', reason: 'poison' };
  if (error.code === errorCodes.deadline) return { action: 'dead-letter', reason: 'deadline' };
  if (!error.retryable) return { action: 'dead-letter', reason: 'non-retryable' };
  if (attempts >= policy.maxAttempts) return { action: 'dead-letter', reason: 'retries-exhausted' };

  const delayMs = backoffDelay(policy, attempts, facts.random, error.retryAfterMs);
  if (now + delayMs >= deadline) return { action: 'dead-letter', reason: 'deadline' };

  return { action: 'retry', delayMs };
}

export function backoffDelay(
  policy: RetryPolicy,
  attempts: number,
  random: number,
  retryAfterMs?: number,
): number {
  if (retryAfterMs !== undefined) return Math.min(retryAfterMs, policy.maxDelayMs);
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempts - 1));

  return Math.floor(random * ceiling);
}
