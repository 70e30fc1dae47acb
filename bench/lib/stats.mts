export function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** "median (min–max)" */
export function spread(values: number[], digits = 0): string {
  if (values.length === 0 || values.some((value) => Number.isNaN(value))) return 'n/a';
  const f = (value: number) => value.toFixed(digits);
  return values.length === 1
    ? f(values[0]!)
    : `${f(median(values))} (${f(Math.min(...values))}–${f(Math.max(...values))})`;
}
