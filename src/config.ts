import { readFileSync } from 'node:fs';
import * as z from 'zod';
import { defaultBreakerOptions } from './actors/breaker.ts';
import { ConfigError } from './errors.ts';

const replicaSchema = z.strictObject({
  /** Base URL of an OpenAI-compatible server, e.g. http://127.0.0.1:8000. */
  url: z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' }),
  /** Concurrent requests the replica serves (its batch slots). Default 8. */
  slots: z.int().min(1).max(4096).default(8),
  /**
   * Requests sent beyond `slots`, which wait in the replica's own queue: while a worker
   * finishes one job and takes the next, the replica already has the next request, so its
   * slots do not sit idle on Tokenline's bookkeeping. Default half of `slots`, rounded up, and
   * at most 64 (the built-in replica's default queue limit; more waits in Tokenline's queue
   * instead): with a quarter, the service's event-loop stalls still left slots idle (README,
   * Benchmarks).
   */
  headroom: z.int().min(0).max(4096).optional(),
  /** Model name sent to this replica; defaults to `model.name`. */
  model: z.string().min(1).optional(),
});

// Strict objects: a misspelled key stops start-up instead of silently leaving a default.
export const configSchema = z.strictObject({
  kafka: z
    .strictObject({
      /** Bootstrap brokers. Default ['127.0.0.1:9092']. */
      brokers: z
        .array(
          z
            .string()
            .regex(/^[^:\s]+:\d+$/, 'expected host:port')
            .refine((broker) => validPort(broker.slice(broker.lastIndexOf(':') + 1)), {
              message: 'expected host:port with a port from 1 to 65535',
            }),
        )
        .min(1)
        .default(['127.0.0.1:9092']),
      /** Client id sent to the broker. Default 'tokenline'. */
      clientId: z.string().min(1).default('tokenline'),
      /** Consumer group. Default 'tokenline'. */
      groupId: z.string().min(1).default('tokenline'),
      /** Group session timeout. Default 10000 ms. */
      sessionTimeoutMs: z.int().min(1000).default(10_000),
      /** Heartbeat interval. Default 1000 ms. */
      heartbeatIntervalMs: z.int().min(100).default(1_000),
      /**
       * Largest record the output and dead-letter topics accept (the broker's
       * message.max.bytes). Default 1000000.
       */
      maxMessageBytes: z.int().min(1024).default(1_000_000),
      /** Time allowed for the broker to answer at start-up. Default 5000 ms. */
      connectTimeoutMs: z.int().min(100).default(5_000),
    })
    .prefault({}),
  redis: z
    .strictObject({
      /** Redis URL. Default redis://127.0.0.1:6379. */
      url: z
        .string()
        .regex(/^rediss?:\/\//, 'expected redis://host:port')
        .default('redis://127.0.0.1:6379'),
      /** Prefix of BullMQ keys. Default 'tokenline'. */
      prefix: z.string().min(1).default('tokenline'),
    })
    .prefault({}),
  topics: z
    .strictObject({
      /** Input topic. Default 'emails'. */
      input: z.string().min(1).default('emails'),
      /** Result topic. Default '<input>.results'. */
      output: z.string().min(1).optional(),
      /** Dead-letter topic. Default '<input>.dlq'. */
      deadLetter: z.string().min(1).optional(),
    })
    .prefault({}),
  task: z
    .strictObject({
      /** How to read a record's value: 'json' (an object) or 'text'. Default 'json'. */
      valueFormat: z.enum(['json', 'text']).default('json'),
      /** JSON field holding the text to infer on. Default 'text'. */
      textField: z.string().min(1).default('text'),
      /** JSON field used as event id when the `event-id` header is absent. Default 'id'. */
      idField: z.string().min(1).default('id'),
      /** Values larger than this go to the dead-letter topic as poison. Default 1 MiB. */
      maxValueBytes: z
        .int()
        .min(1)
        .default(1024 * 1024),
      /** Deadline for records without a `deadline` header, from their timestamp. Default 60 s. */
      defaultTtlMs: z.int().min(1).default(60_000),
    })
    .prefault({}),
  model: z
    .strictObject({
      /** Model name sent to the replicas. Default 'spam-nb'. */
      name: z.string().min(1).default('spam-nb'),
      /** Model revision; 'auto' asks the first replica's /v1/models. Default 'auto'. */
      revision: z
        .string()
        .regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, . _ - only')
        .default('auto'),
      /**
       * Replica API: vLLM's 'classify', or OpenAI's 'chat' completions, 'completions' or
       * 'embeddings'. Default 'classify'.
       */
      api: z.enum(['classify', 'chat', 'completions', 'embeddings']).default('classify'),
      /** Chat and completion prompt; `{{text}}` is replaced with the record's text. */
      promptTemplate: z.string().default('Classify this email as spam or ham.\n\n{{text}}'),
      /** Most tokens a chat or completion call may generate. Default 8. */
      maxTokens: z.int().min(1).default(8),
      /**
       * Encoding that counts tokens when a server reports no usage: 'o200k_base' or
       * 'cl100k_base' (OpenAI's), an estimate for other models' tokenizers. Default 'cl100k_base'.
       */
      tokenizer: z.enum(['cl100k_base', 'o200k_base']).default('cl100k_base'),
    })
    .prefault({}),
  /** Replica pool. Default one built-in replica on 127.0.0.1:8000. */
  replicas: z
    .array(replicaSchema)
    .min(1)
    .default([{ url: 'http://127.0.0.1:8000', slots: 8 }]),
  partition: z
    .strictObject({
      /** Ordering inside a partition: 'key', 'partition' or 'none'. Default 'key'. */
      ordering: z.enum(['key', 'partition', 'none']).default('key'),
      /**
       * After a dead letter in 'key' ordering: 'continue' with the key's next record, or 'park'
       * the key until an operator unparks it (its later records wait, and the commit stays
       * before the dead letter). 'park' needs ordering 'key'. Default 'continue'.
       */
      onDeadLetter: z.enum(['continue', 'park']).default('continue'),
      /**
       * Records a partition actor holds at once (in flight or waiting on their key).
       * Default 256.
       */
      window: z.int().min(1).max(100_000).default(256),
      /** Commit at the latest after this long. Default 200 ms. */
      commitIntervalMs: z.int().min(1).default(200),
      /** Commit early once this many records completed. Default 500. */
      commitBatch: z.int().min(1).default(500),
      /**
       * Time a revocation or shutdown waits for in-flight records before abandoning them (they
       * are fetched again by the next owner). Must stay under 80 % of kafka.sessionTimeoutMs,
       * since the group waits that long for this member to rejoin. Default 5000 ms.
       */
      drainTimeoutMs: z.int().min(0).default(5_000),
    })
    .prefault({}),
  retry: z
    .strictObject({
      /** Attempts per record, the first included. Default 5. */
      maxAttempts: z.int().min(1).max(100).default(5),
      /** First backoff ceiling. Default 100 ms. */
      baseDelayMs: z.int().min(0).default(100),
      /** Largest backoff. Default 10000 ms. */
      maxDelayMs: z.int().min(0).default(10_000),
      /** Retries allowed per first attempt across the replica pool. Default 0.2. */
      budgetRatio: z.number().min(0).max(10).default(0.2),
      /** Retries allowed per second whatever the traffic. Default 10. */
      budgetMinPerSecond: z.number().min(0).default(10),
    })
    .prefault({}),
  queue: z
    .strictObject({
      /** BullMQ queue name. Default 'inference'. */
      name: z
        .string()
        .regex(/^[A-Za-z0-9._-]+$/)
        .default('inference'),
      /** Queue depth above which partitions stop fetching. Default 2000. */
      highWater: z.int().min(1).default(2_000),
      /** Queue depth below which they fetch again. Default 1000. */
      lowWater: z.int().min(0).default(1_000),
      /** Finished jobs kept for redeliveries, by age. Default 3600 s. */
      retainSeconds: z.int().min(1).default(3_600),
      /** Finished jobs kept for redeliveries, by count. Default 100000. */
      retainCount: z.int().min(1).default(100_000),
      /**
       * How long a worker's lock on a running job lasts unless renewed (every half of it).
       * Default 15000 ms: with the stalled-job check below, a dead worker's job runs again within
       * about 25 s, well inside the default record time-to-live (task.defaultTtlMs, 60 s);
       * BullMQ's own defaults (30 s and 30 s) could let it come back only after that. On
       * shutdown, also how long workers may finish the jobs they hold before the process leaves.
       */
      lockDurationMs: z.int().min(100).default(15_000),
      /** How often workers look for jobs whose worker died (lock expired). Default 10000 ms. */
      stalledIntervalMs: z.int().min(100).default(10_000),
    })
    .prefault({}),
  /** Circuit breaker of each replica; see src/actors/breaker.ts. */
  breaker: z
    .strictObject({
      /** Latest call outcomes kept per replica. Default 50. */
      windowSize: z.int().min(1).default(defaultBreakerOptions.windowSize),
      /** Calls in the window before the failure rate counts. Default 20. */
      minimumCalls: z.int().min(1).default(defaultBreakerOptions.minimumCalls),
      /** Failure rate in the window that opens the breaker. Default 0.5. */
      failureRateThreshold: z
        .number()
        .gt(0)
        .max(1)
        .default(defaultBreakerOptions.failureRateThreshold),
      /** Failures in a row that open the breaker. Default 20. */
      consecutiveFailures: z.int().min(1).default(defaultBreakerOptions.consecutiveFailures),
      /** Time open before probing. Default 5000 ms. */
      cooldownMs: z.int().min(0).default(defaultBreakerOptions.cooldownMs),
      /** Probes at once when half-open, and successes that close it. Default 2. */
      probes: z.int().min(1).default(defaultBreakerOptions.probes),
    })
    .prefault({}),
  supervisor: z
    .strictObject({
      /** Restarts allowed per partition actor inside the window. Default 5. */
      restartBudget: z.int().min(0).default(5),
      /** Window of the restart budget. Default 60000 ms. */
      restartWindowMs: z.int().min(1).default(60_000),
    })
    .prefault({}),
  http: z
    .strictObject({
      /** Listen address. Default 127.0.0.1. */
      host: z.string().min(1).default('127.0.0.1'),
      /** Listen port; 0 picks a free one. Default 8080. */
      port: z.int().min(0).max(65_535).default(8080),
      /** Bearer token for controls; controls are disabled without one. */
      token: z.string().min(16).optional(),
      /** Reads (actors, machines, events, metrics) need the token too. Default false. */
      protectReads: z.boolean().default(false),
    })
    .prefault({}),
  workers: z
    .strictObject({
      /** Run the replica workers inside the service. Default true. */
      inProcess: z.boolean().default(true),
    })
    .prefault({}),
});

export type ConfigInput = z.input<typeof configSchema>;
type Parsed = z.output<typeof configSchema>;
export type Config = Parsed & { topics: Parsed['topics'] & { output: string; deadLetter: string } };
export type ReplicaConfig = Config['replicas'][number];

function validPort(text: string): boolean {
  const port = Number(text);
  return Number.isInteger(port) && port >= 1 && port <= 65_535;
}

/** Validates a configuration object; the first problem stops start-up, naming its field. */
export function parseConfig(input: unknown): Config {
  const result = configSchema.safeParse(input);
  if (!result.success) {
    const issue = result.error.issues[0];
    const path = [...(issue?.path ?? [])];
    if (issue?.code === 'unrecognized_keys') {
      path.push(issue.keys[0] ?? '');
      throw new ConfigError(path.join('.'), 'unknown field (misspelled?)');
    }
    const field = path.length ? path.join('.') : '(root)';
    throw new ConfigError(field, issue?.message ?? 'invalid');
  }
  const config = result.data;
  if (config.queue.lowWater >= config.queue.highWater) {
    throw new ConfigError('queue.lowWater', 'must be below queue.highWater');
  }
  if (config.kafka.heartbeatIntervalMs >= config.kafka.sessionTimeoutMs) {
    // The broker would count the member dead between two heartbeats.
    throw new ConfigError('kafka.heartbeatIntervalMs', 'must be below kafka.sessionTimeoutMs');
  }
  if (config.partition.drainTimeoutMs >= 0.8 * config.kafka.sessionTimeoutMs) {
    throw new ConfigError(
      'partition.drainTimeoutMs',
      'must be below 80% of kafka.sessionTimeoutMs',
    );
  }
  if (config.partition.onDeadLetter === 'park' && config.partition.ordering !== 'key') {
    throw new ConfigError(
      'partition.onDeadLetter',
      '"park" parks a key, so it needs partition.ordering "key"',
    );
  }
  if (config.http.protectReads && config.http.token === undefined) {
    throw new ConfigError('http.protectReads', 'needs http.token (TOKENLINE_HTTP_TOKEN)');
  }
  if (config.breaker.minimumCalls > config.breaker.windowSize) {
    throw new ConfigError('breaker.minimumCalls', 'must not exceed breaker.windowSize');
  }
  if (config.retry.baseDelayMs > config.retry.maxDelayMs) {
    throw new ConfigError('retry.baseDelayMs', 'must not exceed retry.maxDelayMs');
  }
  const topics = {
    ...config.topics,
    output: config.topics.output ?? `${config.topics.input}.results`,
    deadLetter: config.topics.deadLetter ?? `${config.topics.input}.dlq`,
  };
  if (new Set([topics.input, topics.output, topics.deadLetter]).size < 3) {
    throw new ConfigError('topics', 'input, output and deadLetter must be three different topics');
  }
  return { ...config, topics };
}

const envOverrides: Array<[string, string[], (v: string) => unknown]> = [
  ['TOKENLINE_KAFKA_BROKERS', ['kafka', 'brokers'], (v) => v.split(',').map((b) => b.trim())],
  ['TOKENLINE_GROUP_ID', ['kafka', 'groupId'], (v) => v],
  ['TOKENLINE_REDIS_URL', ['redis', 'url'], (v) => v],
  ['TOKENLINE_INPUT_TOPIC', ['topics', 'input'], (v) => v],
  ['TOKENLINE_HTTP_PORT', ['http', 'port'], (v) => Number(v)],
  ['TOKENLINE_HTTP_TOKEN', ['http', 'token'], (v) => v],
];

/**
 * Reads the configuration: the JSON file named by TOKENLINE_CONFIG (if any), then the
 * TOKENLINE_* environment variables on top, then defaults for everything left out.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const base = env.TOKENLINE_CONFIG ? readJsonFile(env.TOKENLINE_CONFIG) : {};
  for (const [name, path, convert] of envOverrides) {
    const value = env[name];
    if (value !== undefined && value !== '') setPath(base, path, convert(value));
  }
  return parseConfig(base);
}

function readJsonFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError('TOKENLINE_CONFIG', `cannot read ${path}: ${(error as Error).message}`);
  }
  try {
    const value: unknown = JSON.parse(text);
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      return value as Record<string, unknown>;
    }
  } catch (error) {
    throw new ConfigError('TOKENLINE_CONFIG', `${path} is not JSON: ${(error as Error).message}`);
  }
  throw new ConfigError('TOKENLINE_CONFIG', `${path} must hold a JSON object`);
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const part of path.slice(0, -1)) {
    const next = node[part];
    if (!next || typeof next !== 'object') node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  const last = path[path.length - 1];
  if (last) node[last] = value;
}

/** The largest default headroom: the built-in replica queues 64 requests, then answers 429. */
const maxDefaultHeadroom = 64;

/** Jobs a replica's worker runs at once: its slots plus the headroom queued at the replica. */
export function workerConcurrency(replica: ReplicaConfig): number {
  const headroom = replica.headroom ?? Math.min(Math.ceil(replica.slots / 2), maxDefaultHeadroom);
  return replica.slots + headroom;
}
