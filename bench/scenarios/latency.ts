import type { CommitWatch } from '../support/commit-watch.ts';
import { cpuTable, stageTable } from '../support/figure-tables.ts';
import { readJobTimes } from '../support/job-times.ts';
import {
  type LatencySplit,
  type RecordPath,
  recordPaths,
  type SegmentName,
  segmentLabels,
  splitLatency,
} from '../support/latency-split.ts';
import { LiveRun } from '../support/live-run.ts';
import { type Observation, observe } from '../support/observation.ts';
import { Replicas } from '../support/replicas.ts';
import { format, type ScenarioResult } from '../support/report.ts';
import { RunResources } from '../support/resources.ts';
import { inWindow, seconds, type Window } from '../support/stats.ts';
import type { Settled } from '../support/tally.ts';
import { Workload } from '../support/workload.ts';
import { type BenchContext, type Scenario, serviceConfig, size } from './scenario.ts';

const targetMs = 20;
const load = 0.5;

/**
 * Live traffic at half the replica's bound: how long a record takes end to end beyond the
 * replica's own service time, and in which stage that time goes.
 */
export const latency: Scenario = {
  name: 'latency',
  title: '4. Latency at 50 % of capacity',
  run: async (context) => {
    const s = settings(context);
    const resources = new RunResources('latency');
    const replicas = await Replicas.start({
      count: 1,
      slots: s.slots,
      serviceTimeMs: s.serviceTimeMs,
    });
    try {
      const measured = await measure(context, resources, replicas);
      return report(context, measured);
    } finally {
      await replicas.stop();
      for (const problem of await resources.release()) context.log(`cleanup: ${problem}`);
    }
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
  split: LatencySplit;
  records: number;
  sent: number;
  deadLetters: number;
  /** Results and dead letters appended per second in the window: did Tokenline keep up? */
  settledPerSecond: number;
}

async function measure(
  context: BenchContext,
  resources: RunResources,
  replicas: Replicas,
): Promise<Measured> {
  const s = settings(context);
  const workload = new Workload({ keys: 1_000, ttlMs: 60_000, idPrefix: resources.name });
  const run = await LiveRun.start({
    label: 'latency',
    resources,
    replicas,
    workload,
    partitions: s.partitions,
    rate: s.rate,
    detailed: true,
    extra: serviceConfig(context),
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
    const paths = await pathsIn(run, window);
    const deadLetters = run.tally.settled.filter((x) => x.result === null).length;
    context.log(`latency: ${paths.length} records in the window, ${sent} sent`);

    return {
      ...observation,
      split: splitLatency(paths, s.serviceTimeMs),
      records: paths.length,
      settledPerSecond:
        run.tally.settled.filter((x) => inWindow(x.appendedAt, window)).length / seconds(window),
      sent,
      deadLetters,
    };
  } finally {
    await run.stop();
  }
}

/** The paths of the records appended to the input topic in the window that have a result. */
async function pathsIn(run: LiveRun, window: Window): Promise<RecordPath[]> {
  const inside = windowResults(run.tally.settled, run.tally.inputAt, window);
  const jobs = await readJobTimes(run.contender.queueName as string, inside.map(jobOf));
  const commits = run.commits as CommitWatch;
  return recordPaths(inside, run.tally.inputAt, jobs, commits);
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
  'fetch',
  'queue',
  'worker',
  'results',
  'produce',
  'commit',
];

function report(context: BenchContext, measured: Measured): ScenarioResult {
  const s = settings(context);
  const { split } = measured;
  const added = split.added.p99;
  return {
    name: 'latency',
    title: latency.title,
    setup: [
      `paced producer at ${format.int(s.rate)} records/s (${load * 100} % of ${s.slots} slots × ${s.serviceTimeMs} ms), ${s.partitions} partitions, 1,000 keys, Tokenline defaults`,
      `${format.int(measured.records)} results of records appended in a ${s.measureMs / 1000} s window after ${s.warmMs / 1000} s warm-up; ${format.int(measured.sent)} records sent in all, ${measured.deadLetters} dead letters`,
      `settled in the window: ${format.int(measured.settledPerSecond)} records/s against ${format.int(s.rate)} offered`,
      'times: input and result append times from the broker (LogAppendTime topics), job created/taken/finished from the BullMQ job hashes, result built from the result’s endToEndMs, commits by polling the group’s offsets every 50 ms (±50 ms)',
    ],
    tables: [
      {
        header: ['segment', 'p50', 'p90', 'p99', 'max', 'records'],
        rows: rowsShown.map((name) => [
          segmentLabels[name],
          format.ms(split[name].p50),
          format.ms(split[name].p90),
          format.ms(split[name].p99),
          format.ms(split[name].max),
          format.int(split[name].count),
        ]),
      },
      stageTable([{ label: 'latency', stages: measured.stages }]),
      cpuTable([{ label: 'latency', cpu: measured.cpu, eventLoop: measured.eventLoop }]),
    ],
    targets: [
      {
        target: `added p99 < ${targetMs} ms`,
        value: format.ms(added),
        met: context.smoke ? null : added < targetMs,
      },
    ],
    notes: notesOf(measured, s.rate),
    figures: {
      records: measured.records,
      endToEndP50: split.endToEnd.p50,
      endToEndP99: split.endToEnd.p99,
      addedP50: split.added.p50,
      addedP99: split.added.p99,
      deadLetters: measured.deadLetters,
      settledPerSecond: measured.settledPerSecond,
    },
  };
}

function notesOf(measured: Measured, rate: number): string[] {
  const notes: string[] = [];
  if (measured.settledPerSecond < 0.95 * rate) {
    notes.push(
      `Tokenline did not keep up with the offered ${format.int(rate)} records/s on this machine; the latency above is mostly queueing behind ${measured.stages.owner}`,
    );
  }
  if (measured.split.added.p99 >= targetMs) {
    notes.push(`added p99 over target; largest p99 share: ${largestSegment(measured.split)}`);
  }
  return notes;
}

/** The segment (of those that add up to end to end) with the largest p99. */
function largestSegment(split: LatencySplit): string {
  const parts: SegmentName[] = ['fetch', 'queue', 'worker', 'results', 'produce'];
  const [name] = parts.sort((a, b) => split[b].p99 - split[a].p99);
  return name ? `${segmentLabels[name]} at ${format.ms(split[name].p99)}` : 'n/a';
}
