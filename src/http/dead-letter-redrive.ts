import type { Config } from '../config.ts';
import { type DeadLetterReason, deadLetterHeaders } from '../contracts/dead-letter.ts';
import type { ProducedMessage } from '../contracts/output.ts';
import { headerText, inputHeaders, type SourceRecord } from '../contracts/source-record.ts';
import { type BufferProducer, createConsumer } from '../kafka/clients.ts';
import { PartitionSource } from '../kafka/partition-source.ts';

export interface RedriveOptions {
  kafka: Config['kafka'];
  /** The dead-letter topic read from its earliest offset. */
  deadLetterTopic: string;
  /** The input topic the records go back to. */
  inputTopic: string;
  /** Writes the records; acknowledged by the broker before the next batch is read. */
  producer: BufferProducer;
  /** Only dead letters with this `tl-dlq-reason`; all when absent. */
  reason?: DeadLetterReason | undefined;
  /**
   * Leaves out the record's own `deadline` header, so that it gets `task.defaultTtlMs` from
   * its new admission: with its old deadline, a `deadline` dead letter would go straight back.
   */
  dropDeadline?: boolean | undefined;
}

export interface RedriveReport {
  deadLetterTopic: string;
  inputTopic: string;
  reason: DeadLetterReason | null;
  dropDeadline: boolean;
  /** Records written back to the input topic. */
  redriven: number;
  /** Dead letters of another reason, left alone. */
  skipped: number;
  /** Dead letters written without their value (it was too large), which cannot be redriven. */
  valueDropped: number;
  /** Offsets read per dead-letter partition: [fromOffset, toOffset). */
  partitions: Array<{ partition: number; fromOffset: string; toOffset: string }>;
}

const fetchOptions = { maxWaitMs: 100, maxBytes: 1024 * 1024 };
const tlHeaderPrefix = 'tl-';

/**
 * Moves dead letters back to the input topic: every record of the dead-letter topic that is
 * there when the redrive starts (or only those of one reason), partition by partition in
 * offset order, with its original key, value and headers (Tokenline's `tl-*` headers
 * stripped) to the partition it came from. Each batch is acknowledged before the next is read.
 *
 * Kafka cannot delete single records, so the dead letters stay where they are: a second
 * redrive of the same reason sends them again. Their results are keyed by event id, so a
 * record processed twice yields the same output identity.
 */
export async function redriveDeadLetters(options: RedriveOptions): Promise<RedriveReport> {
  const report: RedriveReport = {
    deadLetterTopic: options.deadLetterTopic,
    inputTopic: options.inputTopic,
    reason: options.reason ?? null,
    dropDeadline: options.dropDeadline ?? false,
    redriven: 0,
    skipped: 0,
    valueDropped: 0,
    partitions: [],
  };
  // A group of its own that never commits: its start offset is always the earliest.
  const consumer = createConsumer({
    ...options.kafka,
    groupId: `${options.kafka.groupId}.redrive`,
  });
  const source = new PartitionSource(consumer);
  try {
    const ends = (await consumer.listOffsets({ topics: [options.deadLetterTopic] })).get(
      options.deadLetterTopic,
    );
    const inputPartitions = await partitionCount(options.producer, options.inputTopic);
    for (const [partition, end] of (ends ?? []).entries()) {
      const from = await source.startOffset(options.deadLetterTopic, partition);
      report.partitions.push({ partition, fromOffset: from.toString(), toOffset: end.toString() });
      await redrivePartition(source, options, { partition, from, end, inputPartitions }, report);
    }
  } finally {
    await source.close().catch(() => undefined);
    await consumer.close(true).catch(() => undefined);
  }

  return report;
}

interface PartitionRange {
  partition: number;
  from: bigint;
  end: bigint;
  inputPartitions: number;
}

async function redrivePartition(
  source: PartitionSource,
  options: RedriveOptions,
  range: PartitionRange,
  report: RedriveReport,
): Promise<void> {
  let offset = range.from;
  while (offset < range.end) {
    const fetched = await source.fetch(
      options.deadLetterTopic,
      range.partition,
      offset,
      fetchOptions,
    );
    const batch: ProducedMessage[] = [];
    for (const record of fetched.records) {
      if (record.offset >= range.end) break;
      const message = redriveMessage(record, options, range.inputPartitions, report);
      if (message) batch.push(message);
    }
    if (batch.length > 0) await options.producer.send({ messages: batch });
    report.redriven += batch.length;

    // Offsets can have gaps (transaction markers, compaction); no progress means nothing left.
    if (fetched.nextOffset <= offset) break;
    offset = fetched.nextOffset;
  }
}

function redriveMessage(
  record: SourceRecord,
  options: RedriveOptions,
  inputPartitions: number,
  report: RedriveReport,
): ProducedMessage | null {
  if (options.reason && headerText(record.headers, deadLetterHeaders.reason) !== options.reason) {
    report.skipped++;
    return null;
  }
  if (headerText(record.headers, deadLetterHeaders.valueDropped) !== undefined) {
    report.valueDropped++;
    return null;
  }
  const headers = new Map<Buffer, Buffer>();
  for (const [key, value] of record.headers) {
    const name = key.toString('latin1');
    if (name.startsWith(tlHeaderPrefix)) continue;
    if (options.dropDeadline && name === inputHeaders.deadline) continue;
    headers.set(key, value);
  }
  const message: ProducedMessage = { topic: options.inputTopic, headers };
  if (record.key !== undefined) message.key = record.key;
  if (record.value !== undefined) message.value = record.value;
  // Back to the partition it came from, so its key keeps its place in the per-key order.
  const partition = Number(headerText(record.headers, deadLetterHeaders.sourcePartition));
  if (Number.isInteger(partition) && partition >= 0 && partition < inputPartitions) {
    message.partition = partition;
  }
  return message;
}

async function partitionCount(producer: BufferProducer, topic: string): Promise<number> {
  const metadata = await producer.metadata({ topics: [topic] });
  return metadata.topics.get(topic)?.partitionsCount ?? 0;
}
