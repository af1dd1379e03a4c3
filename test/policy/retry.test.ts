import { describe, expect, it } from 'vitest';
import { type ErrorInfo, errorCodes } from '../../src/errors.ts';
import { backoffDelay, decideRetry, type RetryPolicy } from '../../src/policy/retry.ts';

const policy: RetryPolicy = { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 2_000 };
const retryable: ErrorInfo = { code: errorCodes.replica, message: '503', retryable: true };

describe('retry policy', () => {
  it('draws the backoff uniformly below a ceiling that doubles per attempt', () => {
    expect(backoffDelay(policy, 1, 0.999)).toBe(99);
    expect(backoffDelay(policy, 3, 0.5)).toBe(200);
    expect(backoffDelay(policy, 10, 0.999)).toBe(1_998);
    expect(backoffDelay(policy, 2, 0)).toBe(0);
  });

  it('honours Retry-After, capped at the largest backoff', () => {
    expect(backoffDelay(policy, 1, 0.1, 1_500)).toBe(1_500);
    expect(backoffDelay(policy, 1, 0.1, 60_000)).toBe(2_000);
  });

  it('retries a retryable error while attempts and deadline allow', () => {
    const decision = decideRetry(policy, {
      error: retryable,
      attempts: 1,
      now: 0,
      deadline: 10_000,
      random: 0.5,
    });
    expect(decision).toEqual({ action: 'retry', delayMs: 50 });
  });

  it('dead-letters by the right reason', () => {
    const facts = { attempts: 1, now: 0, deadline: 10_000, random: 0.5 };
    const reason = (error: typeof retryable, extra = {}) =>
      decideRetry(policy, { ...facts, error, ...extra });
    expect(reason({ ...retryable, code: errorCodes.decode, retryable: false })).toEqual({
      action: 'dead-letter',
      reason: 'poison',
    });
    expect(reason({ ...retryable, code: errorCodes.validation, retryable: false })).toEqual({
      action: 'dead-letter',
      reason: 'non-retryable',
    });
    expect(reason(retryable, { attempts: 4 })).toEqual({
      action: 'dead-letter',
      reason: 'retries-exhausted',
    });
    expect(reason({ ...retryable, retryAfterMs: 5_000 }, { now: 9_000 })).toEqual({
      action: 'dead-letter',
      reason: 'deadline',
    });
  });
});
