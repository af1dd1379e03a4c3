import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { supervisorMachine } from '../../src/actors/supervisor.ts';
import { parseConfig } from '../../src/config.ts';
import { createApp } from '../../src/http/app.ts';
import { fakePorts } from '../support/machine-ports.ts';

function appWithPartitions(partitions: number[]) {
  const config = parseConfig({});
  const ports = fakePorts(Date.now);
  const supervisor = createActor(supervisorMachine, {
    input: {
      partitionInput: (tp) => ({ ...tp, options: config.partition, task: config.task, ports }),
      budget: { restarts: 3, windowMs: 60_000 },
      now: Date.now,
    },
  });
  supervisor.start();
  supervisor.send({
    type: 'assignment.changed',
    partitions: partitions.map((partition) => ({ topic: 'emails', partition })),
  });
  return createApp({ supervisor });
}

describe('HTTP API', () => {
  it('lists the supervisor and one actor per assigned partition', async () => {
    const response = await appWithPartitions([0, 1]).request('/actors');
    expect(response.status).toBe(200);
    const body = (await response.json()) as { actors: Array<{ id: string; status: string }> };
    expect(body.actors.map((a) => a.id)).toEqual([
      'supervisor',
      'partition-emails-0',
      'partition-emails-1',
    ]);
    expect(body.actors.every((a) => a.status === 'active')).toBe(true);
  });

  it('shows one partition actor with its state and window', async () => {
    const response = await appWithPartitions([3]).request('/actors/partition-emails-3');
    const body = (await response.json()) as { state: unknown; context: { inFlight: number } };
    expect(body.state).toEqual({ running: { intake: 'locating', commit: 'idle' } });
    expect(body.context.inFlight).toBe(0);
  });

  it('answers 404 with a JSON error for an unknown actor or route', async () => {
    const app = appWithPartitions([]);
    const unknown = await app.request('/actors/partition-nope-9');
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: { code: 'not_found' } });
    const route = await app.request('/nowhere');
    expect(route.status).toBe(404);
  });

  it('serves each machine definition with its states', async () => {
    const response = await appWithPartitions([]).request('/machines/partition');
    const body = (await response.json()) as { id: string; states: Record<string, unknown> };
    expect(body.id).toBe('partition');
    expect(Object.keys(body.states)).toEqual(['running', 'draining', 'finalCommit', 'stopped']);
  });
});
