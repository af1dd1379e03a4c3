import { describe, expect, it } from 'vitest';
import { createActor, SimulatedClock } from 'xstate';
import {
  type BreakerOptions,
  breakerMachine,
  defaultBreakerOptions,
  failureRate,
  isReplicaFailure,
  shouldOpen,
} from '../../src/actors/breaker.ts';
import { type ErrorInfo, errorCodes } from '../../src/errors.ts';

const unavailable: ErrorInfo = {
  code: errorCodes.replica,
  message: 'replica answered 503',
  retryable: true,
  status: 503,
};

function start(options: Partial<BreakerOptions> = {}) {
  const clock = new SimulatedClock();
  const breaker = createActor(breakerMachine, {
    clock,
    input: {
      replica: 'http://127.0.0.1:8000',
      options: { ...defaultBreakerOptions, ...options },
      now: () => clock.now(),
    },
  });
  breaker.start();
  const succeed = (times = 1) => {
    for (let i = 0; i < times; i++) breaker.send({ type: 'call.succeeded' });
  };
  const fail = (times = 1) => {
    for (let i = 0; i < times; i++) breaker.send({ type: 'call.failed', error: unavailable });
  };
  const state = () => breaker.getSnapshot().value;
  return { breaker, clock, succeed, fail, state };
}

describe('circuit breaker', () => {
  it('stays closed while failures are rare', () => {
    const { succeed, fail, state } = start();
    for (let i = 0; i < 10; i++) {
      fail();
      succeed(3);
    }
    expect(state()).toBe('closed');
  });

  it('opens on consecutive failures before the window holds the minimum of calls', () => {
    const { fail, state, breaker } = start({ consecutiveFailures: 3, minimumCalls: 10 });
    fail(2);
    expect(state()).toBe('closed');
    fail();
    expect(state()).toBe('open');
    expect(breaker.getSnapshot().context).toMatchObject({ opened: 1, lastFailure: unavailable });
  });

  it('opens on the failure rate once the window holds the minimum of calls', () => {
    const { succeed, fail, state } = start({
      minimumCalls: 6,
      failureRateThreshold: 0.5,
      consecutiveFailures: 100,
    });
    // Alternating: never two failures in a row, half of all calls failed.
    succeed();
    fail();
    succeed();
    fail();
    succeed();
    expect(state()).toBe('closed');
    fail();
    expect(state()).toBe('open');
  });

  it('forgets outcomes that slid out of the window', () => {
    const { succeed, fail, state, breaker } = start({
      windowSize: 4,
      minimumCalls: 4,
      failureRateThreshold: 0.75,
      consecutiveFailures: 100,
    });
    fail(2);
    succeed(4);
    fail(2);
    expect(breaker.getSnapshot().context.window).toEqual([false, false, true, true]);
    expect(state()).toBe('closed');
  });

  it('goes half-open after the cooldown and closes after the probes succeed', () => {
    const { clock, succeed, fail, state, breaker } = start({
      consecutiveFailures: 2,
      cooldownMs: 1_000,
      probes: 2,
    });
    fail(2);
    expect(state()).toBe('open');
    succeed(5); // late answers of calls made before it opened
    clock.increment(999);
    expect(state()).toBe('open');
    clock.increment(1);
    expect(state()).toBe('halfOpen');

    succeed();
    expect(state()).toBe('halfOpen');
    succeed();
    expect(state()).toBe('closed');
    expect(breaker.getSnapshot().context).toMatchObject({ window: [], consecutiveFailures: 0 });
  });

  it('opens again when a probe fails, for another full cooldown', () => {
    const { clock, succeed, fail, state, breaker } = start({
      consecutiveFailures: 1,
      cooldownMs: 500,
    });
    fail();
    clock.increment(500);
    succeed();
    fail();
    expect(state()).toBe('open');
    expect(breaker.getSnapshot().context).toMatchObject({ opened: 2, openedAt: 500 });
    clock.increment(499);
    expect(state()).toBe('open');
    clock.increment(1);
    expect(state()).toBe('halfOpen');
    expect(breaker.getSnapshot().context.probeSuccesses).toBe(0);
  });
});

describe('breaker rules', () => {
  it('computes the failure rate of the window', () => {
    expect(failureRate([])).toBe(0);
    expect(failureRate([true, false, false, true])).toBe(0.5);
  });

  it('needs the minimum of calls before the rate counts', () => {
    const options = { ...defaultBreakerOptions, minimumCalls: 4, consecutiveFailures: 10 };
    expect(shouldOpen([true, false, true], 1, options)).toBe(false);
    expect(shouldOpen([true, false, true, false], 0, options)).toBe(true);
  });

  it('blames the replica for timeouts, refused connections, 5xx and garbage, not for 4xx or 429', () => {
    const blame = (code: ErrorInfo['code']) =>
      isReplicaFailure({ code, message: '', retryable: true });
    expect(blame(errorCodes.timeout)).toBe(true);
    expect(blame(errorCodes.connection)).toBe(true);
    expect(blame(errorCodes.rateLimited)).toBe(false);
    expect(blame(errorCodes.replica)).toBe(true);
    expect(blame(errorCodes.badResponse)).toBe(true);
    expect(blame(errorCodes.validation)).toBe(false);
    expect(blame(errorCodes.deadline)).toBe(false);
  });
});
