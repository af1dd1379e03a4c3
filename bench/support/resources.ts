import { Admin } from '@platformatic/kafka';
import { Queue } from 'bullmq';

/** Where the bench's broker and Redis are: the same local pair the tests use. */
export const brokers = (process.env.TOKENLINE_KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
export const redisUrl = process.env.TOKENLINE_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** BullMQ key prefix of every bench queue, apart from the tests' and the demo's. */
export const redisPrefix = 'tokenline-bench';

export interface RunTopics {
  input: string;
  output: string;
  deadLetter: string;
}

// The broker stamps its own append time on these records, so end-to-end times start when a
// record reached Kafka and produce times end when its result did, whoever sent them.
const appendTime = [{ name: 'message.timestamp.type', value: 'LogAppendTime' }];

/**
 * The Kafka topics, consumer groups and BullMQ queues one bench run creates, all under one
 * unique name, so that `release` deletes exactly what the run made and nothing else.
 */
export class RunResources {
  readonly name: string;
  readonly #topics = new Set<string>();
  readonly #groups = new Set<string>();
  readonly #queues = new Set<string>();

  constructor(prefix: string) {
    const stamp = Date.now().toString(36);
    this.name = `bench-${safe(prefix)}-${stamp}-${Math.random().toString(36).slice(2, 6)}`;
  }

  /** Input (`partitions` wide), output and dead-letter topics named after `label`. */
  async topics(label: string, partitions: number): Promise<RunTopics> {
    const base = `${this.name}.${safe(label)}`;
    const topics = { input: `${base}.in`, output: `${base}.out`, deadLetter: `${base}.in.dlq` };
    await withAdmin(async (admin) => {
      await admin.createTopics({
        topics: [topics.input],
        partitions,
        replicas: 1,
        configs: appendTime,
      });
      await admin.createTopics({
        topics: [topics.output, topics.deadLetter],
        partitions: 1,
        replicas: 1,
        configs: appendTime,
      });
    });
    for (const topic of Object.values(topics)) this.#topics.add(topic);

    return topics;
  }

  /** A consumer group id that `release` deletes. */
  group(label: string): string {
    const id = `${this.name}.${safe(label)}`;
    this.#groups.add(id);
    return id;
  }

  /** A BullMQ queue name (under `redisPrefix`) that `release` obliterates. */
  queue(label: string): string {
    const name = `${this.name}.${safe(label)}`;
    this.#queues.add(name);
    return name;
  }

  /** Deletes every topic, group and queue made here; a failure to delete one is reported. */
  async release(): Promise<string[]> {
    const problems: string[] = [];
    const note = (what: string) => (error: unknown) => {
      problems.push(`${what}: ${(error as Error).message}`);
    };
    await withAdmin(async (admin) => {
      // One at a time: a group that never formed must not keep the others alive.
      for (const group of this.#groups) {
        await admin.deleteGroups({ groups: [group] }).catch(ignoreMissing(note(`group ${group}`)));
      }
      if (this.#topics.size > 0) {
        await admin
          .deleteTopics({ topics: [...this.#topics] })
          .catch(note(`deleting topics of ${this.name}`));
      }
    });
    for (const name of this.#queues) await obliterate(name).catch(note(`queue ${name}`));
    this.#groups.clear();
    this.#topics.clear();
    this.#queues.clear();

    return problems;
  }
}

/** Passes errors on, except the broker saying the group does not exist (nothing to delete). */
function ignoreMissing(report: (error: unknown) => void): (error: unknown) => void {
  return (error) => {
    const text = JSON.stringify((error as { errors?: unknown }).errors ?? String(error));
    if (!text.includes('GROUP_ID_NOT_FOUND')) report(error);
  };
}

/** A label as Kafka topic names and BullMQ queue names allow it: [A-Za-z0-9._-]. */
function safe(label: string): string {
  return label.replace(/[^A-Za-z0-9._-]+/g, '-');
}

export async function withAdmin<T>(use: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = new Admin({ clientId: 'tokenline-bench-admin', bootstrapBrokers: brokers });
  try {
    return await use(admin);
  } finally {
    await admin.close().catch(() => undefined);
  }
}

async function obliterate(name: string): Promise<void> {
  const queue = new Queue(name, { connection: { url: redisUrl }, prefix: redisPrefix });
  try {
    await queue.obliterate({ force: true });
  } finally {
    await queue.close();
  }
}
