import type { ConfigInput } from '../../src/config.ts';
import { CommitWatch } from './commit-watch.ts';
import { type ContenderKind, startContender } from './contenders.ts';
import { CpuBudget, type CpuShare, type EventLoopShare } from './cpu-budget.ts';
import type { Replicas } from './replicas.ts';
import type { RunResources } from './resources.ts';
import { type StageReport, StageSampler, withEventLoop } from './stages.ts';
import { inWindow, seconds, type Window } from './stats.ts';
import { type Settled, Tally } from './tally.ts';
import { produceBacklog, type Workload } from './workload.ts';

export interface SaturatedOptions {
  kind: ContenderKind;
  label: string;
  resources: RunResources;
  workload: Workload;
  replicas: Replicas;
  partitions: number;
  /** Records waiting in the input topic before the contender starts. */
  backlog: number;
  /** From the first result to the start of the window, at most: or a tenth of the backlog. */
  warmMs: number;
  /** Longest window; it ends early once nine tenths of the backlog settled. */
  measureMs: number;
  extra?: ConfigInput;
  log: (line: string) => void;
}

export interface SaturatedResult {
  kind: ContenderKind;
  label: string;
  window: Window;
  /** The window ended early, at nine tenths of the backlog. */
  backlogRanOut: boolean;
  /** Results and dead letters appended in the window. */
  settled: number;
  /** Results appended in the window before their record's deadline. */
  good: number;
  deadLetters: number;
  goodput: number;
  throughput: number;
  /** CPU of the contender's process per settled record in the window, ms. */
  cpuMsPerRecord: number;
  cpu: CpuShare[];
  accuracy: number;
  stages: StageReport | null;
  produceRate: number;
  /** The contender's main thread: running, and waiting for a CPU, as shares of the window. */
  eventLoop: EventLoopShare | null;
}

/**
 * One contender against a backlog that keeps it busy: the input is written first, the
 * contender starts, and once it commits and a warm-up passed, a window measures what it
 * settles per second (steady state), what CPU that took, and where records wait. During the
 * run only the contender's committed offsets are watched; its results are read after the
 * window, from the broker's append times, so that reading them takes no CPU from it.
 */
export async function measureSaturated(options: SaturatedOptions): Promise<SaturatedResult> {
  const { resources, workload, label, log } = options;
  const topics = await resources.topics(label, options.partitions);
  const produceRate = await produceBacklog(workload, topics.input, {
    from: 0,
    to: options.backlog,
  });
  log(`${label}: ${options.backlog} records written (${Math.round(produceRate)}/s)`);
  const tally = new Tally(topics, resources.group(`${label}-tally`));
  const contender = await startContender({ ...options, topics });
  const commits = new CommitWatch(contender.groupId, topics.input);
  commits.start(100);
  try {
    const budget = await new CpuBudget()
      .watch(contender.name, contender.pid, true)
      .watch(`${contender.name} workers`, contender.workerPid)
      .watch('replica', options.replicas.child.pid)
      .watchInfrastructure();
    if (!(await waitUntil(commits, Date.now() + 60_000, 1))) {
      throw new Error(`${label}: no commit within 60 s`);
    }
    await waitUntil(commits, Date.now() + options.warmMs, options.backlog * 0.1);

    const sampler = contender.tokenline
      ? new StageSampler(contender.tokenline, options.replicas, contender.queueName as string)
      : null;
    const from = Date.now();
    const cpuFrom = budget.snapshot();
    sampler?.start();
    const ranOut = await waitUntil(commits, from + options.measureMs, options.backlog * 0.9);
    const window = { from, to: Date.now() };
    const cpuTo = budget.snapshot();
    const cpu = CpuBudget.between(cpuFrom, cpuTo);
    const eventLoop = CpuBudget.eventLoops(cpuFrom, cpuTo)[0] ?? null;
    const sampled = (await sampler?.stop()) ?? null;
    const stages = sampled && withEventLoop(sampled, eventLoop);
    await commits.stop();
    await contender.stop();
    await tally.start();
    if (!(await tally.readToEnd(120_000))) log(`${label}: results not all read in 120 s`);
    log(`${label}: window of ${seconds(window).toFixed(1)} s measured`);

    return {
      ...figures(options, tally.settled, window, cpu),
      backlogRanOut: ranOut,
      stages,
      produceRate,
      eventLoop,
    };
  } finally {
    await commits.stop();
    await contender.stop();
    await tally.close();
  }
}

/**
 * Waits until `end` or until `enough` records were committed, whichever comes first; true if
 * the latter. A contender much faster than the backlog's sizing assumed still gets a window in
 * steady state, between a tenth and nine tenths of the backlog.
 */
async function waitUntil(commits: CommitWatch, end: number, enough: number): Promise<boolean> {
  while (Date.now() < end) {
    if (commits.committed >= enough) return true;
    await Bun.sleep(100);
  }
  return false;
}

function figures(
  options: SaturatedOptions,
  all: Settled[],
  window: Window,
  cpu: CpuShare[],
): Omit<SaturatedResult, 'backlogRanOut' | 'stages' | 'produceRate' | 'eventLoop'> {
  const { workload } = options;
  const inside = all.filter((s) => inWindow(s.appendedAt, window));
  const good = inside.filter(
    (s) => s.result !== null && s.appendedAt <= workload.deadline(workload.indexOf(s.eventId)),
  ).length;
  const deadLetters = inside.filter((s) => s.result === null).length;
  const span = seconds(window);
  // The contender's own processes: Tokenline's workers count when they run apart.
  const contenderMs = cpu
    .filter((c) => c.name === options.kind || c.name === `${options.kind} workers`)
    .reduce((sum, c) => sum + c.ms, 0);

  return {
    kind: options.kind,
    label: options.label,
    window,
    settled: inside.length,
    good,
    deadLetters,
    goodput: good / span,
    throughput: inside.length / span,
    cpuMsPerRecord: inside.length > 0 ? contenderMs / inside.length : Number.NaN,
    cpu,
    accuracy: accuracyOf(workload, all),
  };
}

/** Share of results whose label matches the corpus label; NaN when no result has a label. */
export function accuracyOf(workload: Workload, settled: Settled[]): number {
  let labelled = 0;
  let correct = 0;
  for (const s of settled) {
    const label = s.result?.label;
    if (label === undefined) continue;
    labelled++;
    if (label === workload.label(workload.indexOf(s.eventId))) correct++;
  }
  return labelled > 0 ? correct / labelled : Number.NaN;
}
