import { assign, fromPromise, sendParent, setup } from 'xstate';
import type { Config } from '../config.ts';
import { buildDeadLetterRecord, type DeadLetterReason } from '../contracts/dead-letter.ts';
import type { InferenceOutcome, InferenceResult } from '../contracts/inference.ts';
import { type DecodeResult, decodeRecord } from '../contracts/input.ts';
import { buildOutputRecord, type ProducedMessage } from '../contracts/output.ts';
import type { SourceRecord } from '../contracts/source-record.ts';
import { type ErrorInfo, errorCodes, TokenlineError, toErrorInfo } from '../errors.ts';
import { events } from '../events.ts';
import { decideRetry } from '../policy/retry.ts';
import type { RecordPorts } from './ports.ts';

export interface RecordInput {
  source: SourceRecord;
  task: Config['task'];
  ports: RecordPorts;
}

export type RecordOutcome = 'emitted' | 'dead-lettered';

/** What a record actor tells its partition actor when it is done; metrics read it too. */
export interface RecordSettledEvent {
  type: 'record.settled';
  offset: bigint;
  outcome: RecordOutcome;
  reason: DeadLetterReason | null;
  attempts: number;
  result: InferenceResult | null;
  /** From the record's timestamp to the moment its output or dead letter was acknowledged. */
  endToEndMs: number;
  withinDeadline: boolean;
}

export interface RecordContext {
  source: SourceRecord;
  decoded: DecodeResult;
  ports: RecordPorts;
  attempts: number;
  result: InferenceResult | null;
  lastError: ErrorInfo | null;
  firstFailureAt: number | null;
  lastFailureAt: number | null;
  retryDelayMs: number;
  deadLetterReason: DeadLetterReason | null;
  /** Set when the dead letter itself was too large: it is sent again without the value. */
  dropValue: boolean;
  outcome: RecordOutcome | null;
}

type InferDone = { type: 'xstate.done.actor.infer'; output: InferenceOutcome };

/**
 * One record's life inside a partition actor: infer, back off and retry, then emit the result
 * or dead-letter the record. It ends by telling its partition actor that it settled.
 */
export const recordMachine = setup({
  types: {
    input: {} as RecordInput,
    context: {} as RecordContext,
  },
  actors: {
    infer: fromPromise<InferenceOutcome, { context: RecordContext }>(({ input, signal }) => {
      const { decoded, ports } = input.context;
      if (!decoded.ok) throw new Error('a record that failed to decode cannot be inferred');
      const { eventId, text, deadline, traceparent } = decoded.record;
      return untilDeadline(
        (attempt) => ports.infer({ eventId, text, deadline, traceparent }, attempt),
        deadline - ports.now(),
        signal,
      );
    }),
    produce: fromPromise<void, { ports: RecordPorts; message: ProducedMessage }>(({ input }) =>
      input.ports.produce(input.message),
    ),
  },
  delays: {
    retryDelay: ({ context }) => context.retryDelayMs,
    produceRetry: ({ context }) => context.ports.produceRetryMs,
  },
  guards: {
    isPoison: ({ context }) => !context.decoded.ok,
    deadlinePassed: ({ context }) => deadlineOf(context.decoded) <= context.ports.now(),
    outputRejected: ({ event }) => errorCodeOf(event) === errorCodes.tooLarge,
    // Only once: a dead letter still too large without its value keeps retrying instead.
    deadLetterRejected: ({ context, event }) =>
      !context.dropValue && errorCodeOf(event) === errorCodes.tooLarge,
    inferenceSucceeded: ({ event }) => (event as InferDone).output.ok,
    retryScheduled: ({ context }) => context.deadLetterReason === null,
  },
  actions: {
    countAttempt: assign({
      attempts: ({ context }) => {
        if (context.attempts === 0) context.ports.retryBudget.recordAttempt();
        return context.attempts + 1;
      },
    }),
    storeResult: assign({
      result: ({ event }) => {
        const output = (event as InferDone).output;
        return output.ok ? output.result : null;
      },
    }),
    markPoison: assign(({ context }) => {
      const now = context.ports.now();
      const error = context.decoded.ok ? null : context.decoded.error;
      return {
        lastError: error,
        firstFailureAt: now,
        lastFailureAt: now,
        deadLetterReason: 'poison',
      };
    }),
    recordFailure: assign(({ context, event }) => {
      const error = failureOf(event);
      return failureUpdate(context, error);
    }),
    recordExpired: assign(({ context }) => {
      const now = context.ports.now();
      const error: ErrorInfo = {
        code: errorCodes.deadline,
        // Admitted in time, it may have waited for its key's earlier records since.
        message: 'deadline had passed before its inference could start',
        retryable: false,
      };
      return {
        lastError: error,
        firstFailureAt: now,
        lastFailureAt: now,
        deadLetterReason: 'deadline',
      };
    }),
    recordOutputRejected: assign(({ context, event }) => {
      const now = context.ports.now();
      return {
        lastError: toErrorInfo((event as { error?: unknown }).error),
        firstFailureAt: context.firstFailureAt ?? now,
        lastFailureAt: now,
        deadLetterReason: 'non-retryable' as const,
      };
    }),
    dropDeadLetterValue: assign({ dropValue: true }),
    markEmitted: assign({ outcome: 'emitted' }),
    markDeadLettered: assign({ outcome: 'dead-lettered' }),
    reportSettled: sendParent(({ context }): RecordSettledEvent => {
      const now = context.ports.now();
      return {
        type: events.recordSettled,
        offset: context.source.offset,
        outcome: context.outcome ?? 'dead-lettered',
        reason: context.deadLetterReason,
        attempts: context.attempts,
        result: context.result,
        endToEndMs: Math.max(0, now - Number(context.source.timestamp)),
        withinDeadline: now <= deadlineOf(context.decoded),
      };
    }),
  },
}).createMachine({
  id: 'record',
  context: ({ input }) => ({
    source: input.source,
    decoded: decodeRecord(input.source, input.task, input.ports.now()),
    ports: input.ports,
    attempts: 0,
    result: null,
    lastError: null,
    firstFailureAt: null,
    lastFailureAt: null,
    retryDelayMs: 0,
    deadLetterReason: null,
    dropValue: false,
    outcome: null,
  }),
  initial: 'admitted',
  // The partition gave up on this record (revocation or shutdown past the drain timeout): its
  // offset is not committed, so whoever owns the partition next fetches it again.
  on: { 'record.abandon': '.abandoned' },
  states: {
    admitted: {
      always: [
        { guard: 'isPoison', target: 'deadLettering', actions: 'markPoison' },
        { guard: 'deadlinePassed', target: 'deadLettering', actions: 'recordExpired' },
        { target: 'inferring' },
      ],
    },
    inferring: {
      entry: 'countAttempt',
      invoke: {
        id: 'infer',
        src: 'infer',
        input: ({ context }) => ({ context }),
        onDone: [
          { guard: 'inferenceSucceeded', target: 'emitting', actions: 'storeResult' },
          { target: 'failed', actions: 'recordFailure' },
        ],
        onError: { target: 'failed', actions: 'recordFailure' },
      },
    },
    failed: {
      always: [{ guard: 'retryScheduled', target: 'backingOff' }, { target: 'deadLettering' }],
    },
    backingOff: {
      after: { retryDelay: { target: 'inferring' } },
    },
    emitting: {
      invoke: {
        src: 'produce',
        input: ({ context }) => ({ ports: context.ports, message: outputMessage(context) }),
        onDone: { target: 'done', actions: 'markEmitted' },
        onError: [
          { guard: 'outputRejected', target: 'deadLettering', actions: 'recordOutputRejected' },
          { target: 'emitBackoff' },
        ],
      },
    },
    emitBackoff: {
      after: { produceRetry: { target: 'emitting' } },
    },
    deadLettering: {
      invoke: {
        src: 'produce',
        input: ({ context }) => ({ ports: context.ports, message: deadLetterMessage(context) }),
        onDone: { target: 'done', actions: 'markDeadLettered' },
        onError: [
          {
            guard: 'outputRejected',
            target: 'deadLettering',
            actions: 'dropDeadLetterValue',
            reenter: true,
          },
          { target: 'deadLetterBackoff' },
        ],
      },
    },
    deadLetterBackoff: {
      after: { produceRetry: { target: 'deadLettering' } },
    },
    // Not a final state: a final one would also send the partition a done event it has no use
    // for, a second transition of the partition per record. The partition stops this actor
    // when it receives `record.settled`.
    done: {
      entry: 'reportSettled',
    },
    abandoned: { type: 'final' },
  },
});

/**
 * Runs one inference attempt, failing it with TL_DEADLINE once the record's deadline passes.
 * A plain timer rather than a delayed machine transition: XState scans every scheduled event
 * of the system whenever an actor stops, so a timer per record in flight made each record's
 * end cost time in proportion to the window.
 */
function untilDeadline(
  attempt: (signal: AbortSignal) => Promise<InferenceOutcome>,
  remainingMs: number,
  signal: AbortSignal,
): Promise<InferenceOutcome> {
  const controller = new AbortController();
  const stop = () => controller.abort();
  signal.addEventListener('abort', stop, { once: true });
  return new Promise<InferenceOutcome>((resolve, reject) => {
    const timer = setTimeout(
      () => {
        controller.abort();
        const message = 'deadline passed while the inference was in flight';
        reject(new TokenlineError(errorCodes.deadline, message));
      },
      Math.max(0, remainingMs),
    );
    attempt(controller.signal)
      .then(resolve, reject)
      .finally(() => {
        clearTimeout(timer);
        signal.removeEventListener('abort', stop);
      });
  });
}

function deadlineOf(decoded: DecodeResult): number {
  return decoded.ok ? decoded.record.deadline : decoded.deadline;
}

function failureOf(event: unknown): ErrorInfo {
  const done = event as Partial<InferDone> & { error?: unknown };
  if (done.output && !done.output.ok) return done.output.error;
  return toErrorInfo(done.error);
}

function failureUpdate(context: RecordContext, error: ErrorInfo): Partial<RecordContext> {
  const { ports } = context;
  const now = ports.now();
  const decision = decideRetry(ports.retry, {
    error,
    attempts: context.attempts,
    now,
    deadline: deadlineOf(context.decoded),
    random: ports.random(),
  });
  const update = {
    lastError: error,
    firstFailureAt: context.firstFailureAt ?? now,
    lastFailureAt: now,
  };
  if (decision.action === 'dead-letter') {
    return { ...update, retryDelayMs: 0, deadLetterReason: decision.reason };
  }
  if (ports.retryBudget.tryRetry()) {
    return { ...update, retryDelayMs: decision.delayMs, deadLetterReason: null };
  }
  // The pool's retry budget is spent: wait the longest backoff instead of adding load now.
  const deferred = Math.max(decision.delayMs, ports.retry.maxDelayMs);
  if (now + deferred >= deadlineOf(context.decoded)) {
    return { ...update, retryDelayMs: 0, deadLetterReason: 'deadline' };
  }
  return { ...update, retryDelayMs: deferred, deadLetterReason: null };
}

function errorCodeOf(event: unknown): string | undefined {
  const error = (event as { error?: unknown }).error;
  return toErrorInfo(error).code;
}

function outputMessage(context: RecordContext): ProducedMessage {
  const { decoded, result, ports } = context;
  if (!decoded.ok || !result) throw new Error('emitting requires a decoded record and a result');
  return buildOutputRecord(
    ports.outputTopic,
    context.source,
    decoded.record,
    result,
    context.attempts,
    ports.now(),
  );
}

function deadLetterMessage(context: RecordContext): ProducedMessage {
  const { ports } = context;
  const now = ports.now();
  return buildDeadLetterRecord(
    ports.deadLetterTopic,
    context.source,
    {
      reason: context.deadLetterReason ?? 'non-retryable',
      error: context.lastError ?? {
        code: errorCodes.internal,
        message: 'unknown',
        retryable: false,
      },
      attempts: context.attempts,
      eventId: context.decoded.ok ? context.decoded.record.eventId : context.decoded.eventId,
      firstFailureAt: context.firstFailureAt ?? now,
      lastFailureAt: context.lastFailureAt ?? now,
      modelRevision: ports.modelRevision,
    },
    now,
    { dropValue: context.dropValue },
  );
}
