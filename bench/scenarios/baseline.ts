import { cpuTable } from '../support/figure-tables.ts';
import { format, type ScenarioResult } from '../support/report.ts';
import { measureSaturated, type SaturatedResult } from '../support/saturated-run.ts';
import { Workload } from '../support/workload.ts';
import { type CapacityRun, capacitySettings, runVariant, sharedCapacityKey } from './capacity.ts';
import { type BenchContext, type Scenario, size, withReplicas } from './scenario.ts';

const target = 15;

/**
 * The same input, replica settings and broker as the capacity scenario's three-partition
 * run, through the consumer loop most people write first (bench/contenders/baseline-loop.ts).
 */
export const baseline: Scenario = {
  name: 'baseline',
  title: '2. Baseline: the loop people write first',
  run: async (context) => {
    const tokenline = await tokenlineRun(context);
    const loop = await runLoop(context);
    return report(context, tokenline, loop);
  },
};

/** The capacity scenario's run of this invocation, or a fresh one when it did not run. */
async function tokenlineRun(context: BenchContext): Promise<CapacityRun> {
  const shared = context.shared.get(sharedCapacityKey) as CapacityRun | undefined;
  if (shared) return shared;
  context.log('baseline: no capacity run to compare with in this invocation; measuring one');
  return runVariant(context, { label: '3p-1r', id: '3p-1r', partitions: 3, replicas: 1 });
}

async function runLoop(context: BenchContext): Promise<SaturatedResult> {
  const settings = capacitySettings(context);
  const options = { count: 1, slots: settings.slots, serviceTimeMs: settings.serviceTimeMs };
  return withReplicas(context, 'baseline', options, (resources, replicas) => {
    const workload = new Workload({
      keys: settings.keys,
      ttlMs: settings.ttlMs,
      idPrefix: resources.name,
    });
    return measureSaturated({
      kind: 'baseline',
      label: 'baseline',
      resources,
      workload,
      replicas,
      partitions: 3,
      // One record at a time at ~50 ms each: a few thousand outlast any window here.
      backlog: size(context, 3_000, 300),
      warmMs: size(context, 2_000, 300),
      measureMs: settings.measureMs,
      log: context.log,
    });
  });
}

function report(
  context: BenchContext,
  tokenline: CapacityRun,
  loop: SaturatedResult,
): ScenarioResult {
  const ratio = tokenline.goodput / loop.goodput;
  const row = (name: string, run: SaturatedResult) => [
    name,
    format.int(run.goodput),
    format.int(run.throughput),
    format.fixed(run.cpuMsPerRecord, 2),
    format.percent(run.accuracy),
  ];
  return {
    name: 'baseline',
    title: baseline.title,
    setup: [
      'baseline: one @platformatic/kafka consumer stream; per record one awaited POST /classify to the replica, one awaited produce (acks all), one awaited commit',
      `same input generator, same replica settings (${capacitySettings(context).slots} slots × 50 ms), same broker; Tokenline figure from the capacity scenario's 3p-1r run`,
    ],
    tables: [
      {
        header: ['contender', 'goodput (rec/s)', 'settled (rec/s)', 'CPU (ms/record)', 'accuracy'],
        rows: [row('Tokenline (3p-1r)', tokenline), row('baseline loop', loop)],
      },
      cpuTable([
        { label: 'Tokenline (3p-1r)', cpu: tokenline.cpu, eventLoop: tokenline.eventLoop },
        { label: 'baseline loop', cpu: loop.cpu, eventLoop: loop.eventLoop },
      ]),
    ],
    targets: [
      {
        target: `Tokenline goodput ≥ ${target} × baseline`,
        value: `${format.fixed(ratio, 1)} ×`,
        met: context.smoke ? null : ratio >= target,
      },
    ],
    notes: [],
    figures: { tokenlineGoodput: tokenline.goodput, baselineGoodput: loop.goodput, ratio },
  };
}
