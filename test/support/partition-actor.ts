import { createActor, SimulatedClock } from 'xstate';
import { type PartitionOptions, partitionMachine } from '../../src/actors/partition.ts';
import { parseConfig } from '../../src/config.ts';
import { fakePorts } from './machine-ports.ts';

const task = parseConfig({}).task;

/** A partition actor of topic `in`, partition 0, on fake ports and a simulated clock. */
export function startPartition(options: Partial<PartitionOptions> = {}) {
  const clock = new SimulatedClock();
  const ports = fakePorts(() => clock.now());
  const actor = createActor(partitionMachine, {
    clock,
    input: {
      topic: 'in',
      partition: 0,
      task,
      ports,
      options: {
        ordering: 'key',
        window: 8,
        commitIntervalMs: 100,
        commitBatch: 1_000,
        drainTimeoutMs: 1_000,
        onDeadLetter: 'continue',
        ...options,
      },
    },
  });
  actor.start();
  return { actor, clock, ports };
}

/** A JSON value with the text to infer on. */
export const email = (text: string) => ({ text });
