/** Scores of a binary classifier against labels, with 'spam' as the positive class. */
export interface Scores {
  accuracy: number;
  precision: number;
  recall: number;
  total: number;
}

export function score(
  pairs: Array<{ predicted: string; actual: string }>,
  positive = 'spam',
): Scores {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let correct = 0;
  for (const { predicted, actual } of pairs) {
    if (predicted === actual) correct++;
    if (predicted === positive && actual === positive) tp++;
    if (predicted === positive && actual !== positive) fp++;
    if (predicted !== positive && actual === positive) fn++;
  }
  const total = pairs.length;
  return {
    accuracy: total ? correct / total : 0,
    precision: tp + fp ? tp / (tp + fp) : 0,
    recall: tp + fn ? tp / (tp + fn) : 0,
    total,
  };
}

/** Nearest-rank percentile (p in [0, 100]) of unsorted numbers; NaN for an empty list. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1] as number;
}

/** A one-line progress bar, e.g. `[#####-----]  50%  907/1814`. */
export function progressBar(done: number, total: number, width = 30): string {
  const fraction = total > 0 ? Math.min(1, done / total) : 1;
  const filled = Math.round(fraction * width);
  const percent = `${Math.floor(fraction * 100)}%`.padStart(4);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${percent}  ${done}/${total}`;
}

export function table(rows: Array<[string, string]>): string {
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`).join('\n');
}
