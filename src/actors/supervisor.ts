import { type AnyActorRef, assign, enqueueActions, setup } from 'xstate';
import { type ErrorInfo, toErrorInfo } from '../errors.ts';
import { type PartitionInput, partitionMachine } from './partition.ts';
import { RecordActors } from './record-actors.ts';

export interface TopicPartition {
  topic: string;
  partition: number;
}

/** Restart budget of partition actors; defaults live in the configuration (`supervisor.*`). */
export interface RestartBudget {
  /** Restarts allowed per partition actor within `windowMs`. */
  restarts: number;
  windowMs: number;
}

export interface SupervisorInput {
  /** Builds the input of a partition actor for a newly assigned partition. */
  partitionInput(assigned: TopicPartition): PartitionInput;
  budget: RestartBudget;
  now(): number;
}

export interface PartitionFailure {
  error: ErrorInfo;
  at: number;
}

export interface SupervisorContext extends SupervisorInput {
  /** Partitions this member owns, by actor id. */
  owned: Record<string, TopicPartition>;
  /** Revoked partitions whose actors are still draining, by actor id. */
  draining: Record<string, TopicPartition>;
  /** Restart times per actor id, within the budget's window. */
  restarts: Record<string, number[]>;
  lastFailures: Record<string, PartitionFailure>;
  /** Set when a partition actor failed more often than its budget allows. */
  failure: ErrorInfo | null;
}

export type SupervisorEvent =
  | { type: 'assignment.changed'; partitions: TopicPartition[] }
  | { type: 'service.shutdown' }
  | { type: `xstate.done.actor.${string}`; output: unknown }
  | { type: `xstate.error.actor.${string}`; error: unknown };

/**
 * The root actor. It follows the consumer group's assignment: a partition actor is spawned
 * for each assigned partition and drained when the partition is revoked. A partition actor
 * that fails is restarted from the committed offset (nothing past it was committed, so
 * nothing is lost) as long as its restart budget lasts; past the budget the supervisor fails,
 * and the service stops rather than run without that partition.
 */
export const supervisorMachine = setup({
  types: {
    input: {} as SupervisorInput,
    context: {} as SupervisorContext,
    events: {} as SupervisorEvent,
  },
  actors: { partition: partitionMachine },
  guards: {
    allPartitionsStopped: ({ context }) =>
      Object.keys(context.owned).length === 0 && Object.keys(context.draining).length === 0,
    withinRestartBudget: ({ context, event }) => {
      const id = actorIdOf(event.type);
      return recentRestarts(context, id).length < context.budget.restarts;
    },
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
        // A partition given back while its old actor still drains starts once that one stops.
        if (id in context.owned || id in draining) continue;
        enqueue.spawnChild('partition', { id, systemId: id, input: context.partitionInput(tp) });
      }
      enqueue.assign({ owned: next, draining });
    }),
    drainAll: enqueueActions(({ context, enqueue }) => {
      for (const id of Object.keys(context.owned)) enqueue.sendTo(id, { type: 'partition.drain' });
      enqueue.assign({ owned: {}, draining: { ...context.draining, ...context.owned } });
    }),
    forgetPartition: enqueueActions(({ context, event, enqueue }) => {
      const id = actorIdOf(event.type);
      enqueue.stopChild(id);
      const { [id]: _gone, ...draining } = context.draining;
      enqueue.assign({ draining });
      const reassigned = context.owned[id];
      if (reassigned && id in context.draining) {
        enqueue.spawnChild('partition', {
          id,
          systemId: id,
          input: context.partitionInput(reassigned),
        });
      }
    }),
    restartPartition: enqueueActions(({ context, event, enqueue, self }) => {
      const id = actorIdOf(event.type);
      const tp = context.owned[id] ?? context.draining[id];
      const now = context.now();
      const failure = { error: errorOf(event), at: now };
      // A failed actor's own children and record actors are left running by XState: stop its
      // records, so that nothing more is inferred or emitted for the offsets its successor
      // fetches again from the committed offset.
      const failed = self.getSnapshot().children[id] as AnyActorRef | undefined;
      enqueue(() => recordsOf(failed)?.close());
      enqueue.stopChild(id);
      enqueue.assign({
        restarts: { ...context.restarts, [id]: [...recentRestarts(context, id), now] },
        lastFailures: { ...context.lastFailures, [id]: failure },
      });
      if (tp && id in context.owned) {
        enqueue.spawnChild('partition', { id, systemId: id, input: context.partitionInput(tp) });
      } else {
        const { [id]: _gone, ...draining } = context.draining;
        enqueue.assign({ draining });
      }
    }),
    recordFailure: assign({ failure: ({ event }) => errorOf(event) }),
  },
}).createMachine({
  id: 'supervisor',
  context: ({ input }) => ({
    ...input,
    owned: {},
    draining: {},
    restarts: {},
    lastFailures: {},
    failure: null,
  }),
  initial: 'running',
  on: {
    'xstate.done.actor.*': { actions: 'forgetPartition' },
    'xstate.error.actor.*': [
      { guard: 'withinRestartBudget', actions: 'restartPartition' },
      { target: '.failed', actions: 'recordFailure' },
    ],
  },
  states: {
    running: {
      on: {
        'assignment.changed': { actions: 'followAssignment' },
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

function recordsOf(actor: AnyActorRef | undefined): RecordActors | undefined {
  const context = actor?.getSnapshot().context as { records?: unknown } | undefined;
  return context?.records instanceof RecordActors ? context.records : undefined;
}

export function partitionActorId(tp: TopicPartition): string {
  return `partition-${tp.topic}-${tp.partition}`;
}

function actorIdOf(eventType: string): string {
  return eventType.replace(/^xstate\.(done|error)\.actor\./, '');
}

function errorOf(event: unknown): ErrorInfo {
  return toErrorInfo((event as { error?: unknown }).error);
}

function recentRestarts(context: SupervisorContext, id: string): number[] {
  const since = context.now() - context.budget.windowMs;
  return (context.restarts[id] ?? []).filter((at) => at > since);
}
