import type { AnyActorRef } from 'xstate';
import type { SupervisorActor } from '../service.ts';
import {
  type ActorSummary,
  machineIdOf,
  type SupervisorView,
  summarizeActor,
} from './summaries.ts';

export interface ActorEntry {
  id: string;
  actor: AnyActorRef;
}

/** The children of a partition listed in full; a window can hold thousands. */
const maxChildrenShown = 100;

/**
 * Finds the service's actors by the ids the API uses: 'supervisor', the supervisor's children
 * (partition actors, `partition-<topic>-<n>`), and the breakers the source reports.
 */
export class ActorDirectory {
  readonly #supervisor: SupervisorActor;
  readonly #breakers: () => AnyActorRef[];

  constructor(supervisor: SupervisorActor, breakers: () => AnyActorRef[] = () => []) {
    this.#supervisor = supervisor;
    this.#breakers = breakers;
  }

  get supervisor(): SupervisorActor {
    return this.#supervisor;
  }

  /** The supervisor, then its children in id order, then the breakers. */
  list(): ActorEntry[] {
    const children = Object.values(this.#supervisor.getSnapshot().children) as AnyActorRef[];
    return [
      { id: 'supervisor', actor: this.#supervisor as AnyActorRef },
      ...children
        .filter((actor) => actor && machineIdOf(actor) !== null)
        .sort((a, b) => a.id.localeCompare(b.id, 'en', { numeric: true }))
        .map((actor) => ({ id: actor.id, actor })),
      ...this.#breakers().map((actor) => ({ id: actor.id, actor })),
    ];
  }

  find(id: string): AnyActorRef | undefined {
    return this.list().find((entry) => entry.id === id)?.actor;
  }

  supervisorView(): SupervisorView | undefined {
    const snapshot = this.#supervisor.getSnapshot();
    return snapshot.context ?? undefined;
  }

  summaries(): ActorSummary[] {
    const view = this.supervisorView();
    return this.list().map(({ id, actor }) => summarizeActor(id, actor, view));
  }

  /**
   * One actor in full: its summary, its children (a partition's record actors, oldest
   * first, the first hundred), and when it holds them the options it runs with.
   */
  detail(id: string, actor: AnyActorRef): Record<string, unknown> {
    const summary = summarizeActor(id, actor, this.supervisorView());
    const snapshot = actor.getSnapshot();
    const context = (snapshot.context ?? {}) as {
      options?: unknown;
      records?: { values(): Iterable<AnyActorRef> };
    };
    // A partition keeps its record actors in its context, not among its snapshot's children.
    const children = [
      ...(Object.values(snapshot.children ?? {}) as AnyActorRef[]),
      ...(context.records?.values() ?? []),
    ].filter((child) => child && machineIdOf(child) !== null);
    children.sort((a, b) => a.id.localeCompare(b.id, 'en', { numeric: true }));
    return {
      ...summary,
      options: context.options ?? null,
      childCount: children.length,
      children: children
        .slice(0, maxChildrenShown)
        .map((child) => summarizeActor(`${id}/${child.id}`, child)),
    };
  }
}
