import { cpuTable, stageTable } from '../support/figure-tables.ts';
import { LiveRun } from '../support/live-run.ts';
import { type Observation, observe } from '../support/observation.ts';
import type { Replicas } from '../support/replicas.ts';
import { format, type ScenarioResult } from '../support/report.ts';
import type { RunResources } from '../support/resources.ts';
import type { Settled } from '../support/tally.ts';
import { metricSum, type TokenlineProcess } from '../support/tokenline.ts';
import { Workload } from '../support/workload.ts';
import { type BenchContext, type Scenario, serviceConfig, size, withReplicas } from './scenario.ts';

const targetAmplification = 1.1;
const ttlMs = 120_000;

/**
 * Live traffic at half capacity while the replica answers every call with 503 for a while
 * (PUT /admin/faults with outageUntil): how long the backlog takes to drain once it is
 * back, how many model calls the outage cost, and whether any record went missing.
 */
export const recovery: Scenario = {
  name: 'recovery',
  title: '6. Recovery from a replica outage',
  run: async (context) => {
    const s = settings(context);
    const replicas = { count: 1, slots: s.slots, serviceTimeMs: 50 };
    return withReplicas(context, 'recovery', replicas, async (resources, started) =>
      report(context, await measure(context, resources, started)),
    );
  },
};

function settings(context: BenchContext) {
  const slots = size(context, 64, 8);
  return {
    slots,
    partitions: 3,
    rate: (0.5 * slots * 1000) / 50,
    beforeMs: size(context, 10_000, 1_500),
    outageMs: size(context, 30_000, 2_000),
    afterMs: size(context, 40_000, 1_000),
  };
}

interface Measured extends Observation {
  sent: number;
  sendFailures: number;
  settledAll: boolean;
  lost: number;
  duplicates: number;
  deadLetters: Map<string, number>;
  modelCalls: number;
  retries: number;
  drainMs: number;
}

async function measure(
  context: BenchContext,
  resources: RunResources,
  replicas: Replicas,
): Promise<Measured> {
  const s = settings(context);
  const workload = new Workload({ keys: 1_000, ttlMs, idPrefix: resources.name });
  const run = await LiveRun.start({
    label: 'recovery',
    resources,
    replicas,
    workload,
    partitions: s.partitions,
    rate: s.rate,
    detailed: false,
    extra: serviceConfig(context),
  });
  try {
    const service = run.contender.tokenline as TokenlineProcess;
    await Bun.sleep(s.beforeMs);
    const finish = await observe(service, replicas, run.contender.queueName as string);
    const recoveredAt = Date.now() + s.outageMs;
    await replicas.setFaults({ outageUntil: recoveredAt });
    context.log(`recovery: replica down until ${new Date(recoveredAt).toISOString()}`);
    await Bun.sleep(s.outageMs + s.afterMs);
    const sent = await run.producer.stop();
    const settledAll = await run.settleAll(180_000);
    const observation = await finish();
    const retries = metricSum(await service.metrics(), 'tokenline_retries_total');
    const modelCalls = await replicas.modelCalls();

    return {
      ...outcomes(workload, run.tally.settled, sent),
      sent,
      sendFailures: run.producer.failures,
      settledAll,
      modelCalls,
      retries,
      drainMs: drainTime(workload, run.tally.settled, recoveredAt),
      ...observation,
    };
  } finally {
    await run.stop();
  }
}

function outcomes(workload: Workload, settled: Settled[], sent: number) {
  const seen = new Set(settled.map((x) => x.eventId));
  let lost = 0;
  for (let i = 0; i < sent; i++) if (!seen.has(workload.eventId(i))) lost++;
  const deadLetters = new Map<string, number>();
  for (const x of settled) {
    if (x.reason !== null) deadLetters.set(x.reason, (deadLetters.get(x.reason) ?? 0) + 1);
  }
  return { lost, duplicates: settled.length - seen.size, deadLetters };
}

/**
 * From the replica's return until every record sent before it had settled: the records that
 * piled up during the outage are drained then.
 */
function drainTime(workload: Workload, settled: Settled[], recoveredAt: number): number {
  let last = recoveredAt;
  for (const x of settled) {
    const index = workload.indexOf(x.eventId);
    const sentAt = workload.deadline(index) - ttlMs;
    if (sentAt < recoveredAt && x.appendedAt > last) last = x.appendedAt;
  }
  return last - recoveredAt;
}

function report(context: BenchContext, m: Measured): ScenarioResult {
  const s = settings(context);
  const records = m.sent - m.sendFailures;
  const amplification = m.modelCalls / records;
  const dead = [...m.deadLetters].map(([reason, n]) => `${reason} ${n}`).join(', ') || 'none';
  return {
    name: 'recovery',
    title: recovery.title,
    setup: [
      `paced producer at ${format.int(s.rate)} records/s (50 % of ${s.slots} slots × 50 ms), ${s.partitions} partitions, Tokenline defaults (retry budget 0.2 + 10/s, 5 attempts)`,
      `${s.beforeMs / 1000} s of traffic, then the replica answers 503 (Retry-After: the seconds left) for ${s.outageMs / 1000} s, then ${s.afterMs / 1000} s more traffic; then every record is waited for`,
      'model calls: served + failed + rejected + aborted from the replica’s GET /admin/stats',
    ],
    tables: [
      {
        header: ['figure', 'value'],
        rows: [
          ['records sent', format.int(records)],
          ['drain time after the replica came back', format.ms(m.drainMs)],
          ['model calls', format.int(m.modelCalls)],
          ['model calls / records (retry amplification)', format.fixed(amplification, 3)],
          ['retries counted by Tokenline', format.int(m.retries)],
          ['dead letters by reason', dead],
          ['records lost (in neither results nor dead letters)', format.int(m.lost)],
          ['duplicate results or dead letters', format.int(m.duplicates)],
          [
            'every record settled within 180 s after the traffic stopped',
            m.settledAll ? 'yes' : 'no',
          ],
        ],
      },
      stageTable([{ label: 'outage and drain', stages: m.stages }]),
      cpuTable([{ label: 'outage and drain', cpu: m.cpu, eventLoop: m.eventLoop }]),
    ],
    targets: [
      {
        target: `retry amplification < ${targetAmplification}`,
        value: format.fixed(amplification, 3),
        met: context.smoke ? null : amplification < targetAmplification,
      },
      { target: 'records lost = 0', value: format.int(m.lost), met: m.lost === 0 },
    ],
    notes:
      m.sendFailures > 0 ? [`${m.sendFailures} records failed to be sent and are not counted`] : [],
    figures: {
      records,
      lost: m.lost,
      duplicates: m.duplicates,
      amplification,
      drainMs: m.drainMs,
      settledAll: m.settledAll ? 1 : 0,
    },
  };
}
