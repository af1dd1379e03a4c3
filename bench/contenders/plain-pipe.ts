/**
 * The most this broker and this Kafka client move here, for the orchestration-cost scenario:
 * consume, write a small result per record, commit — no inference, no actors, no queue.
 * Results are batched (up to 500, or whatever arrived while the previous batch was being
 * acknowledged) and offsets are committed once their batch is durable, the same durability
 * order Tokenline keeps.
 *
 *   bun bench/contenders/plain-pipe.ts '{"brokers":[...],"groupId":"…","input":"…","output":"…"}'
 *
 * Prints "ready" once it is a member of its group; stops on SIGTERM.
 */
import {
  Consumer,
  type Message,
  type MessageToProduce,
  ProduceAcks,
  Producer,
} from '@platformatic/kafka';

interface PipeOptions {
  brokers: string[];
  groupId: string;
  input: string;
  output: string;
}

type BufferMessage = Message<Buffer, Buffer, Buffer, Buffer>;

const maxBatch = 500;
/** Records held unacknowledged before the stream is paused. */
const maxHeld = 5_000;

const options = JSON.parse(process.argv[2] ?? '{}') as PipeOptions;
const consumer = new Consumer({
  clientId: 'bench-pipe',
  groupId: options.groupId,
  bootstrapBrokers: options.brokers,
  autocommit: false,
});
const producer = new Producer({
  clientId: 'bench-pipe',
  bootstrapBrokers: options.brokers,
  acks: ProduceAcks.ALL,
});
let held: BufferMessage[] = [];
let sending = false;

process.once('SIGTERM', () => {
  void consumer.close(true).finally(() => process.exit(0));
});

const stream = await consumer.consume({ topics: [options.input], mode: 'earliest' });
console.log('ready');
stream.on('data', (message: BufferMessage) => {
  held.push(message);
  if (held.length >= maxHeld) stream.pause();
  if (!sending) void sendHeld();
});

async function sendHeld(): Promise<void> {
  sending = true;
  while (held.length > 0) {
    const batch = held.slice(0, maxBatch);
    held = held.slice(batch.length);
    if (stream.isPaused() && held.length < maxHeld / 2) stream.resume();
    try {
      await producer.send({ messages: batch.map(resultOf) });
      await Promise.all(lastOfEachPartition(batch).map((m) => m.commit()));
    } catch (error) {
      console.error(`batch failed: ${(error as Error).message}`);
    }
  }
  sending = false;
}

function resultOf(message: BufferMessage): MessageToProduce<Buffer, Buffer, Buffer, Buffer> {
  const value = {
    eventId: headerOf(message.headers, 'event-id') ?? `${message.partition}/${message.offset}`,
    output: null,
    attempts: 0,
    timings: { queueMs: 0, serviceMs: 0, endToEndMs: Date.now() - Number(message.timestamp) },
    source: { topic: message.topic, partition: message.partition, offset: `${message.offset}` },
  };
  return { topic: options.output, key: message.key, value: Buffer.from(JSON.stringify(value)) };
}

/** The last record of each partition in the batch: committing it commits those before it. */
function lastOfEachPartition(batch: BufferMessage[]): BufferMessage[] {
  const byPartition = new Map<number, BufferMessage>();
  for (const m of batch) byPartition.set(m.partition, m);
  return [...byPartition.values()];
}

function headerOf(headers: Map<Buffer, Buffer>, name: string): string | undefined {
  for (const [key, value] of headers) if (key.toString() === name) return value.toString();
  return undefined;
}
