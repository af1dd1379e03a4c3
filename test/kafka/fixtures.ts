import { Admin, type MessageToProduce, Producer } from '@platformatic/kafka';
import type { Config } from '../../src/config.ts';
import { type BufferConsumer, createConsumer } from '../../src/kafka/clients.ts';
import { brokers } from '../support/services.ts';

export type Produced = MessageToProduce<Buffer, Buffer, Buffer, Buffer>;

/** The consumer settings production uses, with a short session so rebalances finish quickly. */
export function kafkaConfig(groupId: string, clientId = 'tokenline-test'): Config['kafka'] {
  return {
    brokers,
    clientId,
    groupId,
    sessionTimeoutMs: 6_000,
    heartbeatIntervalMs: 300,
    maxMessageBytes: 1_000_000,
    connectTimeoutMs: 5_000,
  };
}

export function testConsumer(groupId: string, clientId?: string): BufferConsumer {
  return createConsumer(kafkaConfig(groupId, clientId));
}

/** Creates a topic and waits until the broker lists it with a leader for every partition. */
export async function createTopic(topic: string, partitions: number): Promise<void> {
  await withAdmin(async (admin) => {
    await admin.createTopics({ topics: [topic], partitions, replicas: 1 });
    for (let tries = 0; tries < 50; tries++) {
      const metadata = await admin
        .metadata({ topics: [topic], forceUpdate: true })
        .catch(() => null);
      const leaders = metadata?.topics.get(topic)?.partitions.filter((p) => p.leader >= 0);
      if (leaders?.length === partitions) return;
      await Bun.sleep(100);
    }
    throw new Error(`topic ${topic} has no leaders`);
  });
}

export async function deleteTopic(topic: string): Promise<void> {
  await withAdmin((admin) => admin.deleteTopics({ topics: [topic] }));
}

export async function deleteGroup(groupId: string): Promise<void> {
  // A group the test never committed for does not exist; that is fine.
  await withAdmin((admin) => admin.deleteGroups({ groups: [groupId] })).catch(() => undefined);
}

export async function commitOffset(
  groupId: string,
  topic: string,
  partition: number,
  offset: bigint,
): Promise<void> {
  await withAdmin((admin) =>
    admin.alterConsumerGroupOffsets({
      groupId,
      topics: [{ name: topic, partitionOffsets: [{ partition, offset }] }],
    }),
  );
}

export async function deleteRecordsBefore(
  topic: string,
  partition: number,
  offset: bigint,
): Promise<void> {
  await withAdmin((admin) =>
    admin.deleteRecords({ topics: [{ name: topic, partitions: [{ partition, offset }] }] }),
  );
}

/** Produces in one request, so the messages of each partition land in one record batch. */
export async function produceBatch(messages: Produced[]): Promise<void> {
  const producer = new Producer<Buffer, Buffer, Buffer, Buffer>({
    clientId: 'tokenline-test-producer',
    bootstrapBrokers: brokers,
  });
  try {
    await producer.send({ messages });
  } finally {
    await producer.close();
  }
}

/** Produces each group of messages in its own transaction, committed or aborted as marked. */
export async function produceTransactions(
  transactions: { messages: Produced[]; commit: boolean }[],
  transactionalId: string,
): Promise<void> {
  const producer = new Producer<Buffer, Buffer, Buffer, Buffer>({
    clientId: 'tokenline-test-producer',
    bootstrapBrokers: brokers,
    idempotent: true,
    transactionalId,
  });
  try {
    for (const { messages, commit } of transactions) {
      const transaction = await producer.beginTransaction();
      await transaction.send({ messages });
      if (commit) await transaction.commit();
      else await transaction.abort();
    }
  } finally {
    await producer.close();
  }
}

export async function withAdmin<T>(work: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = new Admin({ clientId: 'tokenline-test-admin', bootstrapBrokers: brokers });
  try {
    return await work(admin);
  } finally {
    await admin.close();
  }
}

/** Polls until `check` holds or the time is up. */
export async function until(check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`condition not met within ${timeoutMs} ms`);
    await Bun.sleep(50);
  }
}
