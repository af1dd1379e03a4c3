import type { KafkaRecord, RecordsBatch } from '@platformatic/kafka';
import type { SourceRecord } from '../contracts/source-record.ts';

/** A transaction the broker reports as aborted in a read_committed fetch. */
export interface AbortedTransaction {
  producerId: bigint;
  firstOffset: bigint;
}

export interface DecodedRecords {
  records: SourceRecord[];
  /** Offset after the last batch seen (control and aborted ones included), else `fromOffset`. */
  nextOffset: bigint;
}

// Attribute bits of a record batch (message format v2).
const logAppendTimeBit = 1 << 3;
const transactionalBit = 1 << 4;
const controlBit = 1 << 5;
// The key of a control record is int16 version, int16 type; type 0 marks an abort.
const abortMarkerType = 0;

/**
 * Turns the record batches of one partition's fetch response into source records.
 *
 * - The broker answers with whole batches, so the first one can start before `fromOffset`:
 *   records below it are dropped.
 * - Control batches (transaction markers) carry no data and are dropped, but still advance
 *   `nextOffset`, otherwise a partition ending in a marker would be fetched forever.
 * - With `aborted` (a read_committed fetch), batches of aborted transactions are dropped the
 *   way Kafka's own consumer does it: a producer's batches are skipped from the first offset
 *   of its aborted transaction until that producer's abort marker.
 * - Keys, values and headers are copied out of the response buffer. A slice would keep the
 *   whole response (up to maxBytes) alive for as long as any one of its records sits in a
 *   partition's window, so memory would grow with window × maxBytes instead of record sizes.
 */
export function decodeRecordBatches(
  topic: string,
  partition: number,
  batches: readonly RecordsBatch[],
  fromOffset: bigint,
  aborted: readonly AbortedTransaction[] | null,
): DecodedRecords {
  const records: SourceRecord[] = [];
  const filter = aborted && aborted.length > 0 ? new AbortedFilter(aborted) : null;
  let nextOffset = fromOffset;

  for (const batch of batches) {
    const lastOffset = batch.firstOffset + BigInt(batch.lastOffsetDelta);
    if (lastOffset >= nextOffset) nextOffset = lastOffset + 1n;
    if (filter?.skips(batch, lastOffset) || (batch.attributes & controlBit) !== 0) continue;
    for (const record of batch.records) {
      const offset = batch.firstOffset + BigInt(record.offsetDelta);
      if (offset >= fromOffset)
        records.push(toSourceRecord(topic, partition, batch, record, offset));
    }
  }

  return { records, nextOffset };
}

function toSourceRecord(
  topic: string,
  partition: number,
  batch: RecordsBatch,
  record: KafkaRecord,
  offset: bigint,
): SourceRecord {
  const headers = new Map<Buffer, Buffer>();
  // A Map keyed by Buffer objects keeps repeated header keys as separate entries, in order.
  // The contract has no null header value; Kafka allows one, and it arrives as empty bytes.
  for (const [key, value] of record.headers) headers.set(copy(key), copy(value));
  const logAppendTime = (batch.attributes & logAppendTimeBit) !== 0;

  return {
    topic,
    partition,
    offset,
    // With LogAppendTime the broker stamps the batch, not each record: maxTimestamp holds it.
    timestamp: logAppendTime ? batch.maxTimestamp : batch.firstTimestamp + record.timestampDelta,
    // The epoch of the leader that wrote the batch, which is what an offset commit carries.
    leaderEpoch: batch.partitionLeaderEpoch,
    key: record.key === null ? undefined : copy(record.key),
    value: record.value === null ? undefined : copy(record.value),
    headers,
  };
}

function copy(bytes: Buffer | null): Buffer {
  return bytes === null ? Buffer.alloc(0) : Buffer.from(bytes);
}

/** Tracks which producers are inside an aborted transaction while batches go by in order. */
class AbortedFilter {
  readonly #pending: AbortedTransaction[];
  readonly #open = new Set<bigint>();

  constructor(aborted: readonly AbortedTransaction[]) {
    this.#pending = [...aborted].sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : 1));
  }

  /** True when the batch belongs to an aborted transaction or is that transaction's marker. */
  skips(batch: RecordsBatch, lastOffset: bigint): boolean {
    if ((batch.attributes & transactionalBit) === 0) return false;
    while (this.#pending.length > 0 && (this.#pending[0]?.firstOffset ?? 0n) <= lastOffset) {
      this.#open.add((this.#pending.shift() as AbortedTransaction).producerId);
    }
    if ((batch.attributes & controlBit) !== 0) {
      if (isAbortMarker(batch)) this.#open.delete(batch.producerId);
      return true;
    }
    return this.#open.has(batch.producerId);
  }
}

function isAbortMarker(batch: RecordsBatch): boolean {
  const key = batch.records[0]?.key;
  return (
    key !== null && key !== undefined && key.length >= 4 && key.readInt16BE(2) === abortMarkerType
  );
}
