import type { ProducedMessage } from './output.ts';

// Per-record framing in a v2 record batch: length, attributes, deltas and varint lengths,
// plus the batch header when the record travels alone. An upper bound, not an exact count.
const recordOverheadBytes = 128;

/** Upper bound of the bytes a message occupies in a produce request. */
export function messageSize(message: ProducedMessage): number {
  let size = recordOverheadBytes + (message.key?.length ?? 0) + (message.value?.length ?? 0);
  const headers = message.headers;
  if (headers instanceof Map) {
    for (const [key, value] of headers) size += key.length + value.length + 10;
  }
  return size;
}
