import { assign, enqueueActions, sendTo, setup } from 'xstate';
import type { SourceRecord } from '../contracts/source-record.ts';
import { type ErrorInfo, toErrorInfo } from '../errors.ts';
import { type PartitionInput, partitionMachine } from './partition.ts';

export interface TopicPartition {
  topic: string;
  partition: number;
}

export interface SupervisorInput {
  /** Builds the input of a partition actor for a newly assigned partition. */
  partitionInput(assigned: TopicPartition): PartitionInput;
}

export interface SupervisorContext extends SupervisorInput {
  /** Partitions this member owns, by actor id. */
  owned: Record<string, TopicPartition>;
  /** Partitions revoked whose actors are still draining, by actor id. */
  draining: Record<string, TopicPartition>;
  failure: ErrorInfo | null;
}

export type SupervisorEvent =
  | { type: 'assignment.changed'; partitions: TopicPartition[] }
  | { type: 'records.fetched'; topic: string; partition: number; records: SourceRecord[] }
  | { type: 'service.shutdown' }
  | { type: `xstate.done.actor.${string}`; output: unknown }
  | { type: `xstate.error.actor.${string}`; error: unknown };

/**
 * The root actor. It follows the consumer group's assignment: a partition actor is spawned
 * for each assigned partition and drained when the partition is revoked. Fetched records are
 * routed to their partition's actor; records of partitions this member no longer owns are
 * dropped, since the new owner fetches them from the committed offset.
 */
export const supervisorMachine = setup({
  types: {
    input: {} as SupervisorInput,
    context: {} as SupervisorContext,
    events: {} as SupervisorEvent,
  },
  actors: { partition: partitionMachine },
  guards: {
    ownsPartition: ({ context, event }) =>
      event.type === 'records.fetched' && partitionActorId(event) in context.owned,
    allPartitionsStopped: ({ context }) =>
      Object.keys(context.owned).length === 0 && Object.keys(context.draining).length === 0,
  },
  actions: {
    followAssignment: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'assignment.changed') return;
      const next: Record<string, TopicPartition> = {};
      for (const tp of event.partitions) next[partitionActorId(tp)] = tp;
      const draining = { ...context.draining };
      for (const [id, tp] of Object.entries(context.owned)) {
        if (id in next) continue;
        draining[id] = tp;
        enqueue.sendTo(id, { type: 'partition.drain' });
      }
      for (const [id, tp] of Object.entries(next)) {
        if (id in context.owned || id in draining) continue;
        enqueue.spawnChild('partition', { id, systemId: id, input: context.partitionInput(tp) });
      }
      enqueue.assign({ owned: next, draining });
    }),
    routeRecords: sendTo(
      ({ event }) => (event.type === 'records.fetched' ? partitionActorId(event) : ''),
      ({ event }) => ({
        type: 'records.fetched' as const,
        records: event.type === 'records.fetched' ? event.records : [],
      }),
    ),
    drainAll: enqueueActions(({ context, enqueue }) => {
      for (const id of Object.keys(context.owned)) enqueue.sendTo(id, { type: 'partition.drain' });
      enqueue.assign({ owned: {}, draining: { ...context.draining, ...context.owned } });
    }),
    forgetPartition: enqueueActions(({ context, event, enqueue }) => {
      const id = event.type.slice('xstate.done.actor.'.length);
      enqueue.stopChild(id);
      const { [id]: _owned, ...owned } = context.owned;
      const { [id]: _draining, ...draining } = context.draining;
      enqueue.assign({ owned, draining });
    }),
    recordFailure: assign({
      failure: ({ event }) => toErrorInfo('error' in event ? event.error : undefined),
    }),
  },
}).createMachine({
  id: 'supervisor',
  context: ({ input }) => ({ ...input, owned: {}, draining: {}, failure: null }),
  initial: 'running',
  on: {
    'xstate.done.actor.*': { actions: 'forgetPartition' },
    // TODO(#3): restart a failed partition actor within a budget once partitions are fetched
    // per actor (a restarted actor must refetch from its committed offset). Until then a
    // failure stops the service, which restarts from the committed offsets: nothing is lost.
    'xstate.error.actor.*': { target: '.failed', actions: 'recordFailure' },
  },
  states: {
    running: {
      on: {
        'assignment.changed': { actions: 'followAssignment' },
        'records.fetched': { guard: 'ownsPartition', actions: 'routeRecords' },
        'service.shutdown': { target: 'draining', actions: 'drainAll' },
      },
    },
    draining: {
      always: { guard: 'allPartitionsStopped', target: 'stopped' },
    },
    stopped: { type: 'final' },
    failed: { type: 'final' },
  },
});

export function partitionActorId(tp: TopicPartition): string {
  return `partition-${tp.topic}-${tp.partition}`;
}
