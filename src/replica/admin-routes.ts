import { Hono } from 'hono';
import { faultsSchema } from './faults.ts';
import { errorResponse } from './openai-error.ts';
import type { ReplicaState } from './replica-state.ts';
import { readBody } from './request-body.ts';

/**
 * Operator and test controls: read or replace the injected faults, read or clear the request
 * log, read the slot and outcome counters.
 */
export function adminRoutes(state: ReplicaState): Hono {
  const admin = new Hono();

  admin.get('/faults', (c) => c.json(state.faults));
  admin.put('/faults', async (c) => {
    const read = await readBody(c, faultsSchema);
    if (!read.ok) return errorResponse(c, read.reply);

    return c.json(state.setFaults(read.body));
  });

  admin.get('/requests', (c) => {
    const data = state.requests.entries(c.req.query('eventId'));
    return c.json({ object: 'list', data });
  });
  admin.delete('/requests', (c) => c.json({ cleared: state.requests.clear() }));

  admin.get('/stats', (c) => c.json(state.stats()));

  return admin;
}
