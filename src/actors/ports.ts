import type { InferenceOutcome, InferenceRequest } from '../contracts/inference.ts';
import type { ProducedMessage } from '../contracts/output.ts';
import type { SourceRecord } from '../contracts/source-record.ts';
import type { RetryPolicy } from '../policy/retry.ts';

/**
 * What the machines may touch outside themselves. Production wires these to Kafka and
 * BullMQ; machine tests wire them to plain functions and a simulated clock.
 */
export interface RecordPorts {
  /** Runs one inference attempt; aborted through `signal` when the record gives up. */
  infer(request: InferenceRequest, signal: AbortSignal): Promise<InferenceOutcome>;
  /** Resolves once the broker acknowledged the record (output or dead letter). */
  produce(message: ProducedMessage): Promise<void>;
  now(): number;
  random(): number;
  retry: RetryPolicy;
  /** Shared by every record of the replica pool; see RetryBudget. */
  retryBudget: { recordAttempt(): void; tryRetry(): boolean };
  outputTopic: string;
  deadLetterTopic: string;
  modelRevision: string;
  maxValueBytes: number;
  /** Pause after a failed produce before trying again. */
  produceRetryMs: number;
}

export interface CommitRequest {
  topic: string;
  partition: number;
  /** Next offset to consume: the last completed offset plus one. */
  offset: bigint;
  leaderEpoch: number;
}

export interface FetchResult {
  records: SourceRecord[];
  /** Offset to fetch next (after the last record returned, or unchanged when none). */
  nextOffset: bigint;
  /** The partition's end offset as the broker last reported it. */
  highWatermark: bigint;
}

export interface PartitionPorts extends RecordPorts {
  /** Offset to start from: the group's committed offset, else the earliest. */
  startOffset(topic: string, partition: number): Promise<bigint>;
  /** One fetch of this partition alone, long-polling; aborted through `signal`. */
  fetch(
    topic: string,
    partition: number,
    offset: bigint,
    signal: AbortSignal,
  ): Promise<FetchResult>;
  /** Commits a partition's offset for the consumer group. */
  commit(request: CommitRequest): Promise<void>;
  /** True while the shared inference queue is above its high-water mark. */
  queueAboveHighWater(): boolean;
  /** True once the shared inference queue is below its low-water mark. */
  queueBelowLowWater(): boolean;
}
