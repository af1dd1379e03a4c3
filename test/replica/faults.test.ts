import { describe, expect, it } from 'vitest';
import { decideFault, faultsSchema } from '../../src/replica/faults.ts';

const now = 1_000_000;

describe('fault decisions', () => {
  it('serves with no extra time when no fault is set', () => {
    expect(decideFault(faultsSchema.parse({}), now, () => 0.5)).toEqual({
      kind: 'serve',
      extraMs: 0,
    });
  });

  it('answers 503 during an outage, with Retry-After the seconds left', () => {
    const faults = faultsSchema.parse({ outageUntil: now + 2_500, hang: true });
    expect(decideFault(faults, now, () => 0)).toEqual({
      kind: 'fail',
      status: 503,
      reason: 'outage',
      retryAfterSeconds: 3,
    });
    expect(decideFault(faults, now + 2_500, () => 0).kind).toBe('hang');
  });

  it('injects the configured error at the configured rate', () => {
    const faults = faultsSchema.parse({ errorRate: 0.2, errorStatus: 429, retryAfterSeconds: 1 });
    expect(decideFault(faults, now, () => 0.1)).toMatchObject({ kind: 'fail', status: 429 });
    expect(decideFault(faults, now, () => 0.3).kind).toBe('serve');
  });

  it('adds latency plus a uniform share of the jitter', () => {
    const faults = faultsSchema.parse({ latencyMs: 100, jitterMs: 50 });
    expect(decideFault(faults, now, () => 0.5)).toEqual({ kind: 'serve', extraMs: 125 });
  });

  it('rejects settings it does not know', () => {
    expect(faultsSchema.safeParse({ errorStatus: 404 }).success).toBe(false);
    expect(faultsSchema.safeParse({ latency: 5 }).success).toBe(false);
  });
});
