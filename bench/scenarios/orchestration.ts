import { availableParallelism } from 'node:os';
import type { ContenderKind } from '../support/contenders.ts';
import { cpuTable, stageTable } from '../support/figure-tables.ts';
import { format, type ScenarioResult } from '../support/report.ts';
import { measureSaturated, type SaturatedResult } from '../support/saturated-run.ts';
import { seconds } from '../support/stats.ts';
import { Workload } from '../support/workload.ts';
import { type BenchContext, type Scenario, serviceConfig, size, withReplicas } from './scenario.ts';

const target = 0.5;

/**
 * What Tokenline's machinery costs when inference costs nothing: a replica with zero service
 * time, next to a plain consume-then-produce pipe on the same client (no inference at all).
 */
export const orchestration: Scenario = {
  name: 'orchestration',
  title: '3. Orchestration cost: zero service time against a plain pipe',
  run: async (context) => {
    const tokenline = await runOne(context, 'tokenline');
    const pipe = await runOne(context, 'pipe');
    return report(context, tokenline, pipe);
  },
};

function settings(context: BenchContext) {
  return {
    partitions: 3,
    slots: size(context, 64, 8),
    // The pipe moves records many times faster than Tokenline: each gets a backlog that
    // outlasts its window at its own pace (the window ends at nine tenths of it anyway).
    backlog: {
      tokenline: size(context, 60_000, 1_500),
      pipe: size(context, 300_000, 10_000),
      baseline: 0,
    } as Record<ContenderKind, number>,
    warmMs: size(context, 5_000, 300),
    measureMs: size(context, 20_000, 1_500),
  };
}

async function runOne(context: BenchContext, kind: ContenderKind): Promise<SaturatedResult> {
  const { partitions, slots, warmMs, measureMs } = settings(context);
  const backlog = settings(context).backlog[kind];
  const options = { count: 1, slots, serviceTimeMs: 0 };
  return withReplicas(context, `orchestration-${kind}`, options, (resources, replicas) => {
    const workload = new Workload({ keys: 1_000, ttlMs: 120_000, idPrefix: resources.name });
    return measureSaturated({
      kind,
      label: kind,
      resources,
      workload,
      replicas,
      partitions,
      backlog,
      warmMs,
      measureMs,
      log: context.log,
      extra: serviceConfig(context),
    });
  });
}

/**
 * What one core of each single-threaded part could carry at the CPU it spent per record in
 * this run, against the pipe's rate: Redis (BullMQ keeps one job per record, keyed by event
 * id and model revision) and Tokenline's own event loop. Last, what the whole machine could
 * carry if Tokenline itself cost nothing: the replica (which still runs its model and serves
 * HTTP at zero service time) and Redis share the same cores.
 */
function ceilings(tokenline: SaturatedResult, pipe: SaturatedResult): string[] {
  const records = tokenline.throughput * seconds(tokenline.window);
  const msOf = (name: string) => tokenline.cpu.find((c) => c.name === name)?.ms ?? NaN;
  const line = (what: string, ms: number) => {
    const perRecord = ms / records;
    const most = 1000 / perRecord;
    return `${what} spent ${format.fixed(perRecord * 1000, 0)} µs of CPU per record; at that cost one whole core carries at most ${format.int(most)} records/s, ${format.ratio(most / pipe.throughput)} of the pipe's rate`;
  };
  const others = (msOf('replica') + msOf('redis')) / records;
  const cores = availableParallelism();
  const most = (1000 * cores) / others;
  return [
    line('Redis (one BullMQ job per record: added, taken, finished)', msOf('redis')),
    line("Tokenline's process (one event loop)", msOf('tokenline')),
    `the replica (its model and HTTP, at zero service time) and Redis together spent ${format.fixed(others * 1000, 0)} µs of CPU per record; if Tokenline cost nothing at all, this machine's ${cores} cores would carry at most ${format.int(most)} records/s, ${format.ratio(most / pipe.throughput)} of the pipe's rate`,
  ];
}

function report(
  context: BenchContext,
  tokenline: SaturatedResult,
  pipe: SaturatedResult,
): ScenarioResult {
  const { partitions, slots, backlog } = settings(context);
  const ratio = tokenline.throughput / pipe.throughput;
  const cores = (run: SaturatedResult) => run.cpu.find((c) => c.name === run.kind)?.cores ?? NaN;
  const row = (name: string, run: SaturatedResult) => [
    name,
    format.int(run.throughput),
    format.fixed(run.cpuMsPerRecord, 3),
    format.fixed(cores(run), 2),
    run.backlogRanOut ? 'yes' : 'no',
  ];
  const notes: string[] = [];
  if (tokenline.stages && ratio < target) {
    notes.push(`Tokenline below target; the queue is owned by **${tokenline.stages.owner}**`);
  }
  notes.push(...ceilings(tokenline, pipe));
  return {
    name: 'orchestration',
    title: orchestration.title,
    setup: [
      `${partitions} partitions; records waiting: ${backlog.tokenline.toLocaleString('en-US')} for Tokenline, ${backlog.pipe.toLocaleString('en-US')} for the pipe; replica ${slots} slots × 0 ms (it still runs its Naive Bayes model per record)`,
      'plain pipe: @platformatic/kafka consumer stream → producer (acks all, batches of up to 500) → commit after each acknowledged batch; no inference',
      'CPU per record: utime + stime of the contender process from /proc/<pid>/stat over the window, divided by the records it settled in the window',
    ],
    tables: [
      {
        header: [
          'contender',
          'records/s end to end',
          'CPU (ms/record)',
          'CPU (cores)',
          'backlog ran out',
        ],
        rows: [row('Tokenline', tokenline), row('plain pipe', pipe)],
      },
      stageTable([{ label: 'Tokenline', stages: tokenline.stages }]),
      cpuTable([
        { label: 'Tokenline', cpu: tokenline.cpu, eventLoop: tokenline.eventLoop },
        { label: 'plain pipe', cpu: pipe.cpu, eventLoop: pipe.eventLoop },
      ]),
    ],
    targets: [
      {
        target: `Tokenline records/s ≥ ${target} × plain pipe`,
        value: format.ratio(ratio),
        met: context.smoke ? null : ratio >= target,
      },
    ],
    notes,
    figures: {
      tokenlinePerSecond: tokenline.throughput,
      pipePerSecond: pipe.throughput,
      ratio,
      tokenlineCpuMsPerRecord: tokenline.cpuMsPerRecord,
      pipeCpuMsPerRecord: pipe.cpuMsPerRecord,
    },
  };
}
