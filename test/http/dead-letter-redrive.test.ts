import { Consumer, type MessageToProduce } from '@platformatic/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.ts';
import { type RedriveOptions, redriveDeadLetters } from '../../src/http/dead-letter-redrive.ts';
import { type BufferProducer, createProducer } from '../../src/kafka/clients.ts';
import {
  brokers,
  createTestTopics,
  deleteTestTopics,
  produce,
  type TestTopics,
  testConfig,
  uniqueName,
} from '../support/services.ts';

type Message = MessageToProduce<Buffer, Buffer, Buffer, Buffer>;

interface Seen {
  partition: number;
  key: string;
  value: string;
  headers: Record<string, string>;
}

function deadLetter(topic: string, id: string, reason: string, partition: number): Message {
  const headers = new Map<Buffer, Buffer>([
    [Buffer.from('event-id'), Buffer.from(id)],
    [Buffer.from('traceparent'), Buffer.from(`00-${id}`)],
    [Buffer.from('tl-dlq-reason'), Buffer.from(reason)],
    [Buffer.from('tl-error-code'), Buffer.from('TL_DECODE')],
    [Buffer.from('tl-source-partition'), Buffer.from(String(partition))],
    [Buffer.from('tl-source-offset'), Buffer.from('7')],
  ]);
  return { topic, key: Buffer.from(`key-${id}`), value: Buffer.from(`value-${id}`), headers };
}

/** Reads a topic from the start until `count` records arrived (or 15 s passed). */
async function readTopic(topic: string, count: number): Promise<Seen[]> {
  const consumer = new Consumer({
    clientId: 'tokenline-test-redrive-reader',
    groupId: uniqueName('redrive-reader'),
    bootstrapBrokers: brokers,
  });
  const seen: Seen[] = [];
  const stream = await consumer.consume({ topics: [topic], mode: 'earliest', maxWaitTime: 100 });
  stream.on('data', (message) => {
    const headers: Record<string, string> = {};
    for (const [key, value] of message.headers) headers[key.toString()] = value.toString();
    seen.push({
      partition: message.partition,
      key: message.key?.toString() ?? '',
      value: message.value?.toString() ?? '',
      headers,
    });
  });
  const end = Date.now() + 15_000;
  while (seen.length < count && Date.now() < end) await Bun.sleep(100);
  await Bun.sleep(300);
  await stream.close();
  await consumer.close(true);
  return seen;
}

describe('dead-letter redrive on a real broker', () => {
  const name = uniqueName('redrive');
  let topics: TestTopics;
  let config: Config;
  let producer: BufferProducer;

  beforeAll(async () => {
    topics = await createTestTopics(name, 2);
    config = testConfig(name, topics);
    producer = createProducer(config.kafka);
    const dropped = deadLetter(topics.deadLetter, 'too-big', 'non-retryable', 0);
    (dropped.headers as Map<Buffer, Buffer>).set(
      Buffer.from('tl-value-dropped-bytes'),
      Buffer.from('2000000'),
    );
    delete dropped.value;
    // Its own deadline, long past: as it is, it would be dead-lettered again at once.
    const expired = deadLetter(topics.deadLetter, 'd1', 'deadline', 0);
    (expired.headers as Map<Buffer, Buffer>).set(Buffer.from('deadline'), Buffer.from('5'));
    await produce([
      deadLetter(topics.deadLetter, 'p1', 'poison', 1),
      expired,
      deadLetter(topics.deadLetter, 'p2', 'poison', 1),
      dropped,
      deadLetter(topics.deadLetter, 'p3', 'poison', 0),
      deadLetter(topics.deadLetter, 'r1', 'retries-exhausted', 9),
    ]);
  });

  const redrive = (options: Partial<RedriveOptions> = {}) =>
    redriveDeadLetters({
      kafka: config.kafka,
      deadLetterTopic: topics.deadLetter,
      inputTopic: topics.input,
      producer,
      ...options,
    });

  afterAll(async () => {
    await producer?.close().catch(() => undefined);
    if (topics) await deleteTestTopics(topics);
  });

  it('sends the dead letters of one reason back, in offset order, without tl-* headers', async () => {
    const report = await redrive({
      reason: 'poison',
    });
    expect(report).toMatchObject({
      reason: 'poison',
      redriven: 3,
      skipped: 3,
      valueDropped: 0,
      partitions: [{ partition: 0, fromOffset: '0', toOffset: '6' }],
    });

    const seen = await readTopic(topics.input, 3);
    expect(seen.map((s) => s.key).sort()).toEqual(['key-p1', 'key-p2', 'key-p3']);
    // Back to the partition each came from, and within a partition in dead-letter order.
    expect(seen.filter((s) => s.partition === 1).map((s) => s.key)).toEqual(['key-p1', 'key-p2']);
    expect(seen.find((s) => s.key === 'key-p3')?.partition).toBe(0);
    for (const record of seen) {
      expect(record.value).toBe(record.key.replace('key-', 'value-'));
      expect(Object.keys(record.headers).sort()).toEqual(['event-id', 'traceparent']);
    }
  });

  it('sends all of them without a reason, except one whose value was dropped', async () => {
    const report = await redrive();
    expect(report).toMatchObject({ reason: null, redriven: 5, skipped: 0, valueDropped: 1 });
    const seen = await readTopic(topics.input, 3 + 5);
    expect(seen).toHaveLength(8);
    // A source partition the input topic does not have is left to the partitioner.
    expect(seen.filter((s) => s.key === 'key-r1')).toHaveLength(1);
    expect(seen.find((s) => s.key === 'key-d1')?.headers.deadline).toBe('5');
  });

  it('leaves the deadline header out when asked, so the record gets a fresh time to live', async () => {
    const report = await redrive({
      reason: 'deadline',
      dropDeadline: true,
    });
    expect(report).toMatchObject({ reason: 'deadline', dropDeadline: true, redriven: 1 });
    const seen = await readTopic(topics.input, 3 + 5 + 1);
    const again = seen.filter((s) => s.key === 'key-d1');
    expect(again).toHaveLength(2);
    expect(again.map((s) => s.headers.deadline ?? null).sort()).toEqual(['5', null].sort());
    const fresh = again.find((s) => s.headers.deadline === undefined);
    expect(Object.keys(fresh?.headers ?? {}).sort()).toEqual(['event-id', 'traceparent']);
    expect(fresh?.partition).toBe(0);
  });
});
