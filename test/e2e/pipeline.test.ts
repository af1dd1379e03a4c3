import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emailMessage, senderOf } from '../../src/cli/email-records.ts';
import { score } from '../../src/cli/report.ts';
import { ResultReader } from '../../src/cli/result-reader.ts';
import { type Email, splitCorpus } from '../../src/replica/corpus.ts';
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

describe('the pipeline on a real broker and Redis', () => {
  const name = uniqueName('e2e');
  const emails: Email[] = splitCorpus().heldOut.slice(0, 300);
  let topics: TestTopics;
  let replica: Awaited<ReturnType<typeof startReplica>>;
  let service: Service;
  let reader: ResultReader;

  beforeAll(async () => {
    topics = await createTestTopics(name, 3);
    replica = await startReplica({ port: 0, slots: 16, serviceTimeMs: 5 });
    service = new Service(
      testConfig(name, topics, { replicas: [{ url: replica.url, slots: 16 }] }),
    );
    await service.start();
    reader = new ResultReader({
      brokers,
      outputTopic: topics.output,
      deadLetterTopic: topics.deadLetter,
    });
    await reader.start();
    await produce(emails.map((e) => emailMessage(e, topics.input)));
    await reader.waitFor(emails.length, 90_000);
  });

  afterAll(async () => {
    await reader?.close();
    await service?.stop();
    await replica?.stop();
    if (topics) await deleteTestTopics(topics);
    if (service) await removeQueue(service.config);
  });

  it('writes exactly one result per email and no dead letters', () => {
    const ids = reader.outputs.map((o) => o.eventId).sort();
    expect(ids).toEqual(emails.map((e) => e.eventId).sort());
    expect(reader.deadLetters).toHaveLength(0);
  });

  it('classifies the held-out emails with accuracy of at least 0.9', () => {
    const labels = new Map(emails.map((e) => [e.eventId, e.label] as const));
    const scores = score(
      reader.outputs.map((o) => ({
        predicted: (o.output as { label: string }).label,
        actual: labels.get(o.eventId) ?? '',
      })),
    );
    expect(scores.total).toBe(emails.length);
    expect(scores.accuracy).toBeGreaterThanOrEqual(0.9);
  });

  it('emits the results of one sender in offset order', () => {
    const lastOffset = new Map<string, number>();
    for (const output of reader.outputs) {
      const sender = `${output.source.partition}/${senderOf(emailById(emails, output.eventId).text)}`;
      const offset = Number(output.source.offset);
      expect(offset).toBeGreaterThan(lastOffset.get(sender) ?? -1);
      lastOffset.set(sender, offset);
    }
  });

  it('carries identity, revision and timings in every result', () => {
    for (const output of reader.outputs) {
      expect(output.revision).toBe(service.revision);
      expect(output.attempts).toBe(1);
      expect(output.timings.serviceMs).toBeGreaterThanOrEqual(0);
      expect(output.source.topic).toBe(topics.input);
    }
  });

  it('commits every partition up to its end offset', async () => {
    const end = await endOffsets(topics.input);
    const committed = await eventually(
      () => committedOffsets(service.config.kafka.groupId, topics.input),
      (offsets) => end.every((e, p) => offsets[p] === e),
    );
    expect(committed).toEqual(end);
    expect(end.reduce((a, b) => a + b, 0n)).toBe(BigInt(emails.length));
  });
});

function emailById(emails: Email[], id: string): Email {
  const email = emails.find((e) => e.eventId === id);
  if (!email) throw new Error(`unknown event id ${id}`);
  return email;
}
