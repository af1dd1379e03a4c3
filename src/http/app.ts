import { Hono } from 'hono';
import type { AnyActorRef } from 'xstate';
import { partitionMachine } from '../actors/partition.ts';
import { recordMachine } from '../actors/record.ts';
import { supervisorMachine } from '../actors/supervisor.ts';
import type { Metrics } from '../metrics.ts';
import type { SupervisorActor } from '../service.ts';
import { summarizeActor } from './summaries.ts';

const machines = {
  supervisor: supervisorMachine,
  partition: partitionMachine,
  record: recordMachine,
} as const;

/** What the HTTP API reads; the running Service provides it. */
export interface AppSource {
  readonly supervisor: SupervisorActor;
  readonly metrics?: Metrics | null;
}

/**
 * The operator's HTTP API. TODO(#5): OpenAPI description, live events, controls with a
 * bearer token, Prometheus metrics and the web page.
 */
export function createApp(service: AppSource): Hono {
  const app = new Hono();

  app.get('/health/live', (c) => c.json({ live: true }));
  app.get('/health/ready', (c) => {
    const ready = service.supervisor.getSnapshot().status === 'active';
    return c.json({ ready }, ready ? 200 : 503);
  });

  app.get('/actors', (c) => {
    const root = service.supervisor;
    const children = Object.values(root.getSnapshot().children) as AnyActorRef[];
    return c.json({
      actors: [summarizeActor('supervisor', root), ...children.map((a) => summarizeActor(a.id, a))],
    });
  });

  app.get('/actors/:id', (c) => {
    const id = c.req.param('id');
    const root = service.supervisor;
    const actor = id === 'supervisor' ? root : (root.getSnapshot().children[id] as AnyActorRef);
    if (!actor) return c.json({ error: { code: 'not_found', message: `no actor ${id}` } }, 404);
    return c.json(summarizeActor(id, actor));
  });

  app.get('/metrics', async (c) => {
    const registry = service.metrics?.registry;
    if (!registry)
      return c.json({ error: { code: 'unavailable', message: 'no metrics yet' } }, 503);
    return c.text(await registry.metrics(), 200, { 'content-type': registry.contentType });
  });

  app.get('/machines', (c) => c.json({ machines: Object.keys(machines) }));
  app.get('/machines/:name', (c) => {
    const name = c.req.param('name');
    const machine = machines[name as keyof typeof machines];
    if (!machine)
      return c.json({ error: { code: 'not_found', message: `no machine ${name}` } }, 404);
    return c.json(machine.definition);
  });

  app.notFound((c) => c.json({ error: { code: 'not_found', message: 'no such route' } }, 404));
  app.onError((error, c) => c.json({ error: { code: 'internal', message: error.message } }, 500));

  return app;
}
