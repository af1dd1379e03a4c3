import { delay, untilAborted } from './abortable.ts';
import { decideFault } from './faults.ts';
import type { ErrorReply } from './openai-error.ts';
import type { ResolvedReplicaOptions } from './options.ts';
import type { ReplicaState } from './replica-state.ts';
import type { SlotLease } from './slot-pool.ts';

/** How an inference request ended: answered, refused with an error, or given up by its client. */
export type Served<T> =
  | { kind: 'served'; value: T }
  | { kind: 'refused'; reply: ErrorReply }
  | { kind: 'aborted' };

/**
 * Runs `work` the way a GPU server would: faults first (outage, injected error, hang), then
 * a slot — waiting in line if all are busy, refused if the line is full — held for at least
 * the service time. A client that gives up frees its place in line or its slot at once.
 */
export async function serveInference<T>(
  state: ReplicaState,
  signal: AbortSignal,
  items: number,
  work: () => T,
): Promise<Served<T>> {
  const verdict = decideFault(state.faults, Date.now(), Math.random);
  if (verdict.kind === 'hang') return hang(state, signal);
  if (verdict.kind === 'fail') {
    state.count('failed');
    const reason = verdict.reason === 'outage' ? 'the replica is down' : 'injected fault';
    const reply = serverError(verdict.status, reason, verdict.retryAfterSeconds);
    return { kind: 'refused', reply };
  }
  const waiting = state.slots.acquire(signal);
  if (!waiting) {
    state.count('rejected');
    return { kind: 'refused', reply: overloaded(state) };
  }

  try {
    return await holdSlot(
      state,
      signal,
      waiting,
      serviceTimeMs(state.options, items) + verdict.extraMs,
      work,
    );
  } catch (error) {
    if (!signal.aborted) throw error;
    state.count('aborted');
    return { kind: 'aborted' };
  }
}

/** A batch of n inputs shares one forward pass: each input after the first adds a fraction. */
export function serviceTimeMs(options: ResolvedReplicaOptions, items: number): number {
  const extraItems = Math.max(0, items - 1);

  return options.serviceTimeMs * (1 + options.batchItemCost * extraItems);
}

async function holdSlot<T>(
  state: ReplicaState,
  signal: AbortSignal,
  waiting: Promise<SlotLease>,
  holdMs: number,
  work: () => T,
): Promise<Served<T>> {
  const slot = await waiting;
  try {
    const started = performance.now();
    const value = work();
    // The model's own compute counts towards the service time, as it would on a GPU.
    await delay(holdMs - (performance.now() - started), signal);
    state.count('served');

    return { kind: 'served', value };
  } finally {
    slot.release();
  }
}

async function hang(state: ReplicaState, signal: AbortSignal): Promise<Served<never>> {
  state.count('hanging');
  try {
    await untilAborted(signal);
  } catch {
    state.count('aborted');
  } finally {
    state.count('hanging', -1);
  }

  return { kind: 'aborted' };
}

/** The wait a newcomer would face, rounded up to whole seconds as Retry-After requires. */
function overloaded(state: ReplicaState): ErrorReply {
  const { slots, queued } = state.slots;
  const waitMs = (queued / slots + 1) * state.options.serviceTimeMs;
  const retryAfterSeconds = Math.max(1, Math.ceil(waitMs / 1000));
  const status = state.options.overloadStatus;
  const message = `the replica is overloaded: ${slots} slots busy and ${queued} requests queued`;

  return { status, message, type: 'server_overloaded', code: 'overloaded', retryAfterSeconds };
}

function serverError(
  status: 429 | 500 | 503,
  reason: string,
  retryAfterSeconds?: number,
): ErrorReply {
  const type = status === 429 ? 'rate_limit_error' : 'server_error';
  const code = status === 429 ? 'rate_limited' : status === 503 ? 'unavailable' : 'internal_error';

  return { status, message: `${reason} (${status})`, type, code, retryAfterSeconds };
}
