import type { AnyActorRef } from 'xstate';
import type { PartitionContext } from '../actors/partition.ts';
import type { RecordContext } from '../actors/record.ts';
import type { SupervisorContext } from '../actors/supervisor.ts';
import { redact } from './redact.ts';

/** What an actor is, read from its machine's id; breakers and others keep their machine id. */
export type ActorKind = 'supervisor' | 'partition' | 'record' | (string & {});

export interface ActorSummary {
  /** 'supervisor', 'partition-<topic>-<n>', or '<parent id>/<child id>' below a partition. */
  id: string;
  kind: ActorKind;
  /** Id of the actor's machine (a key of GET /machines), null for an actor without one. */
  machine: string | null;
  status: string;
  /** The snapshot's state value. */
  state: unknown;
  /** Every active state node as a dotted path from the machine's root, parents first. */
  activeStates: string[];
  context: Record<string, unknown>;
}

/** The parts of a snapshot a summary reads; inspection hands over a snapshot of its own. */
export interface ActorSnapshot {
  status: string;
  value?: unknown;
  context?: unknown;
}

/** The supervisor's bookkeeping a partition's summary quotes (restarts, last failure). */
export type SupervisorView = Pick<
  SupervisorContext,
  'restarts' | 'lastFailures' | 'budget' | 'now'
>;

/**
 * A JSON view of an actor: its state and the context fields an operator reads. Record
 * payloads, ports and functions never leave the process.
 */
export function summarizeActor(
  id: string,
  actor: AnyActorRef,
  supervisor?: SupervisorView,
  snapshot: ActorSnapshot = actor.getSnapshot(),
): ActorSummary {
  const machine = machineIdOf(actor);
  const context = (snapshot.context ?? {}) as Record<string, unknown>;
  return {
    id,
    kind: machine ?? 'actor',
    machine,
    status: snapshot.status,
    state: snapshot.value ?? null,
    activeStates: activeStatePaths(snapshot.value),
    context: summarizeContext(machine, id, context, supervisor),
  };
}

/** Dotted paths of the active state nodes: `{ a: { b: 'c' } }` gives a, a.b, a.b.c. */
export function activeStatePaths(value: unknown, prefix = ''): string[] {
  if (typeof value === 'string') return [prefix + value];
  if (!value || typeof value !== 'object') return [];
  const paths: string[] = [];
  for (const [key, child] of Object.entries(value)) {
    paths.push(prefix + key);
    paths.push(...activeStatePaths(child, `${prefix}${key}.`));
  }
  return paths;
}

export function machineIdOf(actor: AnyActorRef): string | null {
  const logic = (actor as { logic?: { id?: unknown; root?: unknown } }).logic;
  return logic?.root && typeof logic.id === 'string' ? logic.id : null;
}

function summarizeContext(
  machine: string | null,
  id: string,
  context: Record<string, unknown>,
  supervisor: SupervisorView | undefined,
): Record<string, unknown> {
  if (machine === 'partition') {
    return partitionSummary(context as unknown as PartitionContext, id, supervisor);
  }
  if (machine === 'supervisor') return supervisorSummary(context as unknown as SupervisorContext);
  if (machine === 'record') return recordSummary(context as unknown as RecordContext);
  return redact(context) as Record<string, unknown>;
}

function partitionSummary(
  context: PartitionContext,
  id: string,
  supervisor: SupervisorView | undefined,
): Record<string, unknown> {
  return {
    topic: context.topic,
    partition: context.partition,
    // Records waiting only for an operator (behind a parked key) are counted apart.
    inFlight: context.window.inFlight,
    waitingForOperator: context.window.waitingForOperator,
    window: context.options.window,
    fetchOffset: offsetText(context.fetchOffset),
    completedOffset: offsetText(context.completedOffset),
    committedOffset: offsetText(context.committedOffset),
    highWatermark: offsetText(context.highWatermark),
    lag: lagOf(context),
    paused: context.pausedBy !== null,
    pausedBy: context.pausedBy,
    // How many keys wait for an operator after a dead letter; the keys themselves are payload.
    parkedKeys: context.window.parkedGroups().length,
    lastError: context.lastError,
    restarts: supervisor ? recentRestarts(supervisor, id) : 0,
    lastFailure: supervisor?.lastFailures[id] ?? null,
    stats: { ...context.stats },
  };
}

/**
 * End offset minus committed offset. Before this actor's first commit the committed offset is
 * where it started.
 */
export function lagOf(context: PartitionContext): number | null {
  const base = context.committedOffset ?? context.startOffset ?? context.fetchOffset;
  if (context.highWatermark === null || base === null) return null;
  const lag = context.highWatermark - base;
  return Number(lag > 0n ? lag : 0n);
}

function supervisorSummary(context: SupervisorContext): Record<string, unknown> {
  const restarts: Record<string, number> = {};
  for (const id of Object.keys(context.restarts)) restarts[id] = recentRestarts(context, id);
  return {
    owned: Object.keys(context.owned),
    draining: Object.keys(context.draining),
    restarts,
    restartBudget: { ...context.budget },
    lastFailures: context.lastFailures,
    failure: context.failure,
  };
}

// A record's error message can quote its undecodable value, so only the code is shown.
function recordSummary(context: RecordContext): Record<string, unknown> {
  return {
    topic: context.source.topic,
    partition: context.source.partition,
    offset: context.source.offset.toString(),
    attempts: context.attempts,
    errorCode: context.lastError?.code ?? null,
    retryDelayMs: context.retryDelayMs,
    deadLetterReason: context.deadLetterReason,
    outcome: context.outcome,
  };
}

function recentRestarts(supervisor: SupervisorView, id: string): number {
  const since = supervisor.now() - supervisor.budget.windowMs;
  return (supervisor.restarts[id] ?? []).filter((at) => at > since).length;
}

function offsetText(offset: bigint | null): string | null {
  return offset === null ? null : offset.toString();
}
