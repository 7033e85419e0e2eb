/** Latency samples in microseconds and the few figures the report prints from them. */
export class Samples {
  private readonly values: number[] = [];

  add(us: number): void {
    this.values.push(us);
  }

  get count(): number {
    return this.values.length;
  }

  percentile(p: number): number {
    if (this.values.length === 0) return NaN;
    const sorted = [...this.values].sort((a, b) => a - b);
    const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
    return sorted[i];
  }
}

/** Times `fn` in microseconds with the monotonic clock. */
export async function timeUs(fn: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1000;
}

export const fmtUs = (us: number) => (Number.isFinite(us) ? `${us.toFixed(1)} µs` : 'n/a');
export const fmtMs = (ms: number) => (Number.isFinite(ms) ? `${ms.toFixed(ms < 10 ? 2 : 0)} ms` : 'n/a');
export const fmtRatio = (r: number) => (Number.isFinite(r) ? `${r.toFixed(2)}×` : 'n/a');
export const fmtInt = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a');
export const fmtKb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The middle value of `values` (the upper one of the two middle values when their number is even). */
export function median(values: number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
}
