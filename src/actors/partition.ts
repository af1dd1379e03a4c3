import { assign, enqueueActions, fromPromise, setup } from 'xstate';
import type { Config } from '../config.ts';
import type { SourceRecord } from '../contracts/source-record.ts';
import { type ErrorInfo, toErrorInfo } from '../errors.ts';
import { events } from '../events.ts';
import { type Ordering, PartitionWindow } from './partition-window.ts';
import type { CommitRequest, PartitionPorts } from './ports.ts';
import { type RecordOutcome, recordMachine } from './record.ts';

/** Partition actor options; defaults live in the configuration schema (`partition.*`). */
export interface PartitionOptions {
  ordering: Ordering;
  /** Records held at once before the partition asks to stop fetching. */
  window: number;
  commitIntervalMs: number;
  commitBatch: number;
  drainTimeoutMs: number;
}

export interface PartitionInput {
  topic: string;
  partition: number;
  options: PartitionOptions;
  task: Config['task'];
  ports: PartitionPorts;
}

export interface PartitionStats {
  admitted: number;
  duplicates: number;
  emitted: number;
  deadLettered: number;
  commits: number;
}

export interface PartitionContext extends PartitionInput {
  window: PartitionWindow;
  leaderEpoch: number;
  /** Offset the settled prefix reached; committed when the commit region next runs. */
  completedOffset: bigint | null;
  committedOffset: bigint | null;
  settledSinceCommit: number;
  lastError: ErrorInfo | null;
  stats: PartitionStats;
}

export type PartitionEvent =
  | { type: 'records.fetched'; records: SourceRecord[] }
  | { type: 'record.settled'; offset: bigint; outcome: RecordOutcome; reason: string | null }
  | { type: 'partition.drain' };

/**
 * One assigned partition: admits fetched records into a bounded window, runs each through a
 * record actor (infer, retry, dead-letter, emit), and commits the contiguous settled prefix.
 * On revocation or shutdown it drains: no new records, in-flight ones finish or are abandoned
 * after `drainTimeoutMs`, the completed prefix is committed, then it stops.
 */
export const partitionMachine = setup({
  types: {
    input: {} as PartitionInput,
    context: {} as PartitionContext,
    events: {} as PartitionEvent,
  },
  actors: {
    record: recordMachine,
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
  },
  guards: {
    windowFull: ({ context }) => context.window.unsettled >= context.options.window,
    windowHalfEmpty: ({ context }) => context.window.unsettled * 2 < context.options.window,
    commitPending: ({ context }) => isCommitPending(context),
    commitBatchReady: ({ context }) =>
      isCommitPending(context) && context.settledSinceCommit >= context.options.commitBatch,
    nothingInFlight: ({ context }) => context.window.unsettled === 0,
  },
  actions: {
    admitRecords: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== events.recordsFetched) return;
      for (const record of event.records) {
        const verdict = context.window.admit(record);
        if (verdict === 'duplicate') context.stats.duplicates++;
        if (verdict === 'duplicate') continue;
        context.stats.admitted++;
        context.leaderEpoch = record.leaderEpoch;
        if (verdict === 'start') enqueue.spawnChild('record', recordSpawn(context, record));
      }
    }),
    settleRecord: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== events.recordSettled) return;
      enqueue.stopChild(recordId(event.offset));
      if (event.outcome === 'emitted') context.stats.emitted++;
      else context.stats.deadLettered++;
      const next = context.window.settle(event.offset);
      if (next) enqueue.spawnChild('record', recordSpawn(context, next));
      const completed = context.window.releaseSettledPrefix();
      if (completed !== null) context.completedOffset = completed;
      context.settledSinceCommit++;
    }),
    markCommitted: assign(({ context, event }) => {
      const offset = (event as unknown as { output: bigint }).output;
      context.stats.commits++;
      return { committedOffset: offset, settledSinceCommit: 0 };
    }),
    recordCommitError: assign({
      lastError: ({ event }) => toErrorInfo((event as unknown as { error: unknown }).error),
    }),
    abandonInFlight: enqueueActions(({ context, enqueue }) => {
      // Abandoned records are not committed; the next owner of the partition fetches them again.
      for (const record of context.window.heldRecords()) enqueue.stopChild(recordId(record.offset));
    }),
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
    leaderEpoch: -1,
    completedOffset: null,
    committedOffset: null,
    settledSinceCommit: 0,
    lastError: null,
    stats: { admitted: 0, duplicates: 0, emitted: 0, deadLettered: 0, commits: 0 },
  }),
  initial: 'running',
  states: {
    running: {
      type: 'parallel',
      on: {
        'records.fetched': { actions: 'admitRecords' },
        'record.settled': { actions: 'settleRecord' },
        'partition.drain': { target: 'draining' },
      },
      states: {
        intake: {
          initial: 'fetching',
          states: {
            fetching: { always: { guard: 'windowFull', target: 'paused' } },
            paused: { always: { guard: 'windowHalfEmpty', target: 'fetching' } },
          },
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
      always: { guard: ({ context }) => !isCommitPending(context), target: 'stopped' },
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

function recordSpawn(context: PartitionContext, source: SourceRecord) {
  return {
    id: recordId(source.offset),
    input: { source, task: context.task, ports: context.ports },
  };
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
