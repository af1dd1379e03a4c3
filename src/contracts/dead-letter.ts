import type { ErrorInfo } from '../errors.ts';
import type { ProducedMessage } from './output.ts';
import type { SourceRecord } from './source-record.ts';

/** Why a record was dead-lettered. */
export type DeadLetterReason = 'poison' | 'non-retryable' | 'retries-exhausted' | 'deadline';

/** Headers Tokenline adds to a dead letter; the record's own headers come first, unchanged. */
export const deadLetterHeaders = {
  reason: 'tl-dlq-reason',
  errorCode: 'tl-error-code',
  errorMessage: 'tl-error-message',
  attempts: 'tl-attempts',
  sourceTopic: 'tl-source-topic',
  sourcePartition: 'tl-source-partition',
  sourceOffset: 'tl-source-offset',
  sourceTimestamp: 'tl-source-timestamp',
  firstFailure: 'tl-first-failure',
  lastFailure: 'tl-last-failure',
  modelRevision: 'tl-model-revision',
  eventId: 'tl-event-id',
  /** Set when the original value was left out because the dead letter was too large. */
  valueDropped: 'tl-value-dropped-bytes',
} as const;

export interface DeadLetterFacts {
  reason: DeadLetterReason;
  error: ErrorInfo;
  attempts: number;
  eventId: string;
  firstFailureAt: number;
  lastFailureAt: number;
  modelRevision: string;
}

// Header values are bounded so that one huge error message cannot make the dead letter
// itself too large for the topic.
const maxMessageChars = 1_000;

/** Copies key, value and headers of the original and adds the failure's facts as headers. */
export function buildDeadLetterRecord(
  topic: string,
  source: SourceRecord,
  facts: DeadLetterFacts,
  now: number,
  options: { dropValue?: boolean } = {},
): ProducedMessage {
  // Original header keys stay Buffers so that binary or non-UTF-8 keys survive byte for byte.
  const headers = new Map<Buffer, Buffer>(source.headers);
  const add = (name: string, value: string | number) =>
    headers.set(Buffer.from(name), Buffer.from(String(value)));
  add(deadLetterHeaders.reason, facts.reason);
  add(deadLetterHeaders.errorCode, facts.error.code);
  add(deadLetterHeaders.errorMessage, facts.error.message.slice(0, maxMessageChars));
  add(deadLetterHeaders.attempts, facts.attempts);
  add(deadLetterHeaders.sourceTopic, source.topic);
  add(deadLetterHeaders.sourcePartition, source.partition);
  add(deadLetterHeaders.sourceOffset, source.offset.toString());
  add(deadLetterHeaders.sourceTimestamp, source.timestamp.toString());
  add(deadLetterHeaders.firstFailure, facts.firstFailureAt);
  add(deadLetterHeaders.lastFailure, facts.lastFailureAt);
  add(deadLetterHeaders.modelRevision, facts.modelRevision);
  add(deadLetterHeaders.eventId, facts.eventId);

  const message: ProducedMessage = { topic, headers, timestamp: BigInt(now) };
  if (source.key !== undefined) message.key = source.key;
  if (source.value !== undefined && options.dropValue) {
    add(deadLetterHeaders.valueDropped, source.value.length);
  } else if (source.value !== undefined) {
    message.value = source.value;
  }
  return message;
}
