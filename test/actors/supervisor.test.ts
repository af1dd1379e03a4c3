import { describe, expect, it } from 'vitest';
import { type AnyActorRef, createActor, SimulatedClock } from 'xstate';
import { supervisorMachine } from '../../src/actors/supervisor.ts';
import { parseConfig } from '../../src/config.ts';
import {
  type FakePorts,
  fakePorts,
  settle,
  sourceRecord,
  success,
} from '../support/machine-ports.ts';

const config = parseConfig({});

function start(ports: FakePorts, restarts = 2) {
  const clock = new SimulatedClock();
  const supervisor = createActor(supervisorMachine, {
    clock,
    input: {
      partitionInput: (tp) => ({ ...tp, options: config.partition, task: config.task, ports }),
      budget: { restarts, windowMs: 60_000 },
      now: () => clock.now(),
    },
  });
  supervisor.start();
  return { supervisor, clock };
}

const children = (supervisor: ReturnType<typeof start>['supervisor']) =>
  Object.keys(supervisor.getSnapshot().children);

describe('supervisor', () => {
  it('spawns a partition actor per assigned partition and drains revoked ones', async () => {
    const ports = fakePorts(Date.now);
    const { supervisor } = start(ports);
    supervisor.send({
      type: 'assignment.changed',
      partitions: [0, 1, 2].map((partition) => ({ topic: 'in', partition })),
    });
    expect(children(supervisor)).toEqual(['partition-in-0', 'partition-in-1', 'partition-in-2']);

    supervisor.send({ type: 'assignment.changed', partitions: [{ topic: 'in', partition: 0 }] });
    await settle();
    expect(children(supervisor)).toEqual(['partition-in-0']);
    expect(supervisor.getSnapshot().context.draining).toEqual({});
  });

  it('restarts a failed partition actor within its budget and shows the failure', async () => {
    const ports = fakePorts(Date.now);
    let failures = 1;
    ports.queueAboveHighWater = () => {
      if (failures-- > 0) throw new Error('bug in a guard');
      return false;
    };
    const { supervisor } = start(ports);
    supervisor.send({ type: 'assignment.changed', partitions: [{ topic: 'in', partition: 0 }] });
    await settle();
    const snapshot = supervisor.getSnapshot();
    expect(snapshot.value).toBe('running');
    expect(snapshot.context.restarts['partition-in-0']).toHaveLength(1);
    expect(snapshot.context.lastFailures['partition-in-0']?.error.message).toMatch(
      /bug in a guard/,
    );
    const child = snapshot.children['partition-in-0'] as AnyActorRef;
    expect(child.getSnapshot().status).toBe('active');
  });

  it("stops a failed partition actor's records in flight before its successor starts", async () => {
    const ports = fakePorts(Date.now);
    const { supervisor } = start(ports);
    supervisor.send({ type: 'assignment.changed', partitions: [{ topic: 'in', partition: 0 }] });
    ports.feed([sourceRecord(0, 'a', { text: 'x' })]);
    await settle();
    expect(ports.calls).toHaveLength(1);
    let broken = true;
    ports.queueAboveHighWater = () => {
      if (!broken) return false;
      broken = false;
      throw new Error('bug in a guard');
    };
    ports.feed([sourceRecord(1, 'b', { text: 'y' })]);
    await settle();
    expect(supervisor.getSnapshot().context.restarts['partition-in-0']).toHaveLength(1);
    expect(ports.calls[0]?.signal.aborted).toBe(true);
    // Its answer arriving late produces nothing: the successor infers the record again.
    ports.calls[0]?.answer.resolve(success());
    await settle();
    expect(ports.produced).toEqual([]);
  });

  it('fails once a partition actor exhausts its restart budget', async () => {
    const ports = fakePorts(Date.now);
    ports.queueAboveHighWater = () => {
      throw new Error('always broken');
    };
    const { supervisor } = start(ports, 2);
    supervisor.send({ type: 'assignment.changed', partitions: [{ topic: 'in', partition: 0 }] });
    await settle();
    expect(supervisor.getSnapshot().value).toBe('failed');
    expect(supervisor.getSnapshot().context.failure?.message).toMatch(/always broken/);
  });

  it('drains every partition on shutdown and stops once they committed', async () => {
    const ports = fakePorts(Date.now);
    const { supervisor } = start(ports);
    supervisor.send({ type: 'assignment.changed', partitions: [{ topic: 'in', partition: 0 }] });
    ports.feed([sourceRecord(0, 'a', { text: 'x' })]);
    await settle();
    supervisor.send({ type: 'service.shutdown' });
    await settle();
    expect(supervisor.getSnapshot().value).toBe('draining');
    ports.calls[0]?.answer.resolve(success());
    await settle();
    expect(supervisor.getSnapshot().status).toBe('done');
    expect(ports.commits.map((c) => c.offset)).toEqual([1n]);
  });
});
