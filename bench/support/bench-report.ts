import type { Envelope } from './envelope.ts';
import {
  markdownTable,
  type ScenarioResult,
  scenarioMarkdown,
  type TargetCheck,
  targetsTable,
} from './report.ts';

export interface RunReportInput {
  envelope: Envelope;
  results: ScenarioResult[];
  smoke: boolean;
  /** Only some scenarios ran. */
  partial: boolean;
}

/** The whole report of a run: envelope, every target at a glance, then each scenario. */
export function runReport(input: RunReportInput): string {
  const { envelope, results } = input;
  const kind = input.smoke ? 'smoke run (tiny sizes: not figures to quote)' : 'full run';
  const scope = input.partial ? `, scenarios: ${results.map((r) => r.name).join(', ')}` : '';
  const targets: TargetCheck[] = results.flatMap((r) => r.targets);
  return [
    '# Tokenline benchmarks',
    `${kind}${scope}; started ${envelope.startedAt}. Command: \`bun bench/run.ts${flags(input)}\`.`,
    '## Experiment envelope',
    markdownTable(envelopeTable(envelope)),
    ...(targets.length > 0 ? ['## Targets', markdownTable(targetsTable(targets))] : []),
    ...results.map(scenarioMarkdown),
  ].join('\n\n');
}

function flags(input: RunReportInput): string {
  const parts: string[] = [];
  if (input.partial) for (const r of input.results) parts.push(`--scenario ${r.name}`);
  if (input.smoke) parts.push('--smoke');
  return parts.length > 0 ? ` ${parts.join(' ')}` : '';
}

function envelopeTable(envelope: Envelope) {
  const load = (l: [number, number, number] | null) =>
    l ? l.map((v) => v.toFixed(2)).join(' / ') : 'n/a';
  const packages = Object.entries(envelope.packages)
    .map(([name, version]) => `${name} ${version}`)
    .join(', ');
  return {
    header: ['what', 'value'],
    rows: [
      ['Bun', envelope.bun],
      ['Kafka (broker)', `${envelope.kafka}, single node KRaft on 127.0.0.1`],
      ['Redis', `${envelope.redis} on 127.0.0.1`],
      ['packages', packages],
      [
        'machine',
        `${envelope.cores} cores (${envelope.cpuModel}), ${envelope.memoryGiB} GiB memory`,
      ],
      ['load average 1/5/15 min, before', load(envelope.loadBefore)],
      ['load average 1/5/15 min, after', load(envelope.loadAfter)],
      ['git commit', envelope.commit],
      [
        'uncommitted changes under src/',
        envelope.dirty.length === 0 ? 'none' : envelope.dirty.join('; '),
      ],
      ...Object.entries(envelope.configuration).map(([section, value]) => [
        `Tokenline \`${section}\` (defaults unless a scenario says otherwise)`,
        value,
      ]),
    ],
  };
}
