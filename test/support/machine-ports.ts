import type { CommitRequest, PartitionPorts } from '../../src/actors/ports.ts';
import type { InferenceOutcome, InferenceRequest } from '../../src/contracts/inference.ts';
import type { ProducedMessage } from '../../src/contracts/output.ts';
import type { SourceRecord } from '../../src/contracts/source-record.ts';

export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
}

export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** Ports whose inference answers are handed out by the test, one deferred per call. */
export interface FakePorts extends PartitionPorts {
  calls: Array<{
    request: InferenceRequest;
    answer: Deferred<InferenceOutcome>;
    signal: AbortSignal;
  }>;
  produced: ProducedMessage[];
  commits: CommitRequest[];
  /** Offsets requested by each fetch, in order. */
  fetches: bigint[];
  /** Makes records available to the partition's pending or next fetch. */
  feed(records: SourceRecord[]): void;
  queueDeep: boolean;
}

export function fakePorts(now: () => number): FakePorts {
  let fed: SourceRecord[] = [];
  let wake: (() => void) | null = null;
  const ports: FakePorts = {
    calls: [],
    produced: [],
    commits: [],
    fetches: [],
    queueDeep: false,
    feed(records) {
      fed.push(...records);
      wake?.();
    },
    async startOffset() {
      return 0n;
    },
    async fetch(_topic, _partition, offset, signal) {
      ports.fetches.push(offset);
      while (fed.length === 0) {
        if (signal.aborted) throw new Error('fetch aborted');
        await new Promise<void>((resolve) => {
          wake = resolve;
          signal.addEventListener('abort', () => resolve(), { once: true });
        });
      }
      const records = fed;
      fed = [];
      const last = records[records.length - 1];
      const nextOffset = last ? last.offset + 1n : offset;
      return { records, nextOffset, highWatermark: nextOffset };
    },
    queueAboveHighWater: () => ports.queueDeep,
    queueBelowLowWater: () => !ports.queueDeep,
    infer(request, signal) {
      const answer = deferred<InferenceOutcome>();
      ports.calls.push({ request, answer, signal });
      return answer.promise;
    },
    async produce(message) {
      ports.produced.push(message);
    },
    async commit(request) {
      ports.commits.push(request);
    },
    now,
    random: () => 0.5,
    retry: { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 1_000 },
    retryBudget: { recordAttempt: () => undefined, tryRetry: () => true },
    outputTopic: 'out',
    deadLetterTopic: 'in.dlq',
    modelRevision: 'rev-test',
    maxValueBytes: 1_000,
    produceRetryMs: 500,
  };
  return ports;
}

export function success(label = 'spam'): InferenceOutcome {
  return {
    ok: true,
    result: {
      output: { label },
      model: 'spam-nb',
      revision: 'rev-test',
      usage: { promptTokens: 3, completionTokens: 0 },
      queueMs: 1,
      serviceMs: 2,
      replica: 'r0',
    },
  };
}

export function sourceRecord(
  offset: number,
  key: string | undefined,
  value: unknown,
): SourceRecord {
  const bytes = typeof value === 'string' ? Buffer.from(value) : Buffer.from(JSON.stringify(value));
  return {
    topic: 'in',
    partition: 0,
    offset: BigInt(offset),
    timestamp: 0n,
    leaderEpoch: 0,
    key: key === undefined ? undefined : Buffer.from(key),
    value: bytes,
    headers: new Map([[Buffer.from('event-id'), Buffer.from(`e${offset}`)]]),
  };
}

/** Lets promise callbacks (and the transitions they trigger) run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}

export function headerOf(message: ProducedMessage, name: string): string | undefined {
  const headers = message.headers;
  if (!(headers instanceof Map)) return undefined;
  for (const [key, value] of headers) if (key.toString() === name) return value.toString();
  return undefined;
}

/**
 * A fetch that answers like a broker holding `records`: every record from the offset asked
 * for, and past the end a long poll until the actor stops. Records turned away by a full
 * window are therefore fetched again.
 */
export function brokerFetch(ports: FakePorts, records: SourceRecord[]): FakePorts['fetch'] {
  const last = records[records.length - 1];
  const end = last ? last.offset + 1n : 0n;
  return async (_topic, _partition, offset, signal) => {
    ports.fetches.push(offset);
    const rest = records.filter((r) => r.offset >= offset);
    if (rest.length === 0) {
      await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
      throw new Error('fetch aborted');
    }
    await new Promise((resolve) => setImmediate(resolve));
    return { records: rest, nextOffset: end, highWatermark: end };
  };
}
