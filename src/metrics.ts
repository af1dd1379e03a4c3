import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { InspectionEvent } from 'xstate';
import type { RecordSettledEvent } from './actors/record.ts';

/** What the collected gauges read when Prometheus scrapes. */
export interface MetricsSource {
  partitions(): Array<{
    partition: string;
    inFlight: number;
    paused: boolean;
    lag: number | null;
  }>;
  queueDepth(): number;
  /** Each replica's breaker state. */
  breakers(): Array<{ replica: string; state: 'closed' | 'open' | 'halfOpen' }>;
}

// Gauge values of the breaker states, in the order a failing replica goes through them.
const breakerStateValue = { closed: 0, halfOpen: 1, open: 2 } as const;

const latencyBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

interface FetchedRecord {
  topic: string;
  partition: number;
  offset: bigint;
}

/**
 * Tokenline's Prometheus metrics. Record outcomes are counted from the machines' own events
 * through XState's inspection hook, so no action needs a metrics call of its own.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly #revision: string;
  readonly #consumed: Counter<'topic'>;
  /** Highest offset counted as consumed, by `topic/partition`. */
  readonly #countedUpTo = new Map<string, bigint>();
  readonly #produced: Counter<'revision'>;
  readonly #deadLettered: Counter<'reason'>;
  readonly #retries: Counter;
  readonly #goodput: Counter<'revision'>;
  readonly #tokens: Counter<'direction' | 'revision'>;
  readonly #queueTime: Histogram<'revision'>;
  readonly #serviceTime: Histogram<'revision' | 'replica'>;
  readonly #endToEnd: Histogram<'outcome'>;

  constructor(source: MetricsSource, revision: string, topic: string) {
    this.#revision = revision;
    const registers = [this.registry];
    this.#consumed = new Counter({
      name: 'tokenline_records_consumed_total',
      help: 'Records fetched from the input topic, each offset counted once.',
      labelNames: ['topic'],
      registers,
    });
    this.#consumed.inc({ topic }, 0);
    this.#produced = new Counter({
      name: 'tokenline_records_produced_total',
      help: 'Results acknowledged by the broker on the output topic.',
      labelNames: ['revision'],
      registers,
    });
    this.#deadLettered = new Counter({
      name: 'tokenline_records_dead_lettered_total',
      help: 'Records written to the dead-letter topic, by reason.',
      labelNames: ['reason'],
      registers,
    });
    this.#retries = new Counter({
      name: 'tokenline_retries_total',
      help: 'Inference attempts beyond the first.',
      registers,
    });
    this.#goodput = new Counter({
      name: 'tokenline_goodput_records_total',
      help: 'Results emitted before their record deadline.',
      labelNames: ['revision'],
      registers,
    });
    this.#tokens = new Counter({
      name: 'tokenline_tokens_total',
      help: 'Tokens reported by the replicas, in (prompt) and out (completion).',
      labelNames: ['direction', 'revision'],
      registers,
    });
    this.#queueTime = new Histogram({
      name: 'tokenline_queue_time_seconds',
      help: 'Time an inference job waited in the queue before a worker took it.',
      labelNames: ['revision'],
      buckets: latencyBuckets,
      registers,
    });
    this.#serviceTime = new Histogram({
      name: 'tokenline_service_time_seconds',
      help: 'Time a replica took to answer.',
      labelNames: ['revision', 'replica'],
      buckets: latencyBuckets,
      registers,
    });
    this.#endToEnd = new Histogram({
      name: 'tokenline_end_to_end_seconds',
      help: 'From the input record timestamp to the acknowledged output or dead letter.',
      labelNames: ['outcome'],
      buckets: latencyBuckets,
      registers,
    });
    registerGauges(this.registry, source);
  }

  /** XState inspection observer; pass as `inspect` when creating the supervisor. */
  readonly inspect = (event: InspectionEvent): void => {
    if (event.type !== '@xstate.event') return;
    const payload = event.event as { type: string };
    if (payload.type === 'record.settled') this.#settled(payload as RecordSettledEvent);
    else if (payload.type === 'xstate.done.actor.fetch') this.#fetched(event.event);
  };

  #fetched(event: unknown): void {
    const output = (event as { output?: { records?: FetchedRecord[] } }).output;
    const records = output?.records;
    const first = records?.[0];
    if (!records || !first) return;
    // A partition fetches records again after its window turned them away, or after a restart
    // or rebalance from the committed offset: each offset counts once.
    const key = `${first.topic}/${first.partition}`;
    const counted = this.#countedUpTo.get(key) ?? -1n;
    let fresh = 0;
    let last = counted;
    for (const record of records) {
      if (record.offset > counted) fresh++;
      if (record.offset > last) last = record.offset;
    }
    this.#countedUpTo.set(key, last);
    if (fresh > 0) this.#consumed.inc({ topic: first.topic }, fresh);
  }

  #settled(event: RecordSettledEvent): void {
    const revision = this.#revision;
    if (event.attempts > 1) this.#retries.inc(event.attempts - 1);
    this.#endToEnd.observe({ outcome: event.outcome }, event.endToEndMs / 1000);
    if (event.outcome === 'dead-lettered') {
      this.#deadLettered.inc({ reason: event.reason ?? 'unknown' });
      return;
    }
    this.#produced.inc({ revision });
    if (event.withinDeadline) this.#goodput.inc({ revision });
    const result = event.result;
    if (!result) return;
    this.#queueTime.observe({ revision }, result.queueMs / 1000);
    this.#serviceTime.observe({ revision, replica: result.replica }, result.serviceMs / 1000);
    this.#tokens.inc({ direction: 'in', revision }, result.usage.promptTokens);
    this.#tokens.inc({ direction: 'out', revision }, result.usage.completionTokens);
  }
}

function registerGauges(registry: Registry, source: MetricsSource): void {
  const registers = [registry];
  new Gauge({
    name: 'tokenline_in_flight_records',
    help: 'Records a partition actor holds and has not settled.',
    labelNames: ['partition'],
    registers,
    collect() {
      for (const p of source.partitions()) this.set({ partition: p.partition }, p.inFlight);
    },
  });
  new Gauge({
    name: 'tokenline_paused_partitions',
    help: 'Partition actors not fetching because of backpressure or an operator.',
    registers,
    collect() {
      this.set(source.partitions().filter((p) => p.paused).length);
    },
  });
  new Gauge({
    name: 'tokenline_consumer_lag_records',
    help: 'End offset minus committed offset, per partition.',
    labelNames: ['partition'],
    registers,
    collect() {
      for (const p of source.partitions()) {
        if (p.lag !== null) this.set({ partition: p.partition }, p.lag);
      }
    },
  });
  new Gauge({
    name: 'tokenline_breaker_state',
    help: 'Circuit breaker of each replica: 0 closed, 1 half-open, 2 open.',
    labelNames: ['replica'],
    registers,
    collect() {
      for (const b of source.breakers())
        this.set({ replica: b.replica }, breakerStateValue[b.state]);
    },
  });
  new Gauge({
    name: 'tokenline_inference_queue_depth',
    help: 'Inference jobs this service enqueued that have not finished.',
    registers,
    collect() {
      this.set(source.queueDepth());
    },
  });
}
