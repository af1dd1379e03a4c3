/** A table of a scenario's figures: a header row and rows of already formatted cells. */
export interface Table {
  caption?: string;
  header: string[];
  rows: string[][];
}

/** One target of the issue, the figure it is judged on, and whether it was met. */
export interface TargetCheck {
  target: string;
  value: string;
  /** Null when the run could not judge it (e.g. a smoke run's tiny sizes). */
  met: boolean | null;
}

export interface ScenarioResult {
  name: string;
  title: string;
  /** What ran: sizes, replica settings, configuration beyond the defaults. */
  setup: string[];
  tables: Table[];
  targets: TargetCheck[];
  /** Findings: which stage owns the queue, warnings about the run. */
  notes: string[];
  /** The headline numbers by name, for the JSON report and the smoke test. */
  figures: Record<string, number>;
}

export function markdownTable(table: Table): string {
  const cellText = (cell: string) => cell.replaceAll('|', '\\|');
  const lines = [
    `| ${table.header.map(cellText).join(' | ')} |`,
    `| ${table.header.map(() => '---').join(' | ')} |`,
    ...table.rows.map((row) => `| ${row.map(cellText).join(' | ')} |`),
  ];
  return table.caption ? `${table.caption}\n\n${lines.join('\n')}` : lines.join('\n');
}

export function scenarioMarkdown(result: ScenarioResult): string {
  const parts = [`## ${result.title} (\`${result.name}\`)`];
  if (result.setup.length > 0) parts.push(result.setup.map((line) => `- ${line}`).join('\n'));
  for (const table of result.tables) parts.push(markdownTable(table));
  if (result.targets.length > 0) parts.push(markdownTable(targetsTable(result.targets)));
  if (result.notes.length > 0) parts.push(result.notes.map((line) => `- ${line}`).join('\n'));
  return parts.join('\n\n');
}

export function targetsTable(targets: TargetCheck[]): Table {
  const verdict = (met: boolean | null) => (met === null ? 'not judged' : met ? 'met' : 'MISSED');
  return {
    header: ['target', 'measured', 'verdict'],
    rows: targets.map((t) => [t.target, t.value, verdict(t.met)]),
  };
}

/** Number formatting shared by the scenarios. */
export const format = {
  int: (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a'),
  fixed: (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a'),
  ratio: (n: number) => (Number.isFinite(n) ? `${n.toFixed(2)}` : 'n/a'),
  percent: (n: number) => (Number.isFinite(n) ? `${(n * 100).toFixed(1)} %` : 'n/a'),
  ms: (n: number) => (Number.isFinite(n) ? `${n.toFixed(n < 10 ? 1 : 0)} ms` : 'n/a'),
  mib: (bytes: number) => (Number.isFinite(bytes) ? `${(bytes / 2 ** 20).toFixed(0)} MiB` : 'n/a'),
  /** Megabytes of 10^6 bytes, the unit the memory target is stated in. */
  mb: (bytes: number) => (Number.isFinite(bytes) ? `${(bytes / 1e6).toFixed(0)} MB` : 'n/a'),
};
