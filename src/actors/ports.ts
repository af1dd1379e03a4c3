import type { InferenceOutcome, InferenceRequest } from '../contracts/inference.ts';
import type { ProducedMessage } from '../contracts/output.ts';
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

export interface PartitionPorts extends RecordPorts {
  /** Commits a partition's offset for the consumer group. */
  commit(request: CommitRequest): Promise<void>;
}
