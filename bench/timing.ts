/** Timing helpers shared by the benchmarks: warm up, then take the median of runs. */
import { formatTable } from '../src/cli/table';

export async function medianMs(fn: () => unknown | Promise<unknown>, runs = 7, warmup = 2): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

/** Print rows as an aligned text table (the CLI's formatter). */
export function printTable(headers: string[], rows: Array<Array<string | number>>): void {
  process.stdout.write(formatTable(headers, rows));
}
