import type { MessageToProduce } from '@platformatic/kafka';
import type { InferenceResult } from './inference.ts';
import type { DecodedRecord } from './input.ts';
import type { SourceRecord } from './source-record.ts';

/** Headers of a result record. */
export const outputHeaders = {
  eventId: 'event-id',
  modelRevision: 'model-revision',
  sourceTopic: 'source-topic',
  sourcePartition: 'source-partition',
  sourceOffset: 'source-offset',
  traceparent: 'traceparent',
} as const;

/** The JSON value of a result record. */
export interface OutputValue {
  eventId: string;
  output: unknown;
  model: string;
  revision: string;
  usage: InferenceResult['usage'];
  attempts: number;
  timings: { queueMs: number; serviceMs: number; endToEndMs: number };
  source: { topic: string; partition: number; offset: string };
}

export type ProducedMessage = MessageToProduce<Buffer, Buffer, Buffer, Buffer>;

/** Header names as bytes, made once: every result record carries them. */
const headerName = Object.fromEntries(
  Object.entries(outputHeaders).map(([field, name]) => [field, Buffer.from(name)]),
) as Record<keyof typeof outputHeaders, Buffer>;

/**
 * Builds the result record. Its identity is the event id: the same input processed twice
 * carries the same key, event id and source coordinates, so a sink can drop the second.
 */
export function buildOutputRecord(
  topic: string,
  source: SourceRecord,
  record: DecodedRecord,
  result: InferenceResult,
  attempts: number,
  now: number,
): ProducedMessage {
  const value: OutputValue = {
    eventId: record.eventId,
    output: result.output,
    model: result.model,
    revision: result.revision,
    usage: result.usage,
    attempts,
    timings: {
      queueMs: result.queueMs,
      serviceMs: result.serviceMs,
      endToEndMs: Math.max(0, now - Number(source.timestamp)),
    },
    source: { topic: source.topic, partition: source.partition, offset: source.offset.toString() },
  };
  const headers = new Map<Buffer, Buffer>();
  const add = (name: Buffer, text: string) => headers.set(name, Buffer.from(text));
  add(headerName.eventId, record.eventId);
  add(headerName.modelRevision, result.revision);
  add(headerName.sourceTopic, source.topic);
  add(headerName.sourcePartition, String(source.partition));
  add(headerName.sourceOffset, source.offset.toString());
  if (record.traceparent) add(headerName.traceparent, record.traceparent);

  const message: ProducedMessage = { topic, value: Buffer.from(JSON.stringify(value)), headers };
  if (source.key !== undefined) message.key = source.key;
  return message;
}
