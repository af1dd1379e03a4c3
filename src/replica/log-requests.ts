import type { MiddlewareHandler } from 'hono';
import { clientClosedRequest } from './inference-route.ts';
import type { RequestLog } from './request-log.ts';

/** Header carrying the event id of the record an inference request is for. */
export const eventIdHeader = 'x-event-id';

/** Records each request passing through in the request log once it is answered. */
export function logRequests(log: RequestLog): MiddlewareHandler {
  return async (c, next) => {
    const startedAt = Date.now();
    const started = performance.now();
    await next();
    log.record({
      eventId: c.req.header(eventIdHeader) ?? null,
      method: c.req.method,
      path: c.req.path,
      startedAt,
      status: c.req.raw.signal.aborted ? clientClosedRequest : c.res.status,
      durationMs: Math.round((performance.now() - started) * 100) / 100,
    });
  };
}
