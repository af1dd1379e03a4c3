import type { CommitWatch } from './commit-watch.ts';
import type { JobTimes } from './job-times.ts';
import { type Distribution, distribution } from './stats.ts';
import type { KeyedInput, Settled } from './tally.ts';

/** One record's path through the pipeline, as times (epoch ms) from the broker and Redis. */
export interface RecordPath {
  /** Input record appended to the input topic. */
  inputAt: number;
  /** Inference job created (BullMQ `timestamp`): fetched, admitted, its key's turn come. */
  enqueuedAt: number;
  /** A worker took the job (`processedOn`). */
  takenAt: number;
  /** The worker finished the job (`finishedOn`). */
  finishedAt: number;
  /** The replica call as the worker timed it, ms. */
  serviceMs: number;
  /** The record actor built the result: input time plus the result's endToEndMs. */
  builtAt: number;
  /** The result appended to the output topic. */
  outputAt: number;
  /** The group's committed offset first seen past the record; NaN when never seen. */
  committedAt: number;
  /**
   * When the record before it with the same key had its result or dead letter appended: in
   * `key` order the record may not start before that. NaN when it had no such record.
   */
  keyFreeAt: number;
  /**
   * What an ideal pipeline would add to this record on the same input: one that costs nothing
   * but the replica's service time, with a free slot for every record, keeping key order.
   */
  floorMs: number;
}

/** The segments of end-to-end latency, each a distribution over the records, ms. */
export type LatencySplit = Record<SegmentName, Distribution>;

export type SegmentName =
  | 'endToEnd'
  | 'added'
  | 'addedBeyondCall'
  | 'floor'
  | 'addedKeyFree'
  | 'keyWait'
  | 'fetch'
  | 'fetchBeyondKey'
  | 'queue'
  | 'service'
  | 'worker'
  | 'results'
  | 'produce'
  | 'commit';

export const segmentLabels: Record<SegmentName, string> = {
  endToEnd: 'end to end (input appended → result appended)',
  added: 'added by Tokenline (end to end − the replica’s service time)',
  addedBeyondCall: 'added beyond the call (end to end − worker-timed replica call)',
  floor:
    'added by an ideal pipeline in key order (one record of a key after another, service time only, a slot always free)',
  addedKeyFree: 'added by Tokenline, records whose key was free when appended',
  keyWait:
    'key order (appended → the same key’s previous result appended, Tokenline’s time on that record included; 0 if it was)',
  fetch: 'Kafka fetch + actor (appended → job enqueued)',
  fetchBeyondKey: 'Kafka fetch + actor beyond key order (key free or appended → job enqueued)',
  queue: 'queue (enqueued → taken by a worker)',
  service: 'replica call (worker-timed)',
  worker: 'worker overhead (taken → finished − service)',
  results: 'result delivery (job finished → result built)',
  produce: 'produce (result built → appended)',
  commit: 'commit (result appended → offset committed)',
};

/** Joins what the tally, the commit watch and the job hashes say of each result. */
export function recordPaths(
  results: Settled[],
  inputAt: Map<string, number>,
  jobs: Array<JobTimes | undefined>,
  commits: CommitWatch,
  keyFree: Map<string, number>,
  floors: Map<string, number>,
): RecordPath[] {
  const paths: RecordPath[] = [];
  results.forEach((settled, index) => {
    const job = jobs[index];
    const input = inputAt.get(settled.eventId);
    const result = settled.result;
    if (!job || input === undefined || !result) return;
    paths.push({
      inputAt: input,
      enqueuedAt: job.createdAt,
      takenAt: job.processedAt,
      finishedAt: job.finishedAt,
      serviceMs: result.timings.serviceMs,
      builtAt: input + result.timings.endToEndMs,
      outputAt: settled.appendedAt,
      committedAt: commits.committedAt(settled.sourcePartition, settled.sourceOffset),
      keyFreeAt: keyFree.get(settled.eventId) ?? Number.NaN,
      floorMs: floors.get(settled.eventId) ?? 0,
    });
  });
  return paths;
}

/**
 * For each keyed input record, when the record before it with the same key (same partition,
 * offset order) first had its result or dead letter appended; records with no earlier record
 * of their key, or whose earlier record never settled, are left out.
 */
export function keyFreeTimes(keyed: KeyedInput[], settled: Settled[]): Map<string, number> {
  const settledAt = new Map<string, number>();
  for (const x of settled) {
    const at = settledAt.get(x.eventId);
    if (at === undefined || x.appendedAt < at) settledAt.set(x.eventId, x.appendedAt);
  }
  const previous = new Map<string, string>();
  const free = new Map<string, number>();
  for (const { eventId, key, partition } of keyed) {
    const group = keyGroup(partition, key);
    const before = previous.get(group);
    const at = before === undefined ? undefined : settledAt.get(before);
    if (at !== undefined) free.set(eventId, at);
    previous.set(group, eventId);
  }
  return free;
}

/**
 * The added latency of each keyed record under an ideal pipeline on the same input: every
 * record takes exactly `serviceTimeMs` once it starts, a slot is always free, and a record
 * starts when it is appended or when its key's previous record ends, whichever is later.
 * With per-key order this is the least any pipeline can add; records without a key add 0.
 */
export function keyOrderFloor(
  keyed: KeyedInput[],
  inputAt: Map<string, number>,
  serviceTimeMs: number,
): Map<string, number> {
  const ends = new Map<string, number>();
  const floors = new Map<string, number>();
  for (const { eventId, key, partition } of keyed) {
    const at = inputAt.get(eventId);
    if (at === undefined) continue;
    const group = keyGroup(partition, key);
    const start = Math.max(at, ends.get(group) ?? at);
    ends.set(group, start + serviceTimeMs);
    floors.set(eventId, start - at);
  }
  return floors;
}

/** How long the record waited for its key's previous record, ms (0 when the key was free). */
export function keyWait(p: RecordPath): number {
  return Number.isFinite(p.keyFreeAt) ? Math.max(0, p.keyFreeAt - p.inputAt) : 0;
}

/** Segment distributions; `serviceTimeMs` is the replica's configured service time. */
export function splitLatency(paths: RecordPath[], serviceTimeMs: number): LatencySplit {
  const of = (segment: (p: RecordPath) => number, which: RecordPath[] = paths) =>
    distribution(which.map(segment).filter(Number.isFinite));
  const keyFree = paths.filter((p) => keyWait(p) === 0);
  return {
    endToEnd: of((p) => p.outputAt - p.inputAt),
    added: of((p) => p.outputAt - p.inputAt - serviceTimeMs),
    addedBeyondCall: of((p) => p.outputAt - p.inputAt - p.serviceMs),
    floor: of((p) => p.floorMs),
    addedKeyFree: of((p) => p.outputAt - p.inputAt - serviceTimeMs, keyFree),
    keyWait: of(keyWait),
    fetch: of((p) => p.enqueuedAt - p.inputAt),
    fetchBeyondKey: of((p) => p.enqueuedAt - p.inputAt - keyWait(p)),
    queue: of((p) => p.takenAt - p.enqueuedAt),
    service: of((p) => p.serviceMs),
    worker: of((p) => p.finishedAt - p.takenAt - p.serviceMs),
    results: of((p) => p.builtAt - p.finishedAt),
    produce: of((p) => p.outputAt - p.builtAt),
    commit: of((p) => p.committedAt - p.outputAt),
  };
}

/** Key order holds within a partition: the records of one key in one partition. */
function keyGroup(partition: number, key: string): string {
  return `${partition}/${key}`;
}
