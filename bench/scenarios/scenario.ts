import type { ConfigInput } from '../../src/config.ts';
import type { ReplicaChildOptions } from '../support/replica-child.ts';
import { Replicas } from '../support/replicas.ts';
import type { ScenarioResult } from '../support/report.ts';
import { RunResources } from '../support/resources.ts';

/** What every scenario gets from the run. */
export interface BenchContext {
  /** Tiny sizes and short windows: proves the code runs, measures nothing worth quoting. */
  smoke: boolean;
  log(line: string): void;
  /**
   * Figures a later scenario of the same run may reuse, by key: the baseline compares with
   * the capacity scenario's three-partition result instead of measuring it again.
   */
  shared: Map<string, unknown>;
}

export interface Scenario {
  name: string;
  title: string;
  run(context: BenchContext): Promise<ScenarioResult>;
}

/** Picks the full or the smoke value of a size. */
export function size<T>(context: BenchContext, full: T, smoke: T): T {
  return context.smoke ? smoke : full;
}

/**
 * Tokenline's configuration beyond the defaults: none in a full run. A smoke run shortens the
 * drain on shutdown (default 5 s), which only the end of each run waits for.
 */
export function serviceConfig(context: BenchContext): ConfigInput | undefined {
  return context.smoke ? { partition: { drainTimeoutMs: 500 } } : undefined;
}

/**
 * Runs `body` with fresh run resources (topics, groups, queues named after `name`) and
 * replicas, then stops the replicas and releases the resources, logging what it could not.
 */
export async function withReplicas<T>(
  context: BenchContext,
  name: string,
  options: ReplicaChildOptions,
  body: (resources: RunResources, replicas: Replicas) => Promise<T>,
): Promise<T> {
  const resources = new RunResources(name);
  const replicas = await Replicas.start(options);
  try {
    return await body(resources, replicas);
  } finally {
    await replicas.stop();
    for (const problem of await resources.release()) context.log(`cleanup: ${problem}`);
  }
}
