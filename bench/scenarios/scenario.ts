import type { ConfigInput } from '../../src/config.ts';
import type { ScenarioResult } from '../support/report.ts';

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
