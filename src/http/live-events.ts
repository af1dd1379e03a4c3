import type { ActorRefLike, AnyActorRef, InspectionEvent, Subscription } from 'xstate';
import { redact } from './redact.ts';
import {
  type ActorSnapshot,
  type ActorSummary,
  machineIdOf,
  type SupervisorView,
  summarizeActor,
} from './summaries.ts';

/** A state change of one actor: its summary after the change, and the event that caused it. */
export interface SnapshotMessage extends ActorSummary {
  type: 'snapshot';
  seq: number;
  at: number;
  cause: string | null;
}

/** An event delivered to an actor, payload redacted. */
export interface EventMessage {
  type: 'event';
  seq: number;
  at: number;
  /** The actor that received it. */
  id: string;
  /** The actor that sent it, null when it came from outside the actor system. */
  source: string | null;
  event: Record<string, unknown>;
}

export type LiveMessage = SnapshotMessage | EventMessage;
export type LiveMessageType = LiveMessage['type'];

export interface LiveFilter {
  /** Actor ids to follow; an id ending in `*` follows every actor whose id starts so. */
  actors: string[];
  types: ReadonlySet<LiveMessageType>;
}

type Deliver = (message: LiveMessage) => void;

interface Subscriber {
  matches(id: string): boolean;
  types: ReadonlySet<LiveMessageType>;
  deliver: Deliver;
}

/** A state change that only moved context numbers is sent at most this often per actor. */
const coalesceMs = 250;

/**
 * Fans out XState's inspection events (`system.inspect`, next to whatever inspector the
 * actors were created with) to live subscribers: the SSE stream of GET /events.
 *
 * Only actors whose logic is a state machine are reported (not the promise actors they
 * invoke). A snapshot whose state value and status are unchanged is coalesced per actor, so a
 * partition settling thousands of records a second sends a few summaries, not thousands.
 * Nothing is computed for actors no subscriber follows.
 */
export class LiveEvents {
  readonly #root: AnyActorRef;
  readonly #supervisorView: () => SupervisorView | undefined;
  readonly #subscribers = new Set<Subscriber>();
  readonly #systems = new Map<unknown, Subscription>();
  readonly #lastState = new WeakMap<ActorRefLike, string>();
  readonly #pending = new Map<ActorRefLike, SnapshotMessage>();
  #flushTimer: ReturnType<typeof setInterval> | null = null;
  #seq = 0;
  readonly #deadLetters: Record<string, number> = {};

  constructor(root: AnyActorRef, supervisorView: () => SupervisorView | undefined) {
    this.#root = root;
    this.#supervisorView = supervisorView;
    this.watch(root);
  }

  /** Follows the actor system of `actor` too (breakers may run in one of their own). */
  watch(actor: AnyActorRef): void {
    const system = actor.system;
    if (this.#systems.has(system)) return;
    this.#systems.set(
      system,
      system.inspect((event) => this.#inspect(event)),
    );
  }

  /** Starts delivering messages that pass the filter; returns the unsubscribe function. */
  subscribe(filter: LiveFilter, deliver: Deliver): () => void {
    const subscriber: Subscriber = {
      matches: actorMatcher(filter.actors),
      types: filter.types,
      deliver,
    };
    this.#subscribers.add(subscriber);
    this.#flushTimer ??= setInterval(() => this.#flush(), coalesceMs);
    return () => {
      this.#subscribers.delete(subscriber);
      if (this.#subscribers.size > 0 || this.#flushTimer === null) return;
      clearInterval(this.#flushTimer);
      this.#flushTimer = null;
      this.#pending.clear();
    };
  }

  /** Current summaries of the given actors, as snapshot messages (a stream's first lines). */
  snapshotsOf(actors: Array<{ id: string; actor: AnyActorRef }>): SnapshotMessage[] {
    const supervisor = this.#supervisorView();
    return actors.map(({ id, actor }) => ({
      type: 'snapshot',
      seq: ++this.#seq,
      at: Date.now(),
      cause: null,
      ...summarizeActor(id, actor, supervisor),
    }));
  }

  /** Stops inspecting; subscribers get nothing more. */
  close(): void {
    for (const subscription of this.#systems.values()) subscription.unsubscribe();
    this.#systems.clear();
    this.#subscribers.clear();
    if (this.#flushTimer) clearInterval(this.#flushTimer);
    this.#flushTimer = null;
  }

  /** Dead letters by reason, counted from `record.settled` events since this began. */
  deadLetterCounts(): Record<string, number> {
    return { ...this.#deadLetters };
  }

  #inspect(event: InspectionEvent): void {
    if (event.type === '@xstate.event' && event.event.type === 'record.settled') {
      this.#countSettled(event.event as { outcome?: string; reason?: string | null });
    }
    if (this.#subscribers.size === 0) return;
    if (event.type === '@xstate.snapshot') this.#snapshot(event.actorRef, event);
    else if (event.type === '@xstate.event') this.#event(event.actorRef, event);
  }

  #countSettled(settled: { outcome?: string; reason?: string | null }): void {
    if (settled.outcome !== 'dead-lettered') return;
    const reason = settled.reason ?? 'unknown';
    this.#deadLetters[reason] = (this.#deadLetters[reason] ?? 0) + 1;
  }

  #snapshot(ref: ActorRefLike, event: { event: { type: string }; snapshot: unknown }): void {
    const actor = ref as AnyActorRef;
    if (machineIdOf(actor) === null) return;
    const id = this.#pathOf(actor);
    if (!this.#wanted(id, 'snapshot')) return;

    const snapshot = event.snapshot as ActorSnapshot;
    const message: SnapshotMessage = {
      type: 'snapshot',
      seq: 0,
      at: Date.now(),
      cause: event.event.type,
      ...summarizeActor(id, actor, this.#supervisorView(), snapshot),
    };
    const state = JSON.stringify([snapshot.status, snapshot.value]);
    if (this.#lastState.get(ref) === state) {
      this.#pending.set(ref, message);
      return;
    }
    this.#lastState.set(ref, state);
    this.#pending.delete(ref);
    this.#publish(message);
  }

  #event(ref: ActorRefLike, event: { sourceRef: ActorRefLike | undefined; event: object }): void {
    const actor = ref as AnyActorRef;
    if (machineIdOf(actor) === null) return;
    const id = this.#pathOf(actor);
    if (!this.#wanted(id, 'event')) return;

    const source = event.sourceRef ? this.#pathOf(event.sourceRef as AnyActorRef) : null;
    const payload = redact(event.event) as Record<string, unknown>;
    this.#publish({ type: 'event', seq: 0, at: Date.now(), id, source, event: payload });
  }

  #flush(): void {
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const message of pending) this.#publish({ ...message, at: Date.now() });
  }

  #publish(message: LiveMessage): void {
    message.seq = ++this.#seq;
    for (const subscriber of this.#subscribers) {
      if (subscriber.types.has(message.type) && subscriber.matches(message.id)) {
        subscriber.deliver(message);
      }
    }
  }

  #wanted(id: string, type: LiveMessageType): boolean {
    for (const subscriber of this.#subscribers) {
      if (subscriber.types.has(type) && subscriber.matches(id)) return true;
    }
    return false;
  }

  /** 'supervisor' for the root, the child's id below it, '<parent>/<id>' further down. */
  #pathOf(actor: AnyActorRef): string {
    if (actor === this.#root) return 'supervisor';
    const parent = actor._parent;
    if (!parent || parent === this.#root) return actor.id;
    return `${this.#pathOf(parent)}/${actor.id}`;
  }
}

/**
 * Matches actor ids against the filter's patterns. No pattern: every actor down to the
 * partitions (a record actor lives below a partition and is only followed when asked for).
 */
export function actorMatcher(patterns: string[]): (id: string) => boolean {
  if (patterns.length === 0) return (id) => !id.includes('/');
  const exact = new Set(patterns.filter((p) => !p.endsWith('*')));
  const prefixes = patterns.filter((p) => p.endsWith('*')).map((p) => p.slice(0, -1));
  return (id) => exact.has(id) || prefixes.some((prefix) => id.startsWith(prefix));
}
