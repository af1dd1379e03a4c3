/** A record as fetched from the input topic, bytes untouched so a dead letter can copy it. */
export interface SourceRecord {
  topic: string;
  partition: number;
  offset: bigint;
  /** CreateTime or LogAppendTime of the record, epoch ms. */
  timestamp: bigint;
  leaderEpoch: number;
  key: Buffer | undefined;
  value: Buffer | undefined;
  headers: Map<Buffer, Buffer>;
}

/** Input headers Tokenline reads. */
export const inputHeaders = {
  eventId: 'event-id',
  deadline: 'deadline',
  traceparent: 'traceparent',
} as const;

export function headerText(headers: Map<Buffer, Buffer>, name: string): string | undefined {
  for (const [key, value] of headers) {
    if (key.toString('latin1') === name) return value.toString('utf8');
  }
  return undefined;
}

export function coordinates(record: SourceRecord): string {
  return `${record.topic}/${record.partition}/${record.offset}`;
}
