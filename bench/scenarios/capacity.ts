import { availableParallelism } from 'node:os';
import type { ConfigInput } from '../../src/config.ts';
import { cpuTable, stageTable } from '../support/figure-tables.ts';
import { format, type ScenarioResult, type TargetCheck } from '../support/report.ts';
import { measureSaturated, type SaturatedResult } from '../support/saturated-run.ts';
import { Workload } from '../support/workload.ts';
import { type BenchContext, type Scenario, serviceConfig, size, withReplicas } from './scenario.ts';

interface Variant {
  label: string;
  /** The run's name in BENCH_CAPACITY_RUNS (the label, where it has no comma). */
  id: string;
  partitions: number;
  replicas: number;
  /**
   * A configuration experiment beside the runs, judged against no target: what the
   * analysis of the others suggests trying.
   */
  experiment?: { what: string; config: ConfigInput; comparedWith: string };
}

export interface CapacityRun extends SaturatedResult {
  bound: number;
  variant: Variant;
}

/** Key under which the three-partition, one-replica run is shared with the baseline. */
export const sharedCapacityKey = 'capacity:3p-1r';

const variants: Variant[] = [
  { label: '3p-1r', id: '3p-1r', partitions: 3, replicas: 1 },
  { label: '3p-2r', id: '3p-2r', partitions: 3, replicas: 2 },
  { label: '8p-1r', id: '8p-1r', partitions: 8, replicas: 1 },
  {
    label: '3p-1r, workers apart',
    id: '3p-1r-apart',
    partitions: 3,
    replicas: 1,
    experiment: {
      what: 'replica workers in a process of their own (`workers.inProcess: false` and `bun src/main.ts worker`)',
      config: { workers: { inProcess: false } },
      comparedWith: '3p-1r',
    },
  },
  {
    label: '3p-2r, workers apart',
    id: '3p-2r-apart',
    partitions: 3,
    replicas: 2,
    experiment: {
      what: "replica workers in a process of their own, with two replicas: whether the service's one event loop or the two cores bound 3p-2r",
      config: { workers: { inProcess: false } },
      comparedWith: '3p-2r',
    },
  },
];

const target = 0.95;
/** Cores of this machine, shared by every process of a run. */
const machineCores = availableParallelism();

/**
 * BENCH_CAPACITY_RUNS=3p-1r,8p-1r runs only the runs named (3p-1r, 3p-2r, 8p-1r, 3p-1r-apart,
 * 3p-2r-apart), for quick comparisons while working on the code; a full report runs them all.
 */
function chosenVariants(): Variant[] {
  const names = process.env.BENCH_CAPACITY_RUNS?.split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  if (!names || names.length === 0) return variants;
  const unknown = names.filter((name) => !variants.some((v) => v.id === name));
  if (unknown.length > 0) {
    const known = variants.map((v) => v.id).join(', ');
    throw new Error(`BENCH_CAPACITY_RUNS: unknown run ${unknown.join(', ')} (known: ${known})`);
  }
  return variants.filter((variant) => names.includes(variant.id));
}

export const capacity: Scenario = {
  name: 'capacity',
  title: '1. Capacity: goodput against the replicas’ bound',
  run: async (context) => {
    const runs: CapacityRun[] = [];
    for (const variant of chosenVariants()) runs.push(await runVariant(context, variant));
    const threeOne = runs.find((run) => run.variant.id === '3p-1r');
    if (threeOne) context.shared.set(sharedCapacityKey, threeOne);
    return report(context, runs);
  },
};

/** The settings of the capacity runs, shared with the baseline so both see the same replica. */
export function capacitySettings(context: BenchContext) {
  return {
    slots: size(context, 64, 8),
    serviceTimeMs: 50,
    keys: 1_000,
    warmMs: size(context, 10_000, 500),
    measureMs: size(context, 30_000, 1_000),
    ttlMs: 60_000,
  };
}

/** One Tokenline run on a fresh replica set, topics, group and queue. */
export async function runVariant(context: BenchContext, variant: Variant): Promise<CapacityRun> {
  const settings = capacitySettings(context);
  const options = {
    count: variant.replicas,
    slots: settings.slots,
    serviceTimeMs: settings.serviceTimeMs,
  };
  const name = `capacity-${variant.label}`;
  return withReplicas(context, name, options, async (resources, replicas) => {
    const bound = replicas.boundPerSecond;
    const workload = new Workload({
      keys: settings.keys,
      ttlMs: settings.ttlMs,
      idPrefix: resources.name,
    });
    // Enough records that the window never runs dry at the bound, with a margin.
    const backlog = Math.ceil((bound * (settings.warmMs + settings.measureMs + 10_000)) / 1000);
    const result = await measureSaturated({
      kind: 'tokenline',
      label: variant.label,
      resources,
      workload,
      replicas,
      partitions: variant.partitions,
      backlog,
      warmMs: settings.warmMs,
      measureMs: settings.measureMs,
      log: context.log,
      extra: { ...serviceConfig(context), ...variant.experiment?.config },
    });
    return { ...result, bound, variant };
  });
}

function report(context: BenchContext, runs: CapacityRun[]): ScenarioResult {
  const settings = capacitySettings(context);
  const judged = runs.filter((run) => !run.variant.experiment);
  const targets: TargetCheck[] = judged.map((run) => ({
    target: `${run.label}: goodput ≥ ${target} × bound`,
    value: format.ratio(run.goodput / run.bound),
    met: context.smoke ? null : run.goodput / run.bound >= target,
  }));
  return {
    name: 'capacity',
    title: capacity.title,
    setup: [
      `input: held-out SpamAssassin emails cycled, ${settings.keys} distinct keys, deadline = send time + ${settings.ttlMs / 1000} s; backlog written before the service starts`,
      `replica: built-in, ${settings.slots} slots × ${settings.serviceTimeMs} ms per replica (bound = replicas × slots / service time), in its own process`,
      `Tokenline: \`bun src/main.ts run\` in its own process, default configuration (window 256, ordering by key, queue high water 2000), workers in process`,
      `window: ${settings.warmMs / 1000} s warm-up after the first commit, then ${settings.measureMs / 1000} s; goodput = results appended in the window before their deadline, per second; results read after the run from the broker’s append times`,
    ],
    tables: [
      {
        header: [
          'run',
          'partitions',
          'replicas',
          'bound (rec/s)',
          'goodput (rec/s)',
          'goodput / bound',
          'settled (rec/s)',
          'dead letters',
          'Tokenline CPU (ms/record)',
          'accuracy',
        ],
        rows: runs.map((run) => [
          run.label,
          String(run.variant.partitions),
          `${run.variant.replicas} × ${settings.slots} slots`,
          format.int(run.bound),
          format.int(run.goodput),
          format.ratio(run.goodput / run.bound),
          format.int(run.throughput),
          String(run.deadLetters),
          format.fixed(run.cpuMsPerRecord, 2),
          format.percent(run.accuracy),
        ]),
      },
      stageTable(runs),
      cpuTable(runs),
    ],
    targets,
    notes: [
      ...runs.flatMap((run) => notesOf(run)),
      ...runs
        .filter((run) => run.variant.experiment)
        .map(
          (run) =>
            `${run.label}: ${run.variant.experiment?.what}; no target, for comparison with ${run.variant.experiment?.comparedWith}`,
        ),
    ],
    figures: Object.fromEntries(
      runs.flatMap((run) => [
        [`${run.label}.bound`, run.bound],
        [`${run.label}.goodput`, run.goodput],
        [`${run.label}.settledPerSecond`, run.throughput],
        [`${run.label}.deadLetters`, run.deadLetters],
        [`${run.label}.cpuMsPerRecord`, run.cpuMsPerRecord],
      ]),
    ),
  };
}

function notesOf(run: CapacityRun): string[] {
  const notes: string[] = [];
  if (run.backlogRanOut) notes.push(`${run.label}: the backlog ran out before the window's end`);
  const machine = machineBound(run);
  if (machine) notes.push(machine);
  if (run.stages && !run.variant.experiment && run.goodput / run.bound < target) {
    notes.push(`${run.label}: below target; the queue is owned by **${run.stages.owner}**`);
  }
  return notes;
}

/**
 * What the machine's cores allow at the CPU every process of the run spent per record (the
 * service, replicas, broker, Redis, the bench itself): when that is below the replicas' bound,
 * the cores and not the replicas bound the run, whatever the pipeline does with its share.
 */
function machineBound(run: CapacityRun): string | null {
  const cores = run.cpu.reduce((sum, c) => sum + c.cores, 0);
  if (!(cores > 0) || !(run.throughput > 0)) return null;
  const msPerRecord = (cores * 1000) / run.throughput;
  const most = (machineCores * 1000) / msPerRecord;
  const share = format.ratio(Math.min(most, run.bound) / run.bound);
  return (
    `${run.label}: every process together spent ${format.fixed(msPerRecord, 2)} ms of CPU per record ` +
    `(${format.fixed(cores, 2)} cores at ${format.int(run.throughput)}/s); at that cost ` +
    `${machineCores} cores carry at most ${format.int(most)} records/s, ${share} of the bound`
  );
}
