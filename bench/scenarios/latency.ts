import type { CommitWatch } from '../support/commit-watch.ts';
import { cpuTable, stageTable } from '../support/figure-tables.ts';
import { readJobTimes } from '../support/job-times.ts';
import {
  keyFreeTimes,
  keyOrderFloor,
  keyWait,
  type LatencySplit,
  type RecordPath,
  recordPaths,
  type SegmentName,
  segmentLabels,
  splitLatency,
} from '../support/latency-split.ts';
import { LiveRun } from '../support/live-run.ts';
import { type Observation, observe } from '../support/observation.ts';
import type { Replicas } from '../support/replicas.ts';
import { format, type ScenarioResult, type Table } from '../support/report.ts';
import type { RunResources } from '../support/resources.ts';
import { inWindow, seconds, type Window } from '../support/stats.ts';
import type { Settled } from '../support/tally.ts';
import { Workload } from '../support/workload.ts';
import { type CapacityRun, sharedCapacityKey } from './capacity.ts';
import { type BenchContext, type Scenario, serviceConfig, size, withReplicas } from './scenario.ts';

const targetMs = 20;
const load = 0.5;

/**
 * Live traffic at half the replica's bound: how long a record takes end to end beyond the
 * replica's own service time, and in which stage that time goes. When the capacity scenario
 * ran before in the same run and Tokenline's own goodput fell short of that rate's double,
 * a second, supplementary measurement at half of that goodput shows what Tokenline adds when
 * it is not saturated itself. A last one runs the issue's rate with `partition.ordering: none`,
 * where no record waits for another of its key: what Tokenline adds beyond key order. The
 * target is judged on the first.
 */
export const latency: Scenario = {
  name: 'latency',
  title: '4. Latency at 50 % of capacity',
  run: async (context) => {
    const s = settings(context);
    const replicas = { count: 1, slots: s.slots, serviceTimeMs: s.serviceTimeMs };
    return withReplicas(context, 'latency', replicas, async (resources, started) => {
      const measured = await measure(context, resources, started, s.rate);
      const light = lightRate(context);
      const supplement = light === null ? null : await measure(context, resources, started, light);
      const unordered = await measure(context, resources, started, s.rate, 'none');
      return report(context, measured, supplement, unordered);
    });
  },
};

function settings(context: BenchContext) {
  const slots = size(context, 64, 8);
  const serviceTimeMs = 50;
  return {
    slots,
    serviceTimeMs,
    partitions: 3,
    rate: (load * slots * 1000) / serviceTimeMs,
    warmMs: size(context, 5_000, 1_000),
    measureMs: size(context, 30_000, 2_000),
  };
}

interface Measured extends Observation {
  rate: number;
  /** `key` (Tokenline's default) or `none`: records of a key need not wait for each other. */
  ordering: 'key' | 'none';
  split: LatencySplit;
  records: number;
  /** Share of the records whose key's previous record had not settled when they were appended. */
  keyBusyShare: number;
  sent: number;
  deadLetters: number;
  /** Results and dead letters appended per second in the window: did Tokenline keep up? */
  settledPerSecond: number;
}

/** Half the goodput of this run's capacity scenario (3p-1r), if lower than the issue's rate. */
function lightRate(context: BenchContext): number | null {
  const capacityRun = context.shared.get(sharedCapacityKey) as CapacityRun | undefined;
  if (!capacityRun) return null;
  const rate = Math.floor(capacityRun.goodput * load);
  return rate < 0.95 * settings(context).rate ? rate : null;
}

async function measure(
  context: BenchContext,
  resources: RunResources,
  replicas: Replicas,
  rate: number,
  ordering: 'key' | 'none' = 'key',
): Promise<Measured> {
  const s = settings(context);
  const label = `latency-${rate}-${ordering}`;
  const base = serviceConfig(context) ?? {};
  const extra = ordering === 'key' ? base : { ...base, partition: { ...base.partition, ordering } };
  const workload = new Workload({
    keys: 1_000,
    ttlMs: 60_000,
    idPrefix: `${resources.name}-${rate}-${ordering}`,
  });
  const run = await LiveRun.start({
    label,
    resources,
    replicas,
    workload,
    partitions: s.partitions,
    rate,
    detailed: true,
    extra,
  });
  try {
    await Bun.sleep(s.warmMs);
    const service = run.contender.tokenline;
    if (!service) throw new Error('latency: Tokenline did not start');
    const finish = await observe(service, replicas, run.contender.queueName as string);
    const window: Window = { from: Date.now(), to: Date.now() + s.measureMs };
    await Bun.sleep(s.measureMs);
    const observation = await finish();
    const sent = await run.producer.stop();
    if (!(await run.settleAll(60_000))) context.log('latency: not every record settled in 60 s');
    // A little longer, so that the commit watch sees the last records' commits.
    await Bun.sleep(1_000);
    const paths = await pathsIn(run, window, ordering === 'key' ? s.serviceTimeMs : null);
    const deadLetters = run.tally.settled.filter((x) => x.result === null).length;
    context.log(`latency: ${paths.length} records in the window, ${sent} sent`);

    return {
      ...observation,
      rate,
      ordering,
      split: splitLatency(paths, s.serviceTimeMs),
      records: paths.length,
      keyBusyShare: paths.filter((p) => keyWait(p) > 0).length / Math.max(1, paths.length),
      settledPerSecond:
        run.tally.settled.filter((x) => inWindow(x.appendedAt, window)).length / seconds(window),
      sent,
      deadLetters,
    };
  } finally {
    await run.stop();
  }
}

/**
 * The paths of the records appended to the input topic in the window that have a result.
 * `keyOrderServiceMs` is the service time when the run kept key order, null when it did not:
 * then no record waited for another, and the key-order figures are 0.
 */
async function pathsIn(
  run: LiveRun,
  window: Window,
  keyOrderServiceMs: number | null,
): Promise<RecordPath[]> {
  const inside = windowResults(run.tally.settled, run.tally.inputAt, window);
  const jobs = await readJobTimes(run.contender.queueName as string, inside.map(jobOf));
  const commits = run.commits as CommitWatch;
  if (keyOrderServiceMs === null) {
    return recordPaths(inside, run.tally.inputAt, jobs, commits, new Map(), new Map());
  }
  const keyFree = keyFreeTimes(run.tally.keyed, run.tally.settled);
  const floors = keyOrderFloor(run.tally.keyed, run.tally.inputAt, keyOrderServiceMs);
  return recordPaths(inside, run.tally.inputAt, jobs, commits, keyFree, floors);
}

function windowResults(
  settled: Settled[],
  inputAt: Map<string, number>,
  window: Window,
): Settled[] {
  return settled.filter((x) => {
    const at = inputAt.get(x.eventId);
    return x.result !== null && at !== undefined && inWindow(at, window);
  });
}

function jobOf(settled: Settled) {
  return { eventId: settled.eventId, revision: settled.result?.revision ?? 'unknown' };
}

const rowsShown: SegmentName[] = [
  'endToEnd',
  'service',
  'added',
  'addedBeyondCall',
  'floor',
  'addedKeyFree',
  'keyWait',
  'fetch',
  'fetchBeyondKey',
  'queue',
  'worker',
  'results',
  'produce',
  'commit',
];

function report(
  context: BenchContext,
  measured: Measured,
  supplement: Measured | null,
  unordered: Measured,
): ScenarioResult {
  const s = settings(context);
  const added = measured.split.added.p99;
  const runs = supplement ? [measured, supplement, unordered] : [measured, unordered];
  return {
    name: 'latency',
    title: latency.title,
    setup: [
      `paced producer at ${format.int(s.rate)} records/s (${load * 100} % of ${s.slots} slots × ${s.serviceTimeMs} ms), ${s.partitions} partitions, 1,000 keys, Tokenline defaults; ${s.warmMs / 1000} s warm-up, then a ${s.measureMs / 1000} s window`,
      ...runs.map(runLine),
      ...(supplement
        ? [
            `supplementary, judged against no target: ${format.int(supplement.rate)} records/s, half the goodput Tokenline reached in this run's capacity scenario (3p-1r), where it is not saturated itself`,
          ]
        : []),
      `supplementary, judged against no target: ${format.int(unordered.rate)} records/s with \`partition.ordering: none\` (records of a key do not wait for each other): what Tokenline adds beyond key order`,
      'times: input and result append times from the broker (LogAppendTime topics), job created/taken/finished from the BullMQ job hashes, result built from the result’s endToEndMs, commits by polling the group’s offsets every 50 ms (±50 ms)',
    ],
    tables: [
      segmentTable(runs),
      stageTable(runs.map((run) => ({ label: rateLabel(run), stages: run.stages }))),
      cpuTable(
        runs.map((run) => ({ label: rateLabel(run), cpu: run.cpu, eventLoop: run.eventLoop })),
      ),
    ],
    targets: [
      {
        target: `added p99 < ${targetMs} ms (at ${format.int(s.rate)} records/s)`,
        value: format.ms(added),
        met: context.smoke ? null : added < targetMs,
      },
    ],
    notes: runs.flatMap(notesOf),
    figures: {
      records: measured.records,
      endToEndP50: measured.split.endToEnd.p50,
      endToEndP99: measured.split.endToEnd.p99,
      addedP50: measured.split.added.p50,
      addedP99: added,
      addedKeyFreeP99: measured.split.addedKeyFree.p99,
      floorP99: measured.split.floor.p99,
      keyBusyShare: measured.keyBusyShare,
      deadLetters: measured.deadLetters,
      settledPerSecond: measured.settledPerSecond,
      ...(supplement
        ? { supplementRate: supplement.rate, supplementAddedP99: supplement.split.added.p99 }
        : {}),
      unorderedAddedP50: unordered.split.added.p50,
      unorderedAddedP99: unordered.split.added.p99,
    },
  };
}

function rateLabel(run: Measured): string {
  const unordered = run.ordering === 'none' ? ', ordering none' : '';
  return `${format.int(run.rate)} records/s${unordered}`;
}

function runLine(run: Measured): string {
  return `at ${rateLabel(run)}: ${format.int(run.records)} results of records appended in the window, ${format.int(run.sent)} records sent in all, ${run.deadLetters} dead letters; settled ${format.int(run.settledPerSecond)} records/s in the window`;
}

/** p50, p90, p99 and max of each segment, side by side for each rate measured. */
function segmentTable(runs: Measured[]): Table {
  const stats = ['p50', 'p90', 'p99', 'max'] as const;
  return {
    header: [
      'segment',
      ...runs.flatMap((run) =>
        stats.map(
          (stat) =>
            `${stat} at ${format.int(run.rate)}/s${run.ordering === 'none' ? ', unordered' : ''}`,
        ),
      ),
      'records',
    ],
    rows: rowsShown.map((name) => [
      segmentLabels[name],
      ...runs.flatMap((run) =>
        stats.map((stat) => (notMeasured(run, name) ? 'n/a' : format.ms(run.split[name][stat]))),
      ),
      runs.map((run) => format.int(run.split[name].count)).join(' / '),
    ]),
  };
}

/** Key-order rows mean nothing for a run without key order: no record waited for another. */
function notMeasured(run: Measured, name: SegmentName): boolean {
  return run.ordering === 'none' && (name === 'floor' || name === 'keyWait');
}

function notesOf(measured: Measured): string[] {
  const notes: string[] = [];
  const at = `at ${rateLabel(measured)}`;
  if (measured.settledPerSecond < 0.95 * measured.rate) {
    notes.push(
      `${at}: Tokenline did not keep up with the offered rate on this machine; the latency is mostly queueing behind ${measured.stages.owner}`,
    );
  }
  if (measured.split.added.p99 >= targetMs) {
    notes.push(
      `${at}: added p99 over ${targetMs} ms; largest p99: ${largestSegment(measured.split)}`,
    );
  }
  if (measured.ordering === 'none') return notes;
  const { keyWait: wait, addedKeyFree, floor } = measured.split;
  notes.push(
    `${at}: ${format.percent(measured.keyBusyShare)} of the records were appended while their key's previous record was still in flight and waited for it (key order, the default), p50 / p99 of that wait over all records ${format.ms(wait.p50)} / ${format.ms(wait.p99)}; added p99 of the records whose key was free: ${format.ms(addedKeyFree.p99)}`,
    `${at}: on this input an ideal pipeline that processes each key's records one after another (as key order requires) and costs only the service time would add p99 ${format.ms(floor.p99)} (p90 ${format.ms(floor.p90)})${floor.p99 >= targetMs ? `: the wait for a key's previous record alone puts the p99 over the ${targetMs} ms target` : ''}`,
  );
  return notes;
}

/** The segment (of those that add up to end to end) with the largest p99. */
function largestSegment(split: LatencySplit): string {
  const parts: SegmentName[] = [
    'keyWait',
    'fetchBeyondKey',
    'queue',
    'worker',
    'results',
    'produce',
  ];
  const [name] = parts.sort((a, b) => split[b].p99 - split[a].p99);
  return name ? `${segmentLabels[name]} at ${format.ms(split[name].p99)}` : 'n/a';
}
