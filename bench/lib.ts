/**
 * Shared pieces of the benchmark: HDR histograms in microseconds, temporary store directories, result
 * rows and the printed table. Every workload checks its own results and throws on a wrong answer, so a
 * broken store fails the run instead of printing a number.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import hdr from 'hdr-histogram-js';

/** One measured figure, with the baseline measured in the same run where there is one. */
export interface BenchRow {
  workload: string;
  metric: string;
  value: number;
  unit: string;
  baseline?: { name: string; value: number };
  /** True when bigger is better (throughput), false for latencies. */
  higherIsBetter: boolean;
  note?: string;
}

/** A latency histogram in microseconds (1 µs .. 100 s, 3 significant digits). */
export function latencyHistogram(): hdr.Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 100_000_000, numberOfSignificantValueDigits: 3 });
}

/** Records the time since `startNs` (from process.hrtime.bigint) in µs. */
export function recordSince(histogram: hdr.Histogram, startNs: bigint): void {
  histogram.recordValue(Math.max(1, Number((process.hrtime.bigint() - startNs) / 1000n)));
}

/** p50, p99 and max of a histogram, in ms. */
export function percentilesMs(histogram: hdr.Histogram): { p50: number; p99: number; max: number } {
  return {
    p50: histogram.getValueAtPercentile(50) / 1000,
    p99: histogram.getValueAtPercentile(99) / 1000,
    max: histogram.maxValue / 1000,
  };
}

/** A fresh directory under the OS temp dir (or BENCH_DIR), removed by `cleanup`. */
export function benchDir(name: string): { dir: string; cleanup: () => void } {
  const root = process.env.BENCH_DIR ?? os.tmpdir();
  const dir = fs.mkdtempSync(path.join(root, `metalog-bench-${name}-`));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** Throws when a workload's result is wrong: a wrong answer never becomes a number. */
export function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`bench check failed: ${message}`);
}

function format(value: number): string {
  if (value >= 100) return Math.round(value).toLocaleString('en-US');
  if (value >= 1) return value.toFixed(2);
  return value.toFixed(3);
}

/** The table printed on stdout: value, baseline and the ratio (>1 means better than the baseline). */
export function renderTable(rows: BenchRow[]): string {
  const withNotes = rows.some((row) => row.note !== undefined);
  const header = ['workload', 'metric', 'value', 'baseline (same run)', 'ratio', ...(withNotes ? ['note'] : [])];
  const lines = rows.map((row) => {
    const ratio =
      row.baseline === undefined
        ? ''
        : `${(row.higherIsBetter ? row.value / row.baseline.value : row.baseline.value / row.value).toFixed(2)}x`;
    const baseline = row.baseline === undefined ? '' : `${row.baseline.name}: ${format(row.baseline.value)} ${row.unit}`;
    return [row.workload, row.metric, `${format(row.value)} ${row.unit}`, baseline, ratio, ...(withNotes ? [row.note ?? ''] : [])];
  });
  const widths = header.map((title, column) => Math.max(title.length, ...lines.map((line) => line[column].length)));
  const render = (cells: string[]): string => `| ${cells.map((cell, column) => cell.padEnd(widths[column])).join(' | ')} |`;
  return [render(header), `|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`, ...lines.map(render)].join('\n');
}

/**
 * The timed loop, compiled afresh for every measurement (`new Function`): a loop shared by all of them
 * would see four different `read` functions at one call site and stop inlining any, which is not the
 * shape of a broker's call site (one read function, always the same).
 */
const LOOP_SOURCE = `
  let found = 0;
  for (let i = 0; i < Math.min(lookups, 2 * keys.length); i++) read(keys[i % keys.length]);
  const started = performance.now();
  for (let i = 0; i < lookups; i++) if (read(keys[(i * 7919) % keys.length]) !== undefined) found++;
  return { found, seconds: (performance.now() - started) / 1000 };
`;

/** Lookups per second of `read` over `keys` in scattered order, after a warm-up pass (which fills caches). */
export function lookupsPerSecond<K>(keys: K[], lookups: number, read: (key: K) => unknown): number {
  const loop = new Function('keys', 'lookups', 'read', LOOP_SOURCE) as (keys: K[], lookups: number, read: (key: K) => unknown) => { found: number; seconds: number };
  const { found, seconds } = loop(keys, lookups, read);
  check(found === lookups, `every lookup finds its key (${found} of ${lookups})`);
  return lookups / seconds;
}
