import type { CpuShare, EventLoopShare } from './cpu-budget.ts';
import { format, type Table } from './report.ts';
import type { StageReport } from './stages.ts';

/** Records waiting in each stage, mean over the window, one row per measured run. */
export function stageTable(rows: Array<{ label: string; stages: StageReport | null }>): Table {
  return {
    caption:
      'Where records wait (mean records per stage over the window; sampled once a second ' +
      'from the service HTTP API, the BullMQ lists and the replica counters):',
    header: [
      'run',
      'Kafka (not fetched)',
      'actor (key order)',
      'queue (BullMQ wait)',
      'worker',
      'replica',
      'results (delivery)',
      'produce',
      'commit (uncommitted)',
      'window fill',
      'paused',
      'replica slots busy',
      'owner of the queue',
    ],
    rows: rows
      .filter((r) => r.stages !== null)
      .map(({ label, stages }) => stageRow(label, stages as StageReport)),
  };
}

function stageRow(label: string, s: StageReport): string[] {
  const paused = Object.entries(s.pausedShare)
    .map(([reason, share]) => `${reason} ${format.percent(share)}`)
    .join(', ');
  return [
    label,
    format.int(s.means.kafka),
    format.fixed(s.means.actor),
    format.fixed(s.means.queue),
    format.fixed(s.means.worker),
    format.fixed(s.means.replica),
    format.fixed(s.means.results),
    format.fixed(s.means.produce),
    format.fixed(s.means.commit),
    format.percent(s.windowFill),
    paused || 'never',
    format.percent(s.replicaBusy),
    s.owner,
  ];
}

interface CpuRow {
  label: string;
  cpu: CpuShare[];
  eventLoop?: EventLoopShare | null;
}

/**
 * Cores each process used over the window (1.0 = one core busy all the time), and the
 * contender's event loop: the share of the window its main thread ran, and the share it was
 * ready to run but waited for a CPU. Running plus waiting near 100 % means the loop alone
 * was the limit; the waiting part is what the rest of the machine took from it.
 */
export function cpuTable(rows: CpuRow[]): Table {
  const rest = 'rest of machine';
  const seen = new Set(rows.flatMap((r) => r.cpu.map((c) => c.name)));
  const names = [...[...seen].filter((name) => name !== rest), rest];
  return {
    caption: 'CPU over the window, in cores, and the contender’s event loop (main thread):',
    header: ['run', ...names, 'total', 'event loop on a CPU', 'event loop waiting for a CPU'],
    rows: rows.map(({ label, cpu, eventLoop }) => {
      const cores = names.map((name) => cpu.find((c) => c.name === name)?.cores ?? Number.NaN);
      const total = cpu.reduce((sum, c) => sum + c.cores, 0);
      return [
        label,
        ...cores.map((c) => format.fixed(c, 2)),
        format.fixed(total, 2),
        format.percent(eventLoop?.running ?? Number.NaN),
        format.percent(eventLoop?.waiting ?? Number.NaN),
      ];
    }),
  };
}
