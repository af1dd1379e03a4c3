import { Redis } from 'ioredis';
import { type Contender, startContender } from '../support/contenders.ts';
import { type MemorySample, MemorySampler } from '../support/proc-stats.ts';
import type { Replicas } from '../support/replicas.ts';
import { format, type ScenarioResult } from '../support/report.ts';
import { type RunResources, redisUrl } from '../support/resources.ts';
import { Tally } from '../support/tally.ts';
import { metricSum, type TokenlineProcess } from '../support/tokenline.ts';
import { produceBacklog, Workload } from '../support/workload.ts';
import { type BenchContext, type Scenario, serviceConfig, size, withReplicas } from './scenario.ts';

/** 300 MB, in bytes (10^6 per MB). */
const targetBytes = 300e6;

/**
 * A backlog far larger than memory could hold if it were buffered, and a replica at a tenth
 * of the speed the capacity scenario's replica serves: the service's resident memory must
 * stay flat however much waits in Kafka.
 */
export const backlogMemory: Scenario = {
  name: 'memory',
  title: '5. Memory under a backlog',
  run: async (context) => {
    const s = settings(context);
    const replicas = { count: 1, slots: s.slots, serviceTimeMs: s.serviceTimeMs };
    return withReplicas(context, 'memory', replicas, async (resources, started) =>
      report(context, await measure(context, resources, started)),
    );
  },
};

function settings(context: BenchContext) {
  return {
    records: size(context, 1_000_000, 3_000),
    partitions: 3,
    slots: size(context, 64, 8),
    // A tenth of the capacity scenario's replica: 64 slots × 500 ms = 128 records/s.
    serviceTimeMs: 500,
    runMs: size(context, 150_000, 3_000),
    sampleMs: 500,
  };
}

interface Measured {
  samples: MemorySample[];
  peak: number;
  settled: number;
  lagAtEnd: number;
  redisGrowth: number;
  queueDepth: number;
  produceRate: number;
}

async function measure(
  context: BenchContext,
  resources: RunResources,
  replicas: Replicas,
): Promise<Measured> {
  const s = settings(context);
  const topics = await resources.topics('memory', s.partitions);
  const workload = new Workload({ keys: 1_000, ttlMs: 3_600_000, idPrefix: resources.name });
  const produceRate = await writeBacklog(context, workload, topics.input, s.records);
  const redisBefore = await redisUsedMemory();
  const tally = new Tally(topics, resources.group('memory-tally'));
  await tally.start();
  const contender = await startContender({
    kind: 'tokenline',
    label: 'memory',
    resources,
    topics,
    replicas,
    extra: serviceConfig(context),
  }).catch(async (error) => {
    await tally.close();
    throw error;
  });
  const sampler = new MemorySampler(contender.pid, s.sampleMs);
  try {
    if (!(await tally.waitFor(1, 60_000))) throw new Error('memory: no result within 60 s');
    const end = await watch(context, contender, s.runMs);
    return {
      ...end,
      samples: sampler.stop(),
      peak: sampler.peak,
      redisGrowth: (await redisUsedMemory()) - redisBefore,
      produceRate,
    };
  } finally {
    sampler.stop();
    await contender.stop();
    await tally.close();
  }
}

/** Writes the backlog, saying so every tenth of the way; returns records written per second. */
function writeBacklog(
  context: BenchContext,
  workload: Workload,
  topic: string,
  records: number,
): Promise<number> {
  const step = Math.max(1, Math.floor(records / 10));
  const total = records.toLocaleString('en-US');
  let shown = 0;
  return produceBacklog(workload, topic, { from: 0, to: records }, (written) => {
    if (written - shown < step) return;
    shown = written;
    context.log(`memory: ${written.toLocaleString('en-US')} of ${total} records written`);
  });
}

/** Lets the service work on the backlog for `runMs`, logging progress, then reads its gauges. */
async function watch(context: BenchContext, contender: Contender, runMs: number) {
  const service = contender.tokenline as TokenlineProcess;
  const end = Date.now() + runMs;
  const depths: number[] = [];
  while (Date.now() < end) {
    await Bun.sleep(Math.min(5_000, Math.max(0, end - Date.now())));
    const metrics = await service.metrics();
    depths.push(metricSum(metrics, 'tokenline_inference_queue_depth'));
    const settled = metricSum(metrics, 'tokenline_records_produced_total');
    context.log(
      `memory: ${format.int(settled)} settled, lag ${format.int(metricSum(metrics, 'tokenline_consumer_lag_records'))}`,
    );
  }
  const metrics = await service.metrics();
  return {
    settled:
      metricSum(metrics, 'tokenline_records_produced_total') +
      metricSum(metrics, 'tokenline_records_dead_lettered_total'),
    lagAtEnd: metricSum(metrics, 'tokenline_consumer_lag_records'),
    queueDepth: depths.length > 0 ? Math.max(...depths) : Number.NaN,
  };
}

async function redisUsedMemory(): Promise<number> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 3 });
  try {
    return Number(/^used_memory:(\d+)/m.exec(await redis.info('memory'))?.[1]);
  } finally {
    redis.disconnect();
  }
}

function report(context: BenchContext, m: Measured): ScenarioResult {
  const s = settings(context);
  const third = Math.floor(m.samples.length / 3);
  const maxRss = (list: MemorySample[]) => Math.max(0, ...list.map((x) => x.rss));
  const middle = maxRss(m.samples.slice(third, 2 * third));
  const last = maxRss(m.samples.slice(2 * third));
  return {
    name: 'memory',
    title: backlogMemory.title,
    setup: [
      `${s.records.toLocaleString('en-US')} records written before the service starts (${format.int(m.produceRate)} records/s); ${s.partitions} partitions`,
      `replica ${s.slots} slots × ${s.serviceTimeMs} ms = ${format.int((s.slots * 1000) / s.serviceTimeMs)} records/s, a tenth of the capacity scenario's replica; Tokenline defaults`,
      `\`bun src/main.ts run\` in its own process for ${s.runMs / 1000} s after its first result; VmRSS and VmHWM from /proc/<pid>/status every ${s.sampleMs} ms`,
    ],
    tables: [
      {
        header: ['figure', 'value'],
        rows: [
          ['peak RSS (VmHWM)', `${format.mb(m.peak)} (${format.mib(m.peak)})`],
          ['RSS, highest in the middle third of the run', format.mb(middle)],
          ['RSS, highest in the last third of the run', format.mb(last)],
          ['records settled during the run', format.int(m.settled)],
          ['consumer lag at the end (records waiting in Kafka)', format.int(m.lagAtEnd)],
          ['inference queue depth, highest sample', format.int(m.queueDepth)],
          ['Redis used_memory growth over the run', format.mb(m.redisGrowth)],
        ],
      },
      { header: ['seconds', 'RSS'], rows: timeline(m.samples) },
    ],
    targets: [
      {
        target: 'peak RSS < 300 MB with the backlog',
        value: format.mb(m.peak),
        met: context.smoke ? null : m.peak < targetBytes,
      },
    ],
    notes: last > middle * 1.1 ? ['RSS still grew in the last third of the run'] : [],
    figures: { peakRssBytes: m.peak, settled: m.settled, lagAtEnd: m.lagAtEnd },
  };
}

/** RSS about every tenth of the run. */
function timeline(samples: MemorySample[]): string[][] {
  const first = samples[0]?.at ?? 0;
  const every = Math.max(1, Math.floor(samples.length / 10));
  return samples
    .filter((_, i) => i % every === 0 || i === samples.length - 1)
    .map((x) => [format.fixed((x.at - first) / 1000, 1), format.mb(x.rss)]);
}
