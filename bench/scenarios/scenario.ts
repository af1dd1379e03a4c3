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
