/**
 * The loop most people write first, as the bench's baseline: one consumer on the same Kafka
 * client, and for each record in turn one awaited HTTP call to the replica, one awaited
 * produce of the result, one awaited commit. No retries, no deadline, no batching.
 *
 *   bun bench/contenders/baseline-loop.ts '{"brokers":[...],"groupId":"…","input":"…",
 *     "output":"…","replicaUrl":"http://…","model":"spam-nb"}'
 *
 * Prints "ready" once it is a member of its group; stops on SIGTERM.
 */
import { Consumer, ProduceAcks, Producer } from '@platformatic/kafka';

interface LoopOptions {
  brokers: string[];
  groupId: string;
  input: string;
  output: string;
  replicaUrl: string;
  model: string;
}

const options = JSON.parse(process.argv[2] ?? '{}') as LoopOptions;
const consumer = new Consumer({
  clientId: 'bench-baseline',
  groupId: options.groupId,
  bootstrapBrokers: options.brokers,
  autocommit: false,
});
const producer = new Producer({
  clientId: 'bench-baseline',
  bootstrapBrokers: options.brokers,
  acks: ProduceAcks.ALL,
});
let running = true;

process.once('SIGTERM', () => {
  running = false;
  void consumer.close(true).finally(() => process.exit(0));
});

const stream = await consumer.consume({ topics: [options.input], mode: 'earliest' });
console.log('ready');

for await (const message of stream) {
  if (!running) break;
  const started = Date.now();
  const eventId = headerOf(message.headers, 'event-id') ?? `${message.partition}/${message.offset}`;
  try {
    const { text } = JSON.parse(message.value.toString()) as { text: string };
    const response = await fetch(`${options.replicaUrl}/classify`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: options.model, input: text }),
    });
    if (!response.ok) throw new Error(`replica answered ${response.status}`);
    const body = (await response.json()) as { data: Array<{ label: string }> };
    const serviceMs = Date.now() - started;
    const value = {
      eventId,
      output: { label: body.data[0]?.label },
      attempts: 1,
      timings: { queueMs: 0, serviceMs, endToEndMs: Date.now() - Number(message.timestamp) },
      source: { topic: message.topic, partition: message.partition, offset: `${message.offset}` },
    };
    await producer.send({
      messages: [
        { topic: options.output, key: message.key, value: Buffer.from(JSON.stringify(value)) },
      ],
    });
  } catch (error) {
    // What the first loop usually does with a failure: log it and move on.
    console.error(`record ${eventId} failed: ${(error as Error).message}`);
  }
  await message.commit();
}

function headerOf(headers: Map<Buffer, Buffer>, name: string): string | undefined {
  for (const [key, value] of headers) if (key.toString() === name) return value.toString();
  return undefined;
}
