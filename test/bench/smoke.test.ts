import { describe, expect, it } from 'vitest';
import { backlogMemory } from '../../bench/scenarios/backlog-memory.ts';
import { baseline } from '../../bench/scenarios/baseline.ts';
import { capacity } from '../../bench/scenarios/capacity.ts';
import { latency } from '../../bench/scenarios/latency.ts';
import { orchestration } from '../../bench/scenarios/orchestration.ts';
import { recovery } from '../../bench/scenarios/recovery.ts';
import type { BenchContext } from '../../bench/scenarios/scenario.ts';
import { scenarioMarkdown } from '../../bench/support/report.ts';

// Tiny sizes on the real broker, Redis and replica: the bench code runs end to end and its
// figures are well formed. Nothing here judges performance; `bun bench/run.ts` does.
describe('the benchmark scenarios in a smoke run', () => {
  const lines: string[] = [];
  const context: BenchContext = { smoke: true, log: (line) => lines.push(line), shared: new Map() };

  it('measures capacity for every variant, with results and no dead letters', async () => {
    const result = await capacity.run(context);
    for (const label of ['3p-1r', '3p-2r', '8p-1r']) {
      expect(result.figures[`${label}.goodput`]).toBeGreaterThan(0);
      expect(result.figures[`${label}.deadLetters`]).toBe(0);
    }
    expect(scenarioMarkdown(result)).toContain('| 3p-2r |');
  });

  it('runs the baseline loop against the capacity run of the same context', async () => {
    const result = await baseline.run(context);
    expect(result.figures.baselineGoodput).toBeGreaterThan(0);
    expect(result.figures.ratio).toBeGreaterThan(0);
  });

  it('moves records through Tokenline and the plain pipe with zero service time', async () => {
    const result = await orchestration.run(context);
    expect(result.figures.tokenlinePerSecond).toBeGreaterThan(0);
    expect(result.figures.pipePerSecond).toBeGreaterThan(0);
    expect(result.figures.tokenlineCpuMsPerRecord).toBeGreaterThan(0);
  });

  it('splits end-to-end latency of paced traffic', async () => {
    const result = await latency.run(context);
    expect(result.figures.records).toBeGreaterThan(0);
    // The replica holds every request for its 50 ms service time.
    expect(result.figures.endToEndP50).toBeGreaterThanOrEqual(50);
    expect(result.figures.keyBusyShare).toBeGreaterThanOrEqual(0);
    expect(result.figures.keyBusyShare).toBeLessThanOrEqual(1);
    expect(result.figures.addedKeyFreeP99).toBeGreaterThan(0);
    expect(result.figures.floorP99).toBeGreaterThanOrEqual(0);
    // The unordered run: the same rate, no record waiting for another of its key.
    expect(result.figures.unorderedAddedP99).toBeGreaterThan(0);
    expect(scenarioMarkdown(result)).toContain('ordering none');
  });

  it('samples the service memory while a backlog waits', async () => {
    const result = await backlogMemory.run(context);
    expect(result.figures.peakRssBytes).toBeGreaterThan(0);
    expect(result.figures.settled).toBeGreaterThan(0);
  });

  it('loses no record through a replica outage', async () => {
    const result = await recovery.run(context);
    expect(result.figures.settledAll).toBe(1);
    expect(result.figures.lost).toBe(0);
    expect(result.figures.amplification).toBeGreaterThanOrEqual(1);
  });
});
