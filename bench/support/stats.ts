/** Nearest-rank percentiles of a list of numbers, sorted once. */
export interface Distribution {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

export function distribution(values: number[]): Distribution {
  if (values.length === 0) {
    return { count: 0, p50: NaN, p90: NaN, p99: NaN, max: NaN, mean: NaN };
  }
  const sorted = Float64Array.from(values).sort();
  const at = (p: number) =>
    sorted[Math.min(sorted.length, Math.ceil(p * sorted.length)) - 1] ?? NaN;
  const sum = sorted.reduce((a, b) => a + b, 0);
  return {
    count: sorted.length,
    p50: at(0.5),
    p90: at(0.9),
    p99: at(0.99),
    max: sorted[sorted.length - 1] ?? NaN,
    mean: sum / sorted.length,
  };
}

export function mean(values: number[]): number {
  return values.length === 0 ? NaN : values.reduce((a, b) => a + b, 0) / values.length;
}

/** A measuring window in epoch milliseconds. */
export interface Window {
  from: number;
  to: number;
}

export function seconds(window: Window): number {
  return (window.to - window.from) / 1000;
}

export function inWindow(at: number, window: Window): boolean {
  return at >= window.from && at < window.to;
}
