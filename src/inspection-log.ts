import type { AnyActorRef, InspectionEvent } from 'xstate';
import type { PartitionContext } from './actors/partition.ts';
import type { RecordSettledEvent } from './actors/record.ts';
import { logger } from './log.ts';

const log = logger('service');

/**
 * The record outcomes an operator wants to hear about unasked, read from the machines' own
 * inspection events: a dead letter, and a drain that gives up on records in flight. Each line
 * carries the record's or partition's coordinates and no payload.
 */
export function logRecordLosses(event: InspectionEvent): void {
  if (event.type === '@xstate.event') logDeadLetter(event.actorRef as AnyActorRef, event.event);
  else if (event.type === '@xstate.action' && event.action.type === 'abandonInFlight') {
    logAbandoned(event.actorRef as AnyActorRef);
  }
}

function logDeadLetter(actor: AnyActorRef, event: { type: string }): void {
  const settled = event as Partial<RecordSettledEvent>;
  if (settled.type !== 'record.settled' || settled.outcome !== 'dead-lettered') return;
  log.warn(
    {
      actor: actor.id,
      offset: settled.offset?.toString(),
      reason: settled.reason,
      attempts: settled.attempts,
    },
    'record dead-lettered',
  );
}

/**
 * A partition's drain ran out of `partition.drainTimeoutMs` and abandons its records in flight.
 * The commit stays before the first of them, so whoever owns the partition next processes them
 * again, and the records after them that were written already a second time.
 */
function logAbandoned(actor: AnyActorRef): void {
  const context = actor.getSnapshot().context as PartitionContext;
  const { window } = context;
  log.warn(
    {
      actor: actor.id,
      abandoned: window.unsettled,
      writtenAgainNext: window.held - window.unsettled,
      committedUpTo: context.completedOffset?.toString() ?? null,
      drainTimeoutMs: context.options.drainTimeoutMs,
    },
    'drain timed out: records in flight are abandoned; the next owner processes them again, ' +
      'and the settled records after them a second time',
  );
}
