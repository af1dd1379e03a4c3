import { describe, expect, it } from 'vitest';
import { RetryBudget } from '../../src/policy/retry-budget.ts';

describe('retry budget', () => {
  it('allows retries in proportion to first attempts once its reserve is spent', () => {
    let now = 0;
    const budget = new RetryBudget({ ratio: 0.2, minPerSecond: 0 }, () => now);
    let granted = 0;
    while (budget.tryRetry()) granted++;
    expect(granted).toBe(10);
    for (let i = 0; i < 10; i++) budget.recordAttempt();
    expect(budget.tryRetry()).toBe(true);
    expect(budget.tryRetry()).toBe(true);
    expect(budget.tryRetry()).toBe(false);
    now += 60_000;
    expect(budget.tryRetry()).toBe(false);
  });

  it('refills at the minimum rate over time, up to its cap', () => {
    let now = 0;
    const budget = new RetryBudget({ ratio: 0, minPerSecond: 5 }, () => now);
    while (budget.tryRetry()) {}
    now += 1_000;
    expect(budget.balance).toBeCloseTo(5);
    now += 1_000_000;
    expect(budget.balance).toBe(50);
  });
});
