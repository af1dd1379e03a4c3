import { protocolErrorsCodesById } from '@platformatic/kafka';
import { errorCodes, TokenlineError } from '../errors.ts';

/** What a partition's error code in a fetch answer calls for. */
export type Verdict = 'ok' | 'out-of-range' | 'stale' | 'fatal';

/** Partition errors that mean our metadata is behind: refresh it and ask the new leader. */
const staleMetadataErrors = new Set([
  'NOT_LEADER_OR_FOLLOWER',
  'LEADER_NOT_AVAILABLE',
  'FENCED_LEADER_EPOCH',
  'UNKNOWN_LEADER_EPOCH',
  'REPLICA_NOT_AVAILABLE',
  'KAFKA_STORAGE_ERROR',
  'OFFSET_NOT_AVAILABLE',
  'UNKNOWN_TOPIC_OR_PARTITION',
  'UNKNOWN_TOPIC_ID',
  'INCONSISTENT_TOPIC_ID',
]);

/** A fetch that failed; `retryable` says whether asking again later may succeed. */
export class PartitionFetchError extends TokenlineError {
  /** Kafka's name of the error (e.g. NOT_LEADER_OR_FOLLOWER); null for a client-side failure. */
  readonly kafkaError: string | null;

  constructor(retryable: boolean, message: string, kafkaError: string | null, cause?: unknown) {
    super(retryable ? errorCodes.connection : errorCodes.internal, message, { cause });
    this.name = 'PartitionFetchError';
    this.kafkaError = kafkaError;
  }
}

export function classify(errorCode: number): Verdict {
  if (errorCode === 0) return 'ok';
  const name = errorName(errorCode);
  if (name === 'OFFSET_OUT_OF_RANGE') return 'out-of-range';
  return staleMetadataErrors.has(name) ? 'stale' : 'fatal';
}

export function errorName(errorCode: number): string {
  return protocolErrorsCodesById[errorCode] ?? `error ${errorCode}`;
}
