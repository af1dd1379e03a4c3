import type { Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { AnyActorRef } from 'xstate';
import { ApiError, apiErrorCodes } from './errors.ts';
import {
  actorMatcher,
  type LiveEvents,
  type LiveFilter,
  type LiveMessage,
  type LiveMessageType,
} from './live-events.ts';

/** Messages a slow client may fall behind by before the oldest are dropped. */
const maxQueued = 1_000;
/** A comment line this often keeps proxies from closing an idle stream. */
const heartbeatMs = 15_000;

const actorPattern = /^[A-Za-z0-9._/-]{1,300}\*?$/;
const messageTypes: readonly LiveMessageType[] = ['snapshot', 'event'];

/**
 * GET /events: Server-Sent Events of actor state changes (`event: snapshot`) and of events
 * delivered to actors (`event: event`), payloads redacted. It starts with the current snapshot
 * of every followed actor. A client that cannot keep up loses the oldest messages and is told
 * how many (`event: dropped`).
 */
export function eventStream(
  c: Context,
  live: LiveEvents,
  current: () => Array<{ id: string; actor: AnyActorRef }>,
): Response {
  const filter = parseFilter(c.req.queries('actor') ?? [], c.req.query('types'));
  return streamSSE(c, async (stream) => {
    const queue = new MessageQueue(maxQueued);
    const unsubscribe = live.subscribe(filter, (message) => queue.push(message));
    stream.onAbort(() => queue.close());
    try {
      const wanted = new Set(filter.types);
      if (wanted.has('snapshot')) {
        const matches = actorMatcher(filter.actors);
        const followed = current().filter(({ id }) => matches(id));
        for (const message of live.snapshotsOf(followed)) queue.push(message);
      }
      while (!stream.aborted && !stream.closed) {
        const { messages, dropped } = await queue.take(heartbeatMs);
        if (queue.closed) break;
        if (dropped > 0)
          await stream.writeSSE({ event: 'dropped', data: JSON.stringify({ dropped }) });
        for (const message of messages) {
          await stream.writeSSE({
            event: message.type,
            id: String(message.seq),
            data: JSON.stringify(message),
          });
        }
        if (messages.length === 0 && dropped === 0) await stream.write(': heartbeat\n\n');
      }
    } finally {
      unsubscribe();
    }
  });
}

function parseFilter(actors: string[], types: string | undefined): LiveFilter {
  const patterns = actors.flatMap((value) => value.split(',')).filter((p) => p !== '');
  const bad = patterns.find((p) => !actorPattern.test(p));
  if (bad !== undefined) {
    throw new ApiError(
      400,
      apiErrorCodes.badRequest,
      `actor filter "${bad.slice(0, 80)}" is not an actor id or an id prefix ending in *`,
    );
  }
  const wanted = (types ?? messageTypes.join(',')).split(',').filter((t) => t !== '');
  const unknown = wanted.find((t) => !messageTypes.includes(t as LiveMessageType));
  if (unknown !== undefined || wanted.length === 0) {
    throw new ApiError(
      400,
      apiErrorCodes.badRequest,
      `types must list ${messageTypes.join(' and/or ')}, comma-separated`,
    );
  }
  return { actors: patterns, types: new Set(wanted as LiveMessageType[]) };
}

/** A bounded queue with one waiting reader; the oldest messages go when it overflows. */
class MessageQueue {
  readonly #limit: number;
  #messages: LiveMessage[] = [];
  #dropped = 0;
  #wake: (() => void) | null = null;
  closed = false;

  constructor(limit: number) {
    this.#limit = limit;
  }

  push(message: LiveMessage): void {
    if (this.closed) return;
    this.#messages.push(message);
    if (this.#messages.length > this.#limit) {
      this.#messages.shift();
      this.#dropped++;
    }
    this.#wake?.();
  }

  /** Everything queued, waiting up to `timeoutMs` for something to arrive. */
  async take(timeoutMs: number): Promise<{ messages: LiveMessage[]; dropped: number }> {
    if (this.#messages.length === 0 && this.#dropped === 0 && !this.closed) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = null;
    }
    const taken = { messages: this.#messages, dropped: this.#dropped };
    this.#messages = [];
    this.#dropped = 0;
    return taken;
  }

  close(): void {
    this.closed = true;
    this.#wake?.();
  }
}
