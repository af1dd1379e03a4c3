import { expect } from 'vitest';
import { emailMessage, senderOf } from '../../src/cli/email-records.ts';
import { ResultReader } from '../../src/cli/result-reader.ts';
import type { ConfigInput } from '../../src/config.ts';
import type { OutputValue } from '../../src/contracts/output.ts';
import { type Email, splitCorpus } from '../../src/replica/corpus.ts';
import type { ReplicaOptions } from '../../src/replica/options.ts';
import { type RunningReplica, startReplica } from '../../src/replica/server.ts';
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
} from './services.ts';

/** Topics, a replica and a result reader for one end-to-end test; the service is the test's. */
export interface Bench {
  name: string;
  topics: TestTopics;
  replica: RunningReplica;
  reader: ResultReader;
  emails: Email[];
  config(overrides?: ConfigInput): ReturnType<typeof testConfig>;
  publish(emails?: Email[]): Promise<void>;
  close(): Promise<void>;
}

export async function openBench(options: {
  prefix: string;
  partitions: number;
  emails: number;
  replica?: ReplicaOptions;
}): Promise<Bench> {
  const name = uniqueName(options.prefix);
  const topics = await createTestTopics(name, options.partitions);
  const replica = await startReplica({ port: 0, ...options.replica });
  const reader = new ResultReader({
    brokers,
    outputTopic: topics.output,
    deadLetterTopic: topics.deadLetter,
  });
  await reader.start();
  const emails = splitCorpus().heldOut.slice(0, options.emails);
  return {
    name,
    topics,
    replica,
    reader,
    emails,
    config: (overrides = {}) =>
      testConfig(name, topics, {
        replicas: [{ url: replica.url, slots: options.replica?.slots ?? 8 }],
        ...overrides,
      }),
    publish: (list = emails) => produce(list.map((e) => emailMessage(e, topics.input))),
    close: async () => {
      await reader.close();
      await replica.stop();
      await deleteTestTopics(topics);
      await removeQueue(testConfig(name, topics));
    },
  };
}

/** Every input id appears exactly once across results and dead letters. */
export function expectEachIdOnce(bench: Bench): void {
  const seen = [
    ...bench.reader.outputs.map((o) => o.eventId),
    ...bench.reader.deadLetters.map((d) => d.eventId),
  ].sort();
  expect(seen).toEqual(bench.emails.map((e) => e.eventId).sort());
}

/** Per key (sender) and partition, results appear in offset order. */
export function expectKeyOrder(bench: Bench): void {
  const senders = new Map(bench.emails.map((e) => [e.eventId, senderOf(e.text)] as const));
  const last = new Map<string, bigint>();
  for (const output of bench.reader.outputs) {
    const key = `${output.source.partition}/${senders.get(output.eventId)}`;
    const offset = BigInt(output.source.offset);
    expect(offset > (last.get(key) ?? -1n), `${key} out of order at ${offset}`).toBe(true);
    last.set(key, offset);
  }
}

/** The group's committed offsets reach the end of every partition of the input topic. */
export async function expectCommittedToEnd(bench: Bench, groupId: string): Promise<void> {
  const end = await endOffsets(bench.topics.input);
  const committed = await eventually(
    () => committedOffsets(groupId, bench.topics.input),
    (offsets) => end.every((e, p) => offsets[p] === e),
  );
  expect(committed).toEqual(end);
}

export function outputsById(bench: Bench): Map<string, OutputValue[]> {
  const byId = new Map<string, OutputValue[]>();
  for (const output of bench.reader.outputs) {
    byId.set(output.eventId, [...(byId.get(output.eventId) ?? []), output]);
  }
  return byId;
}
