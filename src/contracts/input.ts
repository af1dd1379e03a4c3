import type { Config } from '../config.ts';
import { type ErrorInfo, errorCodes } from '../errors.ts';
import { coordinates, headerText, inputHeaders, type SourceRecord } from './source-record.ts';

/** What a record means to the task, once decoded. */
export interface DecodedRecord {
  eventId: string;
  text: string;
  /** Epoch ms after which the record is dead-lettered instead of retried. */
  deadline: number;
  traceparent: string | undefined;
}

export type DecodeResult =
  | { ok: true; record: DecodedRecord }
  | { ok: false; eventId: string; deadline: number; error: ErrorInfo };

type TaskConfig = Config['task'];

const utf8 = new TextDecoder('utf-8', { fatal: true });
/** Half of a UTF-16 surrogate pair without its other half. */
const loneSurrogate = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Reads a record per the task configuration. Never throws: a record that cannot be read
 * comes back as a decode error, which the partition actor sends to the dead-letter topic.
 */
export function decodeRecord(source: SourceRecord, task: TaskConfig, now: number): DecodeResult {
  const deadline = readDeadline(source, task, now);
  const headerId = headerText(source.headers, inputHeaders.eventId);
  const fallbackId = headerId || coordinates(source);
  const poison = (message: string): DecodeResult => ({
    ok: false,
    eventId: fallbackId,
    deadline,
    error: { code: errorCodes.decode, message, retryable: false },
  });

  const value = source.value;
  if (value === undefined || value === null) return poison('value is null (tombstone)');
  if (value.length === 0) return poison('value is empty');
  if (value.length > task.maxValueBytes) {
    return poison(`value is ${value.length} bytes, over task.maxValueBytes ${task.maxValueBytes}`);
  }
  let text: string;
  try {
    text = utf8.decode(value);
  } catch {
    return poison('value is not valid UTF-8');
  }
  if (task.valueFormat === 'text') {
    return {
      ok: true,
      record: { eventId: fallbackId, text, deadline, traceparent: trace(source) },
    };
  }
  return decodeJson(text, source, task, { headerId, fallbackId, deadline, poison });
}

interface JsonContext {
  headerId: string | undefined;
  fallbackId: string;
  deadline: number;
  poison: (message: string) => DecodeResult;
}

function decodeJson(
  text: string,
  source: SourceRecord,
  task: TaskConfig,
  context: JsonContext,
): DecodeResult {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return context.poison(`value is not JSON: ${(error as Error).message}`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return context.poison('value is JSON but not an object');
  }
  const fields = parsed as Record<string, unknown>;
  const body = fields[task.textField];
  if (typeof body !== 'string') {
    return context.poison(`field "${task.textField}" is missing or not a string`);
  }
  const fieldId = fields[task.idField];
  if (!context.headerId && typeof fieldId === 'string' && loneSurrogate.test(fieldId)) {
    // JSON's \ud800 escapes can spell one; no header, job id or log line can carry it.
    return context.poison(`field "${task.idField}" is not valid Unicode (a lone surrogate)`);
  }
  const eventId =
    context.headerId ||
    (typeof fieldId === 'string' || typeof fieldId === 'number' ? String(fieldId) : '') ||
    context.fallbackId;

  return {
    ok: true,
    record: { eventId, text: body, deadline: context.deadline, traceparent: trace(source) },
  };
}

// A `deadline` header wins; otherwise the record gets the task's time-to-live from the moment
// it is admitted, so that a backlog waiting in Kafka is not dead-lettered for having waited.
function readDeadline(source: SourceRecord, task: TaskConfig, now: number): number {
  const header = headerText(source.headers, inputHeaders.deadline);
  const parsed = header === undefined ? Number.NaN : Number(header);
  return Number.isFinite(parsed) && parsed > 0 ? parsed : now + task.defaultTtlMs;
}

function trace(source: SourceRecord): string | undefined {
  return headerText(source.headers, inputHeaders.traceparent);
}
