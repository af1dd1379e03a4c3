/**
 * Turns anything a machine holds or sends (contexts, events) into plain JSON that is safe to
 * show an operator: record payloads never leave the process. Bytes, header maps and fields
 * that carry a record's key, value, headers, text or model output are replaced by a marker;
 * a source record shrinks to its coordinates; functions and ports are dropped; bigints become
 * strings. Depth, array length and string length are bounded, so one event cannot make a
 * huge message.
 */
export function redact(value: unknown): unknown {
  return redactValue(value, 0);
}

/** What replaces a payload field. */
export const redactedMarker = '[redacted]';

const maxDepth = 6;
const maxItems = 50;
const maxStringLength = 500;

// Fields that hold a record's payload (or text derived from it) wherever they appear.
const payloadFields = new Set([
  'key',
  'value',
  'headers',
  'text',
  'payload',
  'prompt',
  'messages',
  'body',
]);

// Fields of no use to an operator that would drag whole subsystems into the JSON.
const droppedFields = new Set(['ports', 'partitionInput', 'task', 'now', 'random']);

function redactValue(value: unknown, depth: number): unknown {
  if (value === null || value === undefined) return value ?? null;
  switch (typeof value) {
    case 'string':
      return value.length > maxStringLength ? `${value.slice(0, maxStringLength)}…` : value;
    case 'number':
    case 'boolean':
      return value;
    case 'bigint':
      return value.toString();
    case 'function':
    case 'symbol':
      return undefined;
  }
  if (depth >= maxDepth) return '[…]';
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) {
    return { redacted: 'bytes', length: value.byteLength };
  }
  if (value instanceof Map) return { redacted: 'map', size: value.size };
  if (value instanceof Set) return { redacted: 'set', size: value.size };
  if (value instanceof Error) return { name: value.name, message: value.message };
  if (Array.isArray(value)) return redactArray(value, depth);
  return redactObject(value as Record<string, unknown>, depth);
}

function redactArray(items: unknown[], depth: number): unknown {
  const shown = items.slice(0, maxItems).map((item) => redactValue(item, depth + 1) ?? null);
  return items.length > maxItems ? { items: shown, total: items.length } : shown;
}

function redactObject(object: Record<string, unknown>, depth: number): unknown {
  if (isSourceRecord(object)) {
    const { topic, partition, offset, timestamp } = object;
    return redactValue({ topic, partition, offset, timestamp }, depth);
  }
  // An inference result: its output is the model's answer about the record's text.
  const inferenceResult = 'usage' in object && 'model' in object && 'output' in object;
  const result: Record<string, unknown> = {};
  for (const [field, fieldValue] of Object.entries(object)) {
    if (droppedFields.has(field)) continue;
    if (payloadFields.has(field) || (inferenceResult && field === 'output')) {
      result[field] = redactedMarker;
      continue;
    }
    const shown = redactValue(fieldValue, depth + 1);
    if (shown !== undefined) result[field] = shown;
  }
  return result;
}

function isSourceRecord(object: Record<string, unknown>): object is {
  topic: unknown;
  partition: unknown;
  offset: unknown;
  timestamp: unknown;
} {
  return 'offset' in object && 'partition' in object && ('value' in object || 'headers' in object);
}
