import { Queue } from 'bullmq';
import type { EventLoopShare } from './cpu-budget.ts';
import type { Replicas } from './replicas.ts';
import { redisPrefix, redisUrl } from './resources.ts';
import { mean } from './stats.ts';
import type { ActorView, TokenlineProcess } from './tokenline.ts';

/** Records that sat in each stage of the pipeline at one moment. */
export interface StageSample {
  /** In the input topic past the fetch position: not fetched yet (what the backlog is). */
  kafka: number;
  /** Held by a partition actor but not started: waiting behind an earlier record of the key. */
  actor: number;
  /** Jobs in BullMQ's wait list: enqueued, not yet taken by a worker. */
  queue: number;
  /** Jobs a worker took (BullMQ active) that are not at the replica. */
  worker: number;
  /** Requests at the replica: holding a slot or waiting for one. */
  replica: number;
  /** Jobs finished whose result has not reached their record actor yet. */
  results: number;
  /** Records whose result or dead letter is being produced. */
  produce: number;
  /** Records settled and released but whose offset is not committed yet. */
  commit: number;
  /** Records held by all partition actors, and the room they have. */
  held: number;
  window: number;
  /** Partition actors paused, by reason. */
  paused: Record<string, number>;
  partitions: number;
  replicaSlots: number;
}

export type StageName =
  | 'kafka'
  | 'actor'
  | 'queue'
  | 'worker'
  | 'replica'
  | 'results'
  | 'produce'
  | 'commit';

export const stageNames: StageName[] = [
  'kafka',
  'actor',
  'queue',
  'worker',
  'replica',
  'results',
  'produce',
  'commit',
];

/** Mean records per stage over the samples, and where the queue is. */
export interface StageReport {
  samples: number;
  means: Record<StageName, number>;
  /** Mean of held records over the window size of all partitions. */
  windowFill: number;
  /** Share of samples in which the partition actors were paused, by reason. */
  pausedShare: Record<string, number>;
  /** Mean replica slots in use over all slots. */
  replicaBusy: number;
  owner: string;
}

/**
 * Samples the stages of a running Tokenline once a second: its HTTP API (partition actors
 * and their record actors, the inference queue depth), the BullMQ lists in Redis, and the
 * replicas' own counters. The figures are the records that sit in each stage.
 */
export class StageSampler {
  readonly samples: StageSample[] = [];
  readonly #service: TokenlineProcess;
  readonly #replicas: Replicas;
  readonly #queue: Queue;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #running = false;

  constructor(service: TokenlineProcess, replicas: Replicas, queueName: string) {
    this.#service = service;
    this.#replicas = replicas;
    this.#queue = new Queue(queueName, { connection: { url: redisUrl }, prefix: redisPrefix });
  }

  start(intervalMs = 1_000): void {
    this.#running = true;
    const tick = async () => {
      if (!this.#running) return;
      const sample = await this.sample().catch(() => null);
      if (sample) this.samples.push(sample);
      if (this.#running) this.#timer = setTimeout(() => void tick(), intervalMs);
    };
    void tick();
  }

  async stop(): Promise<StageReport> {
    this.#running = false;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#queue.close();
    return summarize(this.samples);
  }

  async sample(): Promise<StageSample> {
    const [metrics, actors, counts, replicaStats] = await Promise.all([
      this.#service.metrics(),
      this.#service.actors(),
      this.#queue.getJobCounts('waiting', 'active', 'prioritized'),
      this.#replicas.stats(),
    ]);
    const partitions = actors.filter((a) => a.kind === 'partition');
    const details = await Promise.all(partitions.map((p) => this.#detail(p.id)));
    const atReplica = replicaStats.reduce((n, s) => n + s.inFlight + s.queued, 0);
    const depth = metrics.get('tokenline_inference_queue_depth') ?? 0;
    const waiting = (counts.waiting ?? 0) + (counts.prioritized ?? 0);
    const active = counts.active ?? 0;

    return {
      ...heldRecords(partitions, details),
      queue: waiting,
      worker: Math.max(0, active - atReplica),
      replica: atReplica,
      results: Math.max(0, depth - waiting - active),
      partitions: partitions.length,
      replicaSlots: replicaStats.reduce((n, s) => n + s.slots, 0),
    };
  }

  async #detail(id: string): Promise<PartitionDetail> {
    const response = await fetch(`${this.#service.url}/actors/${encodeURIComponent(id)}`);
    return (await response.json()) as PartitionDetail;
  }
}

interface PartitionDetail {
  childCount: number;
  children: ActorView[];
}

type HeldFigures = Pick<
  StageSample,
  'kafka' | 'actor' | 'produce' | 'commit' | 'held' | 'window' | 'paused'
>;

function heldRecords(partitions: ActorView[], details: PartitionDetail[]): HeldFigures {
  const figures: HeldFigures = {
    kafka: 0,
    actor: 0,
    produce: 0,
    commit: 0,
    held: 0,
    window: 0,
    paused: {},
  };
  partitions.forEach((partition, index) => {
    const context = partition.context as unknown as PartitionFigures;
    const detail = details[index] ?? { childCount: 0, children: [] };
    figures.kafka += offsetGap(context.highWatermark, context.fetchOffset);
    figures.held += context.inFlight;
    figures.window += context.window;
    figures.actor += Math.max(0, context.inFlight - detail.childCount);
    figures.produce += producing(detail);
    figures.commit += offsetGap(context.completedOffset, context.committedOffset);
    if (context.pausedBy) {
      figures.paused[context.pausedBy] = (figures.paused[context.pausedBy] ?? 0) + 1;
    }
  });
  return figures;
}

interface PartitionFigures {
  highWatermark: string | null;
  fetchOffset: string | null;
  inFlight: number;
  window: number;
  pausedBy: string | null;
  completedOffset: string | null;
  committedOffset: string | null;
}

const producingStates = ['emitting', 'emitBackoff', 'deadLettering', 'deadLetterBackoff'];

/** Record actors producing, scaled up from the first hundred the API lists. */
function producing(detail: PartitionDetail): number {
  const shown = detail.children.length;
  if (shown === 0) return 0;
  const count = detail.children.filter((c) =>
    c.activeStates.some((s) => producingStates.includes(s)),
  ).length;
  return (count * detail.childCount) / shown;
}

/** `to - from` of two offsets as the API shows them; 0 when either is unknown. */
function offsetGap(to: string | null, from: string | null): number {
  if (to === null || from === null) return 0;
  return Math.max(0, Number(BigInt(to) - BigInt(from)));
}

/** Means over the samples, and the stage that owns the queue. */
export function summarize(samples: StageSample[]): StageReport {
  const means = Object.fromEntries(
    stageNames.map((name) => [name, mean(samples.map((s) => s[name]))]),
  ) as Record<StageName, number>;
  const reasons = new Set(samples.flatMap((s) => Object.keys(s.paused)));
  const pausedShare: Record<string, number> = {};
  for (const reason of reasons) {
    pausedShare[reason] = mean(samples.map((s) => (s.paused[reason] ?? 0) / (s.partitions || 1)));
  }
  const windowFill = mean(samples.map((s) => s.held / (s.window || 1)));
  const replicaBusy = mean(
    samples.map((s) => Math.min(s.replica, s.replicaSlots) / s.replicaSlots),
  );
  const report = { samples: samples.length, means, windowFill, pausedShare, replicaBusy };

  return { ...report, owner: ownerOf(report) };
}

/**
 * The stage that owns the queue. At the physical limit the replica's slots are all busy and
 * the queue waits in front of them, where it should. When the partition actors fetch most of
 * the time (not paused by their window or the queue's high water), records waiting in Kafka
 * mean intake (fetch) does not bring them in fast enough, and none mean the pipeline keeps up
 * with its input. Otherwise it is the stage inside the service where the most records wait.
 * Uncommitted offsets are reported but never own the queue: a settled record leaves the
 * window before its offset is committed.
 */
function ownerOf(report: Omit<StageReport, 'owner'>): string {
  if (report.samples === 0) return 'unknown (no samples)';
  if (report.replicaBusy >= 0.9) return 'replica (at its bound)';
  const { window = 0, queue = 0 } = report.pausedShare;
  if (window + queue < 0.5) {
    return report.means.kafka > report.means.replica ? 'fetch' : 'none (keeps up with its input)';
  }
  const waiting = stageNames
    .filter((name) => !['kafka', 'replica', 'commit'].includes(name))
    .map((name) => [name, report.means[name]] as const)
    .sort((a, b) => b[1] - a[1]);
  return waiting[0]?.[0] ?? 'none';
}

/**
 * When the service's main thread was runnable nearly all the window (on a CPU or waiting for
 * one), every stage waits on that one thread: the event loop owns the queue, and the stage
 * figures only say where the records it has not got to yet sit.
 */
export function withEventLoop(report: StageReport, loop: EventLoopShare | null): StageReport {
  if (!loop || loop.running + loop.waiting < 0.9) return report;
  const busy = `on a CPU ${Math.round(loop.running * 100)} %, waiting for one ${Math.round(loop.waiting * 100)} %`;
  // Keeping up, a busy loop owns no queue; it still lengthens every record's path.
  if (report.owner.startsWith('none')) {
    return { ...report, owner: `${report.owner}; the service's event loop was busy (${busy})` };
  }
  return {
    ...report,
    owner: `the service's event loop (${busy}); records pile up in: ${report.owner}`,
  };
}
