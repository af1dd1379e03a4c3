import { type AnyActorRef, assign, enqueueActions, fromCallback, fromPromise, setup } from 'xstate';
import type { Config } from '../config.ts';
import type { SourceRecord } from '../contracts/source-record.ts';
import { type ErrorInfo, toErrorInfo } from '../errors.ts';
import { type Ordering, PartitionWindow } from './partition-window.ts';
import type { CommitRequest, FetchResult, PartitionPorts } from './ports.ts';
import { type RecordSettledEvent, recordMachine } from './record.ts';
import { RecordActors } from './record-actors.ts';

/** Partition actor options; defaults live in the configuration schema (`partition.*`). */
export interface PartitionOptions {
  ordering: Ordering;
  /** Records held at once before the partition stops fetching. */
  window: number;
  commitIntervalMs: number;
  commitBatch: number;
  drainTimeoutMs: number;
  /**
   * After a dead letter in `key` ordering: 'continue' with the key's next record, or 'park'
   * the key (its later records wait, and the commit with them) until an operator unparks it.
   */
  onDeadLetter: 'continue' | 'park';
}

export interface PartitionInput {
  topic: string;
  partition: number;
  options: PartitionOptions;
  task: Config['task'];
  ports: PartitionPorts;
}

export interface PartitionStats {
  fetched: number;
  emitted: number;
  deadLettered: number;
  commits: number;
}

export interface PartitionContext extends PartitionInput {
  window: PartitionWindow;
  /** The record actors in flight (see RecordActors: they are not snapshot children). */
  records: RecordActors;
  /** Next offset to fetch; null until the start offset is known. */
  fetchOffset: bigint | null;
  /** Where this actor started: the group's committed offset then, or the earliest. */
  startOffset: bigint | null;
  highWatermark: bigint | null;
  leaderEpoch: number;
  /** Offset the settled prefix reached; committed when the commit region next runs. */
  completedOffset: bigint | null;
  committedOffset: bigint | null;
  settledSinceCommit: number;
  /** Why intake is paused, for operators: 'window', 'queue' or 'operator'. */
  pausedBy: string | null;
  lastError: ErrorInfo | null;
  stats: PartitionStats;
}

export type PartitionEvent =
  | RecordSettledEvent
  | { type: 'partition.drain' }
  | { type: 'partition.pause' }
  | { type: 'partition.resume' }
  | { type: 'partition.set-window'; window: number }
  | { type: 'partition.unpark'; key: string };

type FetchDone = { type: 'xstate.done.actor.fetch'; output: FetchResult };

/**
 * Settled records a partition keeps behind one that holds the commit (a parked dead letter,
 * or a record retrying to its deadline), in windows: they are offsets only, their values
 * dropped, but without a bound a parked key would let them grow without end. Past it intake
 * pauses until the commit can move.
 */
const settledBehindPerWindow = 64;

/**
 * One assigned partition. Intake fetches this partition alone, so a partition whose window
 * is full stops fetching without holding back any other. Each admitted record runs in a
 * record actor (infer, retry, dead-letter, emit); the commit region commits the contiguous
 * settled prefix by count or time. On revocation or shutdown the actor drains: no more
 * fetches, in-flight records finish or are abandoned after `drainTimeoutMs`, the completed
 * prefix is committed, and it stops.
 */
export const partitionMachine = setup({
  types: {
    input: {} as PartitionInput,
    context: {} as PartitionContext,
    events: {} as PartitionEvent,
  },
  actors: {
    record: recordMachine,
    /** Stops the record actors still in flight when the partition actor itself stops. */
    recordKeeper: fromCallback<{ type: string }, RecordActors>(
      ({ input }) =>
        () =>
          input.close(),
    ),
    locateStart: fromPromise<bigint, { ports: PartitionPorts; topic: string; partition: number }>(
      ({ input }) => input.ports.startOffset(input.topic, input.partition),
    ),
    fetchRecords: fromPromise<FetchResult, { context: PartitionContext }>(({ input, signal }) => {
      const { ports, topic, partition, fetchOffset } = input.context;
      return ports.fetch(topic, partition, fetchOffset ?? 0n, signal);
    }),
    commitOffsets: fromPromise<bigint, { ports: PartitionPorts; request: CommitRequest }>(
      async ({ input }) => {
        await input.ports.commit(input.request);
        return input.request.offset;
      },
    ),
  },
  delays: {
    commitInterval: ({ context }) => context.options.commitIntervalMs,
    drainTimeout: ({ context }) => context.options.drainTimeoutMs,
    fetchRetry: 500,
    backpressureCheck: 20,
  },
  guards: {
    windowFull: ({ context }) => isWindowFull(context),
    queueDeep: ({ context }) => context.ports.queueAboveHighWater(),
    mayResume: ({ context }) =>
      context.window.unsettled * 2 < context.options.window &&
      // No hysteresis here: held records leave all at once, when the commit moves.
      context.window.held < context.options.window * settledBehindPerWindow &&
      context.ports.queueBelowLowWater(),
    knowsOffset: ({ context }) => context.fetchOffset !== null,
    commitPending: ({ context }) => isCommitPending(context),
    commitBatchReady: ({ context }) =>
      isCommitPending(context) && context.settledSinceCommit >= context.options.commitBatch,
    // Records held back by a parked key would wait for an operator, not for the drain.
    nothingInFlight: ({ context }) => context.window.inFlight === 0,
    nothingToCommit: ({ context }) => !isCommitPending(context),
  },
  actions: {
    setStartOffset: assign(({ event }) => {
      const start = (event as unknown as { output: bigint }).output;
      return { fetchOffset: start, startOffset: start };
    }),
    admitFetched: enqueueActions(({ context, event, enqueue, self }) => {
      const { records, nextOffset, highWatermark } = (event as unknown as FetchDone).output;
      let fetchOffset = nextOffset;
      for (const record of records) {
        // A fetch can return more records than the window has room for; the rest stay in
        // Kafka and are fetched again, so the window is a hard bound on what is held.
        if (isWindowFull(context)) {
          fetchOffset = record.offset;
          break;
        }
        const verdict = context.window.admit(record);
        if (verdict === 'duplicate') continue;
        context.stats.fetched++;
        context.leaderEpoch = record.leaderEpoch;
        if (verdict === 'start') enqueue(startRecord(context, self, record));
      }
      enqueue.assign({ fetchOffset, highWatermark });
    }),
    settleRecord: enqueueActions(({ context, event, enqueue, self }) => {
      if (event.type !== 'record.settled') return;
      const record = context.records.settled(event.offset);
      if (record) enqueue.stopChild(record);
      if (event.outcome === 'emitted') context.stats.emitted++;
      else context.stats.deadLettered++;
      const park = context.options.onDeadLetter === 'park' && event.outcome === 'dead-lettered';
      const next = context.window.settle(event.offset, park);
      if (next) enqueue(startRecord(context, self, next));
      releaseCompleted(context);
      context.settledSinceCommit++;
    }),
    unparkKey: enqueueActions(({ context, event, enqueue, self }) => {
      if (event.type !== 'partition.unpark') return;
      const next = context.window.unpark(event.key);
      if (next) enqueue(startRecord(context, self, next));
      // The dead letter settled: the commit may pass it now, not only when another record settles.
      if (releaseCompleted(context)) context.settledSinceCommit++;
    }),
    markPausedByWindow: assign({ pausedBy: 'window' }),
    markHeldByOperator: assign({ pausedBy: 'operator' }),
    setWindow: assign({
      options: ({ context, event }) =>
        event.type === 'partition.set-window'
          ? { ...context.options, window: event.window }
          : context.options,
    }),
    markPausedByQueue: assign({ pausedBy: 'queue' }),
    clearPaused: assign({ pausedBy: null }),
    recordFetchError: assign({
      lastError: ({ event }) => toErrorInfo((event as unknown as { error: unknown }).error),
    }),
    markCommitted: assign(({ context, event }) => {
      const offset = (event as unknown as { output: bigint }).output;
      context.stats.commits++;
      return { committedOffset: offset, settledSinceCommit: 0 };
    }),
    recordCommitError: assign({
      lastError: ({ event }) => toErrorInfo((event as unknown as { error: unknown }).error),
    }),
    // Abandoned records are not committed; the next owner of the partition fetches them again.
    abandonInFlight: ({ context }) => context.records.abandonAll(),
  },
}).createMachine({
  id: 'partition',
  output: ({ context }) => ({
    topic: context.topic,
    partition: context.partition,
    committedOffset: context.committedOffset,
  }),
  context: ({ input }) => ({
    ...input,
    window: new PartitionWindow(input.options.ordering),
    records: new RecordActors(),
    fetchOffset: null,
    startOffset: null,
    highWatermark: null,
    leaderEpoch: -1,
    completedOffset: null,
    committedOffset: null,
    settledSinceCommit: 0,
    pausedBy: null,
    lastError: null,
    stats: { fetched: 0, emitted: 0, deadLettered: 0, commits: 0 },
  }),
  invoke: { src: 'recordKeeper', input: ({ context }) => context.records },
  initial: 'running',
  states: {
    running: {
      type: 'parallel',
      on: {
        'record.settled': { actions: 'settleRecord' },
        'partition.drain': { target: 'draining' },
        'partition.set-window': { actions: 'setWindow' },
        'partition.unpark': { actions: 'unparkKey' },
      },
      states: {
        intake: {
          initial: 'locating',
          states: {
            locating: {
              invoke: {
                src: 'locateStart',
                input: ({ context }) => ({
                  ports: context.ports,
                  topic: context.topic,
                  partition: context.partition,
                }),
                onDone: { target: 'fetching', actions: 'setStartOffset' },
                onError: { target: 'fetchBackoff', actions: 'recordFetchError' },
              },
            },
            fetching: {
              always: [
                { guard: 'windowFull', target: 'paused', actions: 'markPausedByWindow' },
                { guard: 'queueDeep', target: 'paused', actions: 'markPausedByQueue' },
              ],
              invoke: {
                id: 'fetch',
                src: 'fetchRecords',
                input: ({ context }) => ({ context }),
                onDone: { target: 'fetching', reenter: true, actions: 'admitFetched' },
                onError: { target: 'fetchBackoff', actions: 'recordFetchError' },
              },
            },
            fetchBackoff: {
              after: {
                fetchRetry: [{ guard: 'knowsOffset', target: 'fetching' }, { target: 'locating' }],
              },
            },
            paused: {
              always: { guard: 'mayResume', target: 'fetching', actions: 'clearPaused' },
              // The queue's depth changes without an event reaching this actor: look again.
              after: { backpressureCheck: { target: 'paused', reenter: true } },
            },
            // An operator paused this partition; in-flight records still finish and commit.
            held: {
              entry: 'markHeldByOperator',
              on: { 'partition.resume': { target: 'fetching', actions: 'clearPaused' } },
            },
          },
          on: { 'partition.pause': { target: '.held' } },
        },
        commit: {
          initial: 'idle',
          states: {
            idle: {
              always: { guard: 'commitBatchReady', target: 'committing' },
              after: {
                commitInterval: [
                  { guard: 'commitPending', target: 'committing' },
                  { target: 'idle', reenter: true },
                ],
              },
            },
            committing: {
              invoke: {
                src: 'commitOffsets',
                input: ({ context }) => commitInput(context),
                onDone: { target: 'idle', actions: 'markCommitted' },
                onError: { target: 'idle', actions: 'recordCommitError' },
              },
            },
          },
        },
      },
    },
    draining: {
      on: { 'record.settled': { actions: 'settleRecord' } },
      always: { guard: 'nothingInFlight', target: 'finalCommit' },
      after: { drainTimeout: { target: 'finalCommit', actions: 'abandonInFlight' } },
    },
    finalCommit: {
      always: { guard: 'nothingToCommit', target: 'stopped' },
      invoke: {
        src: 'commitOffsets',
        input: ({ context }) => commitInput(context),
        onDone: { target: 'stopped', actions: 'markCommitted' },
        onError: { target: 'stopped', actions: 'recordCommitError' },
      },
    },
    stopped: { type: 'final' },
  },
});

export function recordId(offset: bigint): string {
  return `record-${offset}`;
}

/** An action that starts a record actor for `source`, with the partition actor as parent. */
function startRecord(context: PartitionContext, self: AnyActorRef, source: SourceRecord) {
  return () =>
    context.records.start(self, recordId(source.offset), {
      source,
      task: context.task,
      ports: context.ports,
    });
}

/** No room for another record: too many unsettled, or too many held behind the commit. */
function isWindowFull(context: PartitionContext): boolean {
  const { window, options } = context;
  return (
    window.unsettled >= options.window || window.held >= options.window * settledBehindPerWindow
  );
}

/** Moves the completed offset past the settled prefix; true when it moved. */
function releaseCompleted(context: PartitionContext): boolean {
  const completed = context.window.releaseSettledPrefix();
  if (completed === null) return false;
  context.completedOffset = completed;
  return true;
}

function isCommitPending(context: PartitionContext): boolean {
  return context.completedOffset !== null && context.completedOffset !== context.committedOffset;
}

function commitInput(context: PartitionContext) {
  const request: CommitRequest = {
    topic: context.topic,
    partition: context.partition,
    offset: context.completedOffset ?? 0n,
    leaderEpoch: context.leaderEpoch,
  };
  return { ports: context.ports, request };
}
