import type { MessageToProduce } from '@platformatic/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emailMessage } from '../../src/cli/email-records.ts';
import { ResultReader } from '../../src/cli/result-reader.ts';
import { splitCorpus } from '../../src/replica/corpus.ts';
import { startReplica } from '../../src/replica/server.ts';
import { Service } from '../../src/service.ts';
import {
  brokers,
  committedOffsets,
  createTestTopics,
  deleteTestTopics,
  endOffsets,
  eventually,
  produce,
  removeQueue,
  type TestTopics,
  testConfig,
  uniqueName,
} from '../support/services.ts';

type Msg = MessageToProduce<Buffer, Buffer, Buffer, Buffer>;

function poison(
  id: string,
  value: Buffer | undefined,
  extraHeaders: Array<[Buffer, Buffer]> = [],
): Msg {
  const headers = new Map<Buffer, Buffer>([
    [Buffer.from('event-id'), Buffer.from(id)],
    ...extraHeaders,
  ]);
  const message: Msg = { topic: '', key: Buffer.from(`key-${id}`), headers };
  if (value !== undefined) message.value = value;
  return message;
}

const poisonRecords: Array<{ id: string; message: Msg; why: RegExp }> = [
  { id: 'bad-json', message: poison('bad-json', Buffer.from('{"text": ')), why: /not JSON/ },
  { id: 'empty', message: poison('empty', Buffer.alloc(0)), why: /empty/ },
  { id: 'tombstone', message: poison('tombstone', undefined), why: /null|empty/ },
  {
    id: 'not-utf8',
    message: poison('not-utf8', Buffer.from([0xff, 0xfe, 0x00, 0xc3])),
    why: /UTF-8|JSON/,
  },
  { id: 'no-text', message: poison('no-text', Buffer.from('{"body": "hi"}')), why: /"text"/ },
  {
    id: 'binary-header',
    message: poison('binary-header', Buffer.from('[1,2]'), [
      [Buffer.from([0xc3, 0x28]), Buffer.from([0x00, 0xff])],
    ]),
    why: /not an object/,
  },
];

describe('records that cannot be processed', () => {
  const name = uniqueName('dlq');
  const emails = splitCorpus().heldOut.slice(0, 40);
  let topics: TestTopics;
  let replica: Awaited<ReturnType<typeof startReplica>>;
  let service: Service;
  let reader: ResultReader;

  beforeAll(async () => {
    topics = await createTestTopics(name, 2);
    replica = await startReplica({ port: 0, slots: 8, serviceTimeMs: 1 });
    service = new Service(testConfig(name, topics, { replicas: [{ url: replica.url, slots: 8 }] }));
    await service.start();
    reader = new ResultReader({
      brokers,
      outputTopic: topics.output,
      deadLetterTopic: topics.deadLetter,
    });
    await reader.start();
    const messages: Msg[] = emails.map((e) => emailMessage(e, topics.input));
    poisonRecords.forEach((p, i) => {
      messages.splice(5 + i * 6, 0, { ...p.message, topic: topics.input });
    });
    await produce(messages);
    await reader.waitFor(emails.length + poisonRecords.length, 60_000);
  });

  afterAll(async () => {
    await reader?.close();
    await service?.stop();
    await replica?.stop();
    if (topics) await deleteTestTopics(topics);
    if (service) await removeQueue(service.config);
  });

  it('dead-letters each poison record with reason poison and a readable message', () => {
    for (const p of poisonRecords) {
      const dead = reader.deadLetters.filter((d) => d.eventId === p.id);
      expect(dead, p.id).toHaveLength(1);
      expect(dead[0]?.reason).toBe('poison');
      expect(dead[0]?.headers.get('tl-error-code')).toBe('TL_DECODE');
      expect(dead[0]?.headers.get('tl-error-message')).toMatch(p.why);
      expect(dead[0]?.headers.get('tl-source-topic')).toBe(topics.input);
    }
  });

  it('keeps the original key, value and headers of a dead letter unchanged', () => {
    for (const p of poisonRecords) {
      const dead = reader.deadLetters.find((d) => d.eventId === p.id);
      expect(dead?.key?.equals(p.message.key as Buffer)).toBe(true);
      const original = p.message.value ?? Buffer.alloc(0);
      expect((dead?.value ?? Buffer.alloc(0)).equals(original)).toBe(true);
    }
    const binary = reader.deadLetters.find((d) => d.eventId === 'binary-header');
    expect(binary?.headers.get(Buffer.from([0xc3, 0x28]).toString())).toBeDefined();
  });

  it('keeps the partition flowing: every email still gets its result', () => {
    expect(new Set(reader.outputs.map((o) => o.eventId))).toEqual(
      new Set(emails.map((e) => e.eventId)),
    );
    expect(reader.outputs).toHaveLength(emails.length);
  });

  it('commits past the poison records to the end of every partition', async () => {
    const end = await endOffsets(topics.input);
    const committed = await eventually(
      () => committedOffsets(service.config.kafka.groupId, topics.input),
      (offsets) => end.every((e, p) => offsets[p] === e),
    );
    expect(committed).toEqual(end);
  });
});
