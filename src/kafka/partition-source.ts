import {
  type API,
  type Broker,
  type Connection,
  ConnectionPool,
  FetchIsolationLevels,
  type fetchV17,
  findErrorBy,
  kGetApi,
  kOptions,
  ListOffsetTimestamps,
} from '@platformatic/kafka';
import type { FetchResult } from '../actors/ports.ts';
import { logger } from '../log.ts';
import type { BufferConsumer } from './clients.ts';
import { classify, errorName, PartitionFetchError } from './fetch-errors.ts';
import { decodeRecordBatches } from './record-batches.ts';

export interface PartitionFetchOptions {
  /** How long the broker may hold the request when there is no data yet. */
  maxWaitMs: number;
  /** Most bytes of records to return (the broker still returns a first batch that is larger). */
  maxBytes: number;
  /** Aborting closes the partition's connection, so a long poll ends at once. */
  signal?: AbortSignal;
}

export interface PartitionFetchResult extends FetchResult {
  /**
   * Set when the requested offset was out of range (deleted by retention, or past the end
   * after a truncation): the offset that was asked for. The records then start at the
   * partition's earliest offset.
   */
  resetFrom?: bigint;
}

export interface PartitionSourceOptions {
  /** Skip records of aborted transactions and stop at the last stable offset. Default true. */
  readCommitted?: boolean;
  /** Further attempts of one fetch after a leader change or a lost connection. Default 6. */
  retries?: number;
  /** First pause between attempts; it doubles up to 2000 ms. Default 250 ms. */
  retryDelayMs?: number;
  /** Time a fetch may take on the wire beyond its maxWaitMs. Default 10000 ms. */
  requestMarginMs?: number;
}

type FetchApi = API<fetchV17.FetchRequest, fetchV17.FetchResponse>;
type FetchedPartition = fetchV17.FetchResponsePartition;
type Step =
  | { kind: 'records'; result: FetchResult }
  | { kind: 'reset'; from: bigint }
  | { kind: 'retry'; error: Error };

const maxRetryDelayMs = 2_000;
// Fetch v12 and earlier name topics; v13 and later identify them by id.
const lastVersionWithTopicNames = 12;

const log = logger('kafka');

/**
 * Reads one partition at a time, for partition actors that each fetch their own partition:
 * fetch, admit into the window, fetch again — so a partition that stops fetching holds back
 * nobody else.
 *
 * Each partition has its own connection to its leader. A Kafka broker answers the requests of
 * one connection strictly in order, so long polls of several partitions on a shared connection
 * queue behind each other: measured on the test broker, a partition with data waited the full
 * 2000 ms maxWait of an empty partition ahead of it, against 1 ms on its own connection. The
 * alternative, short polls on one connection, trades that wait for a busy loop of empty fetches.
 * A connection per partition costs one socket per assigned partition per broker, which is
 * cheap at the partition counts one member owns.
 *
 * Fetches are sessionless (KIP-227's full fetch, epoch -1): a session would track a set of
 * partitions per connection, which is what a per-partition loop does not have, and the
 * consumer's own session cache is keyed by broker and would be thrashed by these requests.
 */
export class PartitionSource {
  readonly #consumer: BufferConsumer;
  readonly #isolationLevel: number;
  readonly #retries: number;
  readonly #retryDelayMs: number;
  readonly #requestMarginMs: number;
  readonly #pools = new Map<string, { pool: ConnectionPool; requestTimeoutMs: number }>();
  #api: Promise<FetchApi> | null = null;

  constructor(consumer: BufferConsumer, options: PartitionSourceOptions = {}) {
    this.#consumer = consumer;
    this.#isolationLevel =
      (options.readCommitted ?? true)
        ? FetchIsolationLevels.READ_COMMITTED
        : FetchIsolationLevels.READ_UNCOMMITTED;
    this.#retries = options.retries ?? 6;
    this.#retryDelayMs = options.retryDelayMs ?? 250;
    this.#requestMarginMs = options.requestMarginMs ?? 10_000;
  }

  /** The group's committed offset of the partition, else the partition's earliest offset. */
  async startOffset(topic: string, partition: number): Promise<bigint> {
    const committed = await this.#consumer.listCommittedOffsets({
      topics: [{ topic, partitions: [partition] }],
    });
    const offset = committed.get(topic)?.[partition] ?? -1n;
    return offset >= 0n ? offset : this.#earliest(topic, partition);
  }

  /**
   * One Fetch request to the partition's leader for this partition alone. Returns the records
   * at and after `offset`, without transaction markers (and, when reading committed, without
   * aborted records). Leader changes and lost connections are retried with fresh metadata; an
   * out-of-range offset restarts from the earliest offset and says so in `resetFrom`.
   */
  async fetch(
    topic: string,
    partition: number,
    offset: bigint,
    options: PartitionFetchOptions,
  ): Promise<PartitionFetchResult> {
    let from = offset;
    let resetFrom: bigint | undefined;
    let lastError: Error | null = null;

    for (let attempt = 0; attempt <= this.#retries; attempt++) {
      if (lastError) await pause(this.#backoff(attempt), options.signal);
      options.signal?.throwIfAborted();
      const step = await this.#attempt(topic, partition, from, options, lastError !== null);
      if (step.kind === 'records')
        return resetFrom === undefined ? step.result : { ...step.result, resetFrom };
      if (step.kind === 'reset') {
        log.warn({ topic, partition, offset: step.from, requested: offset }, 'offset out of range');
        resetFrom ??= offset;
        from = step.from;
      }
      lastError = step.kind === 'retry' ? step.error : null;
    }

    throw new PartitionFetchError(
      true,
      `fetching ${topic}/${partition} failed after ${this.#retries + 1} attempts`,
      lastError instanceof PartitionFetchError ? lastError.kafkaError : null,
      lastError,
    );
  }

  /** Closes the partition's connection, e.g. once the partition is revoked. */
  async release(topic: string, partition: number): Promise<void> {
    await this.#dropConnection(partitionKey(topic, partition));
  }

  async close(): Promise<void> {
    await Promise.all([...this.#pools.keys()].map((key) => this.#dropConnection(key)));
  }

  /** One request, and what to do next: return its records, restart elsewhere, or retry. */
  async #attempt(
    topic: string,
    partition: number,
    from: bigint,
    options: PartitionFetchOptions,
    refreshMetadata: boolean,
  ): Promise<Step> {
    let answer: FetchedPartition;
    try {
      answer = await this.#fetchOnce(topic, partition, from, options, refreshMetadata);
    } catch (error) {
      return { kind: 'retry', error: await this.#failed(topic, partition, error, options.signal) };
    }

    const name = errorName(answer.errorCode);
    switch (classify(answer.errorCode)) {
      case 'ok':
        return { kind: 'records', result: this.#result(topic, partition, from, answer) };
      case 'out-of-range': {
        const earliest = answer.logStartOffset;
        return {
          kind: 'reset',
          from: earliest >= 0n ? earliest : await this.#earliest(topic, partition),
        };
      }
      case 'stale':
        this.#consumer.clearMetadata();
        return {
          kind: 'retry',
          error: new PartitionFetchError(true, `${topic}/${partition}: ${name}`, name),
        };
      default:
        throw new PartitionFetchError(
          false,
          `fetching ${topic}/${partition} failed: ${name}`,
          name,
        );
    }
  }

  async #fetchOnce(
    topic: string,
    partition: number,
    offset: bigint,
    options: PartitionFetchOptions,
    refreshMetadata: boolean,
  ): Promise<FetchedPartition> {
    const metadata = await this.#consumer.metadata({
      topics: [topic],
      forceUpdate: refreshMetadata,
    });
    const topicMetadata = metadata.topics.get(topic);
    const leader = topicMetadata?.partitions[partition];
    const broker = leader ? metadata.brokers.get(leader.leader) : undefined;
    if (!topicMetadata || !leader || !broker) {
      throw new PartitionFetchError(true, `no leader known for ${topic}/${partition}`, null);
    }

    const api = await this.#fetchApi();
    const key = partitionKey(topic, partition);
    const connection = await this.#connection(key, broker, options.maxWaitMs);
    const request: fetchV17.FetchRequestTopic = {
      topicId: api.version <= lastVersionWithTopicNames ? topic : topicMetadata.id,
      partitions: [
        {
          partition,
          // Our view of the leader's epoch: a stale leader refuses with FENCED_LEADER_EPOCH.
          currentLeaderEpoch: leader.leaderEpoch,
          fetchOffset: offset,
          lastFetchedEpoch: -1,
          partitionMaxBytes: options.maxBytes,
        },
      ],
    };
    const response = await this.#send(api, connection, request, key, options);
    const answer = response.responses[0]?.partitions.find((p) => p.partitionIndex === partition);
    if (!answer) throw new PartitionFetchError(true, `no answer for ${topic}/${partition}`, null);

    return answer;
  }

  #send(
    api: FetchApi,
    connection: Connection,
    request: fetchV17.FetchRequestTopic,
    key: string,
    options: PartitionFetchOptions,
  ): Promise<fetchV17.FetchResponse> {
    const { signal } = options;
    return new Promise((resolve, reject) => {
      // Aborted while metadata or the connection was awaited: the event has fired already.
      if (signal?.aborted) return reject(signal.reason);
      const onAbort = () => {
        reject(signal?.reason);
        // The broker would hold the request until maxWait; closing the connection ends it now.
        void this.#dropConnection(key);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const done = (error: Error | null, response?: fetchV17.FetchResponse) => {
        signal?.removeEventListener('abort', onAbort);
        // A partition-level error comes back as an error that carries the whole response.
        const answered =
          response ?? (error as { response?: fetchV17.FetchResponse } | null)?.response;
        if (answered && answered.errorCode === 0) resolve(answered);
        else reject(error);
      };
      // Sessionless: session id 0 with epoch -1 asks for a full fetch that opens no session.
      api(
        connection,
        options.maxWaitMs,
        1,
        options.maxBytes,
        this.#isolationLevel,
        0,
        -1,
        [request],
        [],
        '',
        done,
      );
    });
  }

  #result(topic: string, partition: number, from: bigint, answer: FetchedPartition): FetchResult {
    const readCommitted = this.#isolationLevel === FetchIsolationLevels.READ_COMMITTED;
    const aborted = readCommitted ? answer.abortedTransactions : null;
    const decoded = decodeRecordBatches(topic, partition, answer.records ?? [], from, aborted);

    return {
      records: decoded.records,
      nextOffset: decoded.nextOffset,
      highWatermark: answer.highWatermark,
    };
  }

  /** Turns a failed attempt into a value to retry on, or throws when retrying cannot help. */
  async #failed(
    topic: string,
    partition: number,
    error: unknown,
    signal?: AbortSignal,
  ): Promise<Error> {
    if (signal?.aborted) throw signal.reason;
    const retryable = !(error instanceof Error) || findErrorBy(error, 'canRetry', false) === null;
    if (!retryable || !(error instanceof Error)) {
      throw new PartitionFetchError(false, `fetching ${topic}/${partition} failed`, null, error);
    }
    // A lost or timed-out connection may have been to a broker that is no longer the leader.
    await this.#dropConnection(partitionKey(topic, partition));
    this.#consumer.clearMetadata();

    return error;
  }

  async #earliest(topic: string, partition: number): Promise<bigint> {
    const offsets = await this.#consumer.listOffsets({
      topics: [topic],
      partitions: { [topic]: [partition] },
      timestamp: ListOffsetTimestamps.EARLIEST,
    });
    const earliest = offsets.get(topic)?.[partition];
    if (earliest === undefined) {
      throw new PartitionFetchError(true, `no earliest offset for ${topic}/${partition}`, null);
    }

    return earliest;
  }

  #fetchApi(): Promise<FetchApi> {
    this.#api ??= new Promise<FetchApi>((resolve, reject) => {
      this.#consumer[kGetApi]<fetchV17.FetchRequest, fetchV17.FetchResponse>(
        'Fetch',
        (error, api) => (error || !api ? reject(error) : resolve(api)),
      );
    });
    // A failed negotiation (broker down at the time) must not stick.
    this.#api.catch(() => {
      this.#api = null;
    });
    return this.#api;
  }

  async #connection(key: string, broker: Broker, maxWaitMs: number): Promise<Connection> {
    // A long poll must not be mistaken for a dead connection: the request timeout leaves room.
    const requestTimeoutMs = maxWaitMs + this.#requestMarginMs;
    let entry = this.#pools.get(key);
    if (entry && entry.requestTimeoutMs < requestTimeoutMs) {
      await this.#dropConnection(key);
      entry = undefined;
    }
    if (!entry) {
      const { connectTimeout, tls, ssl, tlsServerName, sasl } = this.#consumer[kOptions];
      const pool = new ConnectionPool(this.#consumer.clientId, {
        ...{ connectTimeout, tls, ssl, tlsServerName, sasl },
        requestTimeout: requestTimeoutMs,
      });
      entry = { pool, requestTimeoutMs };
      this.#pools.set(key, entry);
    }

    return entry.pool.get(broker);
  }

  async #dropConnection(key: string): Promise<void> {
    const entry = this.#pools.get(key);
    this.#pools.delete(key);
    await entry?.pool.close().catch(() => undefined);
  }

  #backoff(attempt: number): number {
    return Math.min(this.#retryDelayMs * 2 ** (attempt - 1), maxRetryDelayMs);
  }
}

function partitionKey(topic: string, partition: number): string {
  return `${topic}:${partition}`;
}

function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
