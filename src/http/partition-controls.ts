import type { AnyActorRef } from 'xstate';
import type { PartitionContext } from '../actors/partition.ts';
import { keyGroup } from '../actors/partition-window.ts';
import { partitionActorId } from '../actors/supervisor.ts';
import { events } from '../events.ts';
import type { SupervisorActor } from '../service.ts';
import { ApiError, apiErrorCodes } from './errors.ts';
import { machineIdOf } from './summaries.ts';

/**
 * The operator's controls of partition actors, as events to the running actors: pause and
 * resume intake, resize the in-flight window, restart. Each checks first that the actor is
 * a partition actor in a state that takes the event, and says why not otherwise (409).
 */
export class PartitionControls {
  readonly #supervisor: SupervisorActor;

  constructor(supervisor: SupervisorActor) {
    this.#supervisor = supervisor;
  }

  /** Stops fetching; records in flight still finish and commit. */
  pause(id: string): void {
    this.#running(id).send({ type: events.partitionPause });
  }

  /** Fetches again after an operator's pause. */
  resume(id: string): void {
    const actor = this.#running(id);
    const pausedBy = (actor.getSnapshot().context as PartitionContext).pausedBy;
    if (pausedBy !== 'operator') {
      const why =
        pausedBy === null ? 'is not paused' : `is paused by its ${pausedBy}, not by an operator`;
      throw new ApiError(409, apiErrorCodes.conflict, `${id} ${why}`);
    }
    actor.send({ type: events.partitionResume });
  }

  /** Changes how many records the partition holds at once; takes effect at the next fetch. */
  setWindow(id: string, window: number): void {
    this.#running(id).send({ type: 'partition.set-window', window });
  }

  /**
   * Lets a key parked after a dead letter go on (`partition.onDeadLetter: park`): its next
   * record is inferred, and the commit can pass the dead-lettered one. `key` is the record
   * key's bytes, as the dead-letter record carries them.
   */
  unpark(id: string, key: Buffer): void {
    const actor = this.#running(id);
    const group = keyGroup(key);
    const context = actor.getSnapshot().context as PartitionContext;
    if (!context.window.parkedGroups().includes(group)) {
      throw new ApiError(409, apiErrorCodes.conflict, `${id} has no parked key like that`);
    }
    actor.send({ type: 'partition.unpark', key: group });
  }

  /**
   * Restarts a partition actor the graceful way: it drains (in-flight records finish within
   * the drain timeout, the completed prefix is committed) and a fresh actor starts from the
   * committed offset. It tells the supervisor the partition was revoked and at once assigned
   * again; the supervisor starts the new actor once the old one has stopped, as it does when
   * a rebalance hands a draining partition back. It does not count against the restart budget,
   * which is for failures.
   */
  restart(id: string): void {
    this.#running(id);
    const snapshot = this.#supervisor.getSnapshot();
    if (snapshot.value !== 'running') {
      throw new ApiError(409, apiErrorCodes.conflict, `the supervisor is ${snapshot.value}`);
    }
    const owned = Object.values(snapshot.context.owned);
    if (!owned.some((tp) => partitionActorId(tp) === id) || id in snapshot.context.draining) {
      throw new ApiError(409, apiErrorCodes.conflict, `${id} is being revoked or restarted`);
    }
    const others = owned.filter((tp) => partitionActorId(tp) !== id);
    this.#supervisor.send({ type: events.assignmentChanged, partitions: others });
    this.#supervisor.send({ type: events.assignmentChanged, partitions: owned });
  }

  /** The partition actor with this id, when it is running (not draining or stopped). */
  #running(id: string): AnyActorRef {
    const actor = this.#supervisor.getSnapshot().children[id] as AnyActorRef | undefined;
    if (!actor) throw new ApiError(404, apiErrorCodes.notFound, `no actor ${id}`);
    if (machineIdOf(actor) !== 'partition') {
      throw new ApiError(400, apiErrorCodes.unsupported, `${id} is not a partition actor`);
    }
    const snapshot = actor.getSnapshot();
    const value = snapshot.value as unknown;
    if (
      snapshot.status !== 'active' ||
      typeof value !== 'object' ||
      !value ||
      !('running' in value)
    ) {
      throw new ApiError(
        409,
        apiErrorCodes.conflict,
        `${id} is ${JSON.stringify(value)}, not running`,
      );
    }
    return actor;
  }
}
