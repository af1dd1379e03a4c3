import { createActor } from 'xstate';
import type { PartitionOptions } from '../../src/actors/partition.ts';
import { supervisorMachine } from '../../src/actors/supervisor.ts';
import { parseConfig } from '../../src/config.ts';
import { type AppSource, createApp } from '../../src/http/app.ts';
import type { HttpAccess } from '../../src/http/auth.ts';
import type { SupervisorActor } from '../../src/service.ts';
import { type FakePorts, fakePorts } from '../support/machine-ports.ts';

/** The bearer token of the in-process apps. */
export const testToken = 'operator-token-0123456789';
export const withToken = { authorization: `Bearer ${testToken}` };

export interface TestService {
  supervisor: SupervisorActor;
  /** Each partition's ports, by partition number: feed records, answer inferences. */
  ports: Map<number, FakePorts>;
}

/** A running supervisor that owns the given partitions of topic `emails`, on fake ports. */
export function runningSupervisor(
  partitions: number[],
  partitionOptions: Partial<PartitionOptions> = {},
): TestService {
  const config = parseConfig({ partition: partitionOptions });
  const ports = new Map<number, FakePorts>();
  const supervisor = createActor(supervisorMachine, {
    input: {
      partitionInput: (tp) => {
        const own = ports.get(tp.partition) ?? fakePorts(Date.now);
        ports.set(tp.partition, own);
        return { ...tp, options: config.partition, task: config.task, ports: own };
      },
      budget: { restarts: 3, windowMs: 60_000 },
      now: Date.now,
    },
  });
  supervisor.start();
  supervisor.send({
    type: 'assignment.changed',
    partitions: partitions.map((partition) => ({ topic: 'emails', partition })),
  });
  return { supervisor, ports };
}

/** The app over a running supervisor; controls enabled with `testToken` unless told otherwise. */
export function testApp(
  partitions: number[],
  options: {
    http?: HttpAccess;
    source?: Partial<AppSource>;
    partition?: Partial<PartitionOptions>;
  } = {},
) {
  const service = runningSupervisor(partitions, options.partition);
  return { app: appFor(service.supervisor, options), ...service };
}

export function appFor(
  supervisor: SupervisorActor,
  options: { http?: HttpAccess; source?: Partial<AppSource> } = {},
) {
  return createApp({
    supervisor,
    config: {
      http: options.http ?? { token: testToken },
      topics: { input: 'emails', deadLetter: 'emails.dlq' },
    },
    ...options.source,
  });
}

export async function jsonOf<T = Record<string, unknown>>(response: Response): Promise<T> {
  return (await response.json()) as T;
}
