import type { AnyActorRef } from 'xstate';

export interface ActorSummary {
  id: string;
  status: string;
  state: unknown;
  context: Record<string, unknown>;
}

/**
 * A JSON view of an actor: state value and the context fields an operator reads. Record
 * payloads and functions never leave the process.
 */
export function summarizeActor(id: string, actor: AnyActorRef): ActorSummary {
  const snapshot = actor.getSnapshot();
  const context = (snapshot.context ?? {}) as Record<string, unknown>;
  return { id, status: snapshot.status, state: snapshot.value, context: pickContext(context) };
}

function pickContext(context: Record<string, unknown>): Record<string, unknown> {
  const window = context.window as { unsettled?: number; nextOffset?: bigint | null } | undefined;
  const picked: Record<string, unknown> = {};
  for (const key of ['topic', 'partition', 'stats', 'lastError', 'failure', 'owned', 'draining']) {
    if (key in context) picked[key] = context[key];
  }
  if (window) {
    picked.inFlight = window.unsettled ?? 0;
    picked.nextOffset = window.nextOffset?.toString() ?? null;
  }
  for (const key of ['committedOffset', 'completedOffset']) {
    const value = context[key];
    if (key in context) picked[key] = typeof value === 'bigint' ? value.toString() : value;
  }
  return picked;
}
