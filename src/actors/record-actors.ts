import { type ActorRefFrom, type AnyActorRef, createActor } from 'xstate';
import { type RecordInput, recordMachine } from './record.ts';

export type RecordActor = ActorRefFrom<typeof recordMachine>;

/**
 * A partition actor's record actors in flight, by offset. They run in the partition's actor
 * system with the partition as their parent (so `sendParent`, inspection and live events work
 * as for any child), but outside its snapshot's children: XState copies that object whenever a
 * child is spawned or stopped, which made every record cost time in proportion to the window.
 *
 * Actors are created and started on a microtask, after the partition's transition: XState warns
 * when a machine is created inside a custom action, and a record must not start before the
 * partition's snapshot that admitted it is in place.
 */
export class RecordActors {
  readonly #actors = new Map<bigint, RecordActor>();
  #closed = false;

  values(): IterableIterator<RecordActor> {
    return this.#actors.values();
  }

  start(parent: AnyActorRef, id: string, input: RecordInput): void {
    queueMicrotask(() => {
      if (this.#closed) return;
      const actor = createActor(recordMachine, { id, parent, input });
      this.#actors.set(input.source.offset, actor);
      actor.start();
    });
  }

  /** Forgets the actor of a settled record and returns it, for its parent to stop. */
  settled(offset: bigint): RecordActor | undefined {
    const actor = this.#actors.get(offset);
    this.#actors.delete(offset);
    return actor;
  }

  /**
   * Gives up on every record in flight (after the records already being started): their
   * inference calls are aborted and nothing more is produced for them.
   */
  abandonAll(): void {
    queueMicrotask(() => this.#abandon());
  }

  /** The partition actor stopped: abandon what runs, and start nothing more. */
  close(): void {
    this.#closed = true;
    this.#abandon();
  }

  #abandon(): void {
    const actors = [...this.#actors.values()];
    this.#actors.clear();
    for (const actor of actors) actor.send({ type: 'record.abandon' });
  }
}
