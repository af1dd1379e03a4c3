import { Admin, Consumer, type MessageToProduce, Producer } from '@platformatic/kafka';
import { Queue } from 'bullmq';
import { type Config, type ConfigInput, parseConfig } from '../../src/config.ts';

/** Where the test broker and Redis are; .ci/run and scripts/test.sh start both. */
export const brokers = (process.env.TOKENLINE_KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
export const redisUrl = process.env.TOKENLINE_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A name no other test (or earlier run) uses: each test gets its own topics, group, queue. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

export interface TestTopics {
  input: string;
  output: string;
  deadLetter: string;
}

export async function createTestTopics(name: string, partitions: number): Promise<TestTopics> {
  const topics = { input: `${name}.in`, output: `${name}.out`, deadLetter: `${name}.in.dlq` };
  const admin = new Admin({ clientId: 'tokenline-test-admin', bootstrapBrokers: brokers });
  try {
    await admin.createTopics({ topics: [topics.input], partitions, replicas: 1 });
    await admin.createTopics({
      topics: [topics.output, topics.deadLetter],
      partitions: 1,
      replicas: 1,
    });
  } finally {
    await admin.close();
  }
  return topics;
}

export async function deleteTestTopics(topics: TestTopics): Promise<void> {
  const admin = new Admin({ clientId: 'tokenline-test-admin', bootstrapBrokers: brokers });
  try {
    await admin.deleteTopics({ topics: [topics.input, topics.output, topics.deadLetter] });
  } finally {
    await admin.close();
  }
}

export function testConfig(name: string, topics: TestTopics, overrides: ConfigInput = {}): Config {
  return parseConfig({
    ...overrides,
    kafka: { brokers, groupId: `${name}-group`, ...overrides.kafka },
    redis: { url: redisUrl, prefix: 'tokenline-test', ...overrides.redis },
    topics: { input: topics.input, output: topics.output, deadLetter: topics.deadLetter },
    queue: { name: `${name}-queue`, ...overrides.queue },
  });
}

export async function produce(
  messages: MessageToProduce<Buffer, Buffer, Buffer, Buffer>[],
): Promise<void> {
  const producer = new Producer({ clientId: 'tokenline-test-producer', bootstrapBrokers: brokers });
  try {
    for (let i = 0; i < messages.length; i += 200) {
      await producer.send({ messages: messages.slice(i, i + 200) });
    }
  } finally {
    await producer.close();
  }
}

/** End offsets (next offset to be written) of each partition of a topic. */
export async function endOffsets(topic: string): Promise<bigint[]> {
  const consumer = new Consumer({
    clientId: 'tokenline-test-offsets',
    groupId: uniqueName('offsets'),
    bootstrapBrokers: brokers,
  });
  try {
    const offsets = await consumer.listOffsets({ topics: [topic] });
    return offsets.get(topic) ?? [];
  } finally {
    await consumer.close();
  }
}

/** Offsets the group committed for a topic, by partition; -1 where nothing was committed. */
export async function committedOffsets(groupId: string, topic: string): Promise<bigint[]> {
  const admin = new Admin({ clientId: 'tokenline-test-admin', bootstrapBrokers: brokers });
  try {
    const [group] = await admin.listConsumerGroupOffsets({ groups: [groupId] });
    const partitions = group?.topics.find((t) => t.name === topic)?.partitions ?? [];
    const result: bigint[] = [];
    for (const p of partitions) result[p.partitionIndex] = p.committedOffset;
    return result;
  } finally {
    await admin.close();
  }
}

/** Polls until `check` holds or the time is up; returns the last value it saw. */
export async function eventually<T>(
  read: () => Promise<T>,
  check: (value: T) => boolean,
  timeoutMs = 20_000,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  let value = await read();
  while (!check(value) && Date.now() < end) {
    await Bun.sleep(200);
    value = await read();
  }
  return value;
}

/** Removes a test's BullMQ queue and its retained jobs from Redis. */
export async function removeQueue(config: Config): Promise<void> {
  const queue = new Queue(config.queue.name, {
    connection: { url: config.redis.url },
    prefix: config.redis.prefix,
  });
  try {
    await queue.obliterate({ force: true });
  } finally {
    await queue.close();
  }
}
