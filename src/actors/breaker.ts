import { assign, setup } from 'xstate';
import { type ErrorCode, type ErrorInfo, errorCodes } from '../errors.ts';

/**
 * When a replica's breaker opens and how it comes back; `breaker.*` in the configuration. The
 * defaults suit GPU servers that serve tens of requests at once: twenty failures in a row is a
 * fraction of a second of a dead server's traffic, while a short burst of 503s from a server
 * that is momentarily full does not take it out of the pool.
 */
export interface BreakerOptions {
  /** Outcomes of the latest calls kept in the sliding window. Default 50. */
  windowSize: number;
  /** Calls the window must hold before its failure rate may open the breaker. Default 20. */
  minimumCalls: number;
  /** Share of failed calls in the window, from 0 to 1, that opens the breaker. Default 0.5. */
  failureRateThreshold: number;
  /** Failures in a row that open the breaker, however the window looks. Default 20. */
  consecutiveFailures: number;
  /** Time the breaker stays open before it lets probes through. Default 5000 ms. */
  cooldownMs: number;
  /** Probe calls let through at once when half-open; as many successes close it. Default 2. */
  probes: number;
}

export const defaultBreakerOptions: Readonly<BreakerOptions> = {
  windowSize: 50,
  minimumCalls: 20,
  failureRateThreshold: 0.5,
  consecutiveFailures: 20,
  cooldownMs: 5_000,
  probes: 2,
};

export interface BreakerInput {
  /** Base URL of the replica this breaker guards. */
  replica: string;
  options: BreakerOptions;
  now?: () => number;
}

export type BreakerState = 'closed' | 'open' | 'halfOpen';

export interface BreakerContext {
  replica: string;
  options: BreakerOptions;
  now: () => number;
  /** Latest outcomes, oldest first: true for a failed call. Never longer than `windowSize`. */
  window: boolean[];
  consecutiveFailures: number;
  /** Successful probes since the breaker went half-open. */
  probeSuccesses: number;
  /** How often the breaker opened since it started. */
  opened: number;
  /** When it last opened (epoch ms), null while it never did. */
  openedAt: number | null;
  lastFailure: ErrorInfo | null;
}

/** The breaker's events, dotted lower case like every Tokenline event. */
export const breakerEvents = {
  callSucceeded: 'call.succeeded',
  callFailed: 'call.failed',
} as const;

export type BreakerEvent =
  | { type: typeof breakerEvents.callSucceeded }
  | { type: typeof breakerEvents.callFailed; error: ErrorInfo };

/**
 * Failures that speak about the replica's health. A rejected request (4xx), an unreadable
 * record or a deadline that had passed before the call says nothing about the server; a 429
 * says it is alive and pacing its clients, which Retry-After already handles.
 */
const replicaFailureCodes: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  errorCodes.timeout,
  errorCodes.connection,
  errorCodes.replica,
  errorCodes.badResponse,
]);

/**
 * One replica's circuit breaker. Closed, it counts call outcomes in a sliding window and
 * opens on a failure rate over enough calls or on a run of failures. Open, the replica gets
 * no calls until the cooldown is over. Half-open, a few probe calls go through: as many
 * successes close it, one failure opens it again. The machine only decides; the worker pool
 * stops and starts the replica's worker from its state.
 */
export const breakerMachine = setup({
  types: {
    input: {} as BreakerInput,
    context: {} as BreakerContext,
    events: {} as BreakerEvent,
  },
  delays: {
    cooldown: ({ context }) => context.options.cooldownMs,
  },
  guards: {
    tripped: ({ context }) =>
      shouldOpen(context.window, context.consecutiveFailures, context.options),
    probesPassed: ({ context }) => context.probeSuccesses >= context.options.probes,
  },
  actions: {
    recordSuccess: assign(({ context }) => ({
      window: slide(context.window, false, context.options.windowSize),
      consecutiveFailures: 0,
    })),
    recordFailure: assign(({ context, event }) => ({
      window: slide(context.window, true, context.options.windowSize),
      consecutiveFailures: context.consecutiveFailures + 1,
      lastFailure: event.type === breakerEvents.callFailed ? event.error : context.lastFailure,
    })),
    recordProbeFailure: assign(({ context, event }) => ({
      lastFailure: event.type === breakerEvents.callFailed ? event.error : context.lastFailure,
    })),
    countProbeSuccess: assign({ probeSuccesses: ({ context }) => context.probeSuccesses + 1 }),
    markOpened: assign(({ context }) => ({
      opened: context.opened + 1,
      openedAt: context.now(),
      probeSuccesses: 0,
    })),
    // A closed breaker judges the replica afresh: what happened before it opened is history.
    forgetOutcomes: assign({ window: [], consecutiveFailures: 0, probeSuccesses: 0 }),
  },
}).createMachine({
  id: 'breaker',
  context: ({ input }) => ({
    replica: input.replica,
    options: input.options,
    now: input.now ?? Date.now,
    window: [],
    consecutiveFailures: 0,
    probeSuccesses: 0,
    opened: 0,
    openedAt: null,
    lastFailure: null,
  }),
  initial: 'closed',
  states: {
    closed: {
      entry: 'forgetOutcomes',
      on: {
        'call.succeeded': { actions: 'recordSuccess' },
        'call.failed': { actions: 'recordFailure' },
      },
      always: { guard: 'tripped', target: 'open' },
    },
    open: {
      entry: 'markOpened',
      // Outcomes of calls that started before the breaker opened arrive here and are ignored.
      after: { cooldown: { target: 'halfOpen' } },
    },
    halfOpen: {
      on: {
        'call.succeeded': { actions: 'countProbeSuccess' },
        'call.failed': { target: 'open', actions: 'recordProbeFailure' },
      },
      always: { guard: 'probesPassed', target: 'closed' },
    },
  },
});

/** True when an error should count against the replica that answered it. */
export function isReplicaFailure(error: ErrorInfo): boolean {
  return replicaFailureCodes.has(error.code);
}

/** The open rule: a run of failures, or a failure rate over at least `minimumCalls` calls. */
export function shouldOpen(
  window: readonly boolean[],
  consecutiveFailures: number,
  options: BreakerOptions,
): boolean {
  if (consecutiveFailures >= options.consecutiveFailures) return true;
  if (window.length < options.minimumCalls) return false;

  return failureRate(window) >= options.failureRateThreshold;
}

export function failureRate(window: readonly boolean[]): number {
  if (window.length === 0) return 0;
  const failed = window.filter(Boolean).length;

  return failed / window.length;
}

function slide(window: readonly boolean[], failed: boolean, size: number): boolean[] {
  const next = [...window, failed];

  return next.length > size ? next.slice(next.length - size) : next;
}
