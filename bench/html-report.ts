/**
 * `--html FILE`: the run as one self-contained HTML page (inline CSS and SVG, no network assets): the
 * machine, the table, and charts drawn from the same rows: latency percentiles per workload, the
 * durability sweep (throughput against one-at-a-time latency), and every figure as a ratio to its
 * same-run baseline.
 */
import type { BenchRow } from './lib.js';

export interface BenchRun {
  date: string;
  node: string;
  cpus: number;
  crc32cPath: string;
  machine: string;
  command: string;
  rows: BenchRow[];
  /** The peers section (`run.js --peers`), already rendered. */
  peersHtml?: string;
}

export function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function format(value: number): string {
  if (value >= 100) return Math.round(value).toLocaleString('en-US');
  if (value >= 1) return value.toFixed(2);
  return value.toFixed(3);
}

const BAR_HEIGHT = 16;
const LABEL_WIDTH = 380;
const CHART_WIDTH = 900;
const COLORS = ['#3b6ea5', '#e08a2c', '#5a9e4b', '#b04a5a'];

/**
 * A horizontal bar chart: one group per label, one bar per series, linear from 0 to the largest value.
 * Values are written beside the bars, so the chart reads without a scale.
 */
export function barChart(title: string, unit: string, series: string[], groups: { label: string; values: (number | undefined)[] }[]): string {
  const barsWidth = CHART_WIDTH - LABEL_WIDTH - 120;
  const max = Math.max(...groups.flatMap((group) => group.values.filter((value): value is number => value !== undefined)), 1e-9);
  const groupHeight = series.length * BAR_HEIGHT + 10;
  const height = 40 + groups.length * groupHeight + 24;
  const parts: string[] = [`<text x="0" y="18" class="title">${escape(title)} (${escape(unit)})</text>`];
  groups.forEach((group, g) => {
    const top = 32 + g * groupHeight;
    // Long labels are cut to what fits left of the bars (the table has them whole).
    const shown = group.label.length > 58 ? `${group.label.slice(0, 57)}…` : group.label;
    parts.push(`<text x="${LABEL_WIDTH - 8}" y="${top + (series.length * BAR_HEIGHT) / 2 + 4}" text-anchor="end" class="label"><title>${escape(group.label)}</title>${escape(shown)}</text>`);
    group.values.forEach((value, s) => {
      if (value === undefined) return;
      const width = Math.max(1, (value / max) * barsWidth);
      const y = top + s * BAR_HEIGHT;
      parts.push(`<rect x="${LABEL_WIDTH}" y="${y}" width="${width.toFixed(1)}" height="${BAR_HEIGHT - 3}" fill="${COLORS[s % COLORS.length]}"><title>${escape(`${series[s]}: ${format(value)} ${unit}`)}</title></rect>`);
      parts.push(`<text x="${(LABEL_WIDTH + width + 4).toFixed(1)}" y="${y + BAR_HEIGHT - 5}" class="value">${escape(format(value))}</text>`);
    });
  });
  const legendY = height - 10;
  series.forEach((name, s) => {
    parts.push(`<rect x="${LABEL_WIDTH + s * 140}" y="${legendY - 10}" width="12" height="12" fill="${COLORS[s % COLORS.length]}"/>`);
    parts.push(`<text x="${LABEL_WIDTH + s * 140 + 16}" y="${legendY}" class="label">${escape(name)}</text>`);
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${CHART_WIDTH}" height="${height}" viewBox="0 0 ${CHART_WIDTH} ${height}">${parts.join('')}</svg>`;
}

function latencyCharts(rows: BenchRow[]): string[] {
  const charts: string[] = [];
  for (const unit of ['ms', 'µs']) {
    const byWorkload = new Map<string, Map<string, number>>();
    for (const row of rows) {
      if (row.unit !== unit || !/p50|p99|max/.test(row.metric)) continue;
      const percentile = row.metric.includes('p50') ? 'p50' : row.metric.includes('p99') ? 'p99' : 'max';
      const key = row.metric.replace(/\s*(p50|p99|max)$/, '');
      const label = key === row.metric || key === '' ? row.workload : `${row.workload}, ${key}`;
      const entry = byWorkload.get(label) ?? new Map<string, number>();
      entry.set(percentile, row.value);
      byWorkload.set(label, entry);
    }
    if (byWorkload.size === 0) continue;
    const series = ['p50', 'p99', 'max'];
    charts.push(barChart('Latency percentiles', unit, series, [...byWorkload].map(([label, values]) => ({ label, values: series.map((name) => values.get(name)) }))));
  }
  return charts;
}

function sweepChart(rows: BenchRow[]): string | null {
  const settings = rows.filter((row) => row.workload.startsWith('durability ') && row.metric === '64 in flight');
  if (settings.length === 0) return null;
  const throughput = barChart('Durability sweep: 64 callers in flight', 'commits/s', ['throughput'], settings.map((row) => ({ label: row.workload, values: [row.value] })));
  const latency = barChart(
    'Durability sweep: one write at a time',
    'ms',
    ['p50', 'p99'],
    settings.map((row) => ({
      label: row.workload,
      values: ['1 at a time p50', '1 at a time p99'].map((metric) => rows.find((other) => other.workload === row.workload && other.metric === metric)?.value),
    })),
  );
  return throughput + latency;
}

function ratioChart(rows: BenchRow[]): string | null {
  const withBaseline = rows.filter((row) => row.baseline !== undefined && !row.workload.startsWith('durability '));
  if (withBaseline.length === 0) return null;
  return barChart(
    'Against the same-run baseline (1 = the baseline; above 1 is better)',
    'ratio',
    ['ratio'],
    withBaseline.map((row) => {
      const baseline = (row.baseline as { value: number }).value;
      return { label: `${row.workload}: ${row.metric}`, values: [row.higherIsBetter ? row.value / baseline : baseline / row.value] };
    }),
  );
}

function table(rows: BenchRow[]): string {
  const body = rows
    .map((row) => {
      const baseline = row.baseline === undefined ? '' : `${escape(row.baseline.name)}: ${format(row.baseline.value)} ${escape(row.unit)}`;
      const ratio = row.baseline === undefined ? '' : `${(row.higherIsBetter ? row.value / row.baseline.value : row.baseline.value / row.value).toFixed(2)}×`;
      return `<tr><td>${escape(row.workload)}</td><td>${escape(row.metric)}</td><td class="num">${format(row.value)} ${escape(row.unit)}</td><td>${baseline}</td><td class="num">${ratio}</td><td>${escape(row.note ?? '')}</td></tr>`;
    })
    .join('\n');
  return `<table><thead><tr><th>workload</th><th>metric</th><th>value</th><th>baseline (same run)</th><th>ratio</th><th>note</th></tr></thead><tbody>${body}</tbody></table>`;
}

/** A page around `body`, with the report's style. */
export function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title>
<style>
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px; color: #222; }
table { border-collapse: collapse; margin: 16px 0; }
td, th { border: 1px solid #ccc; padding: 3px 8px; text-align: left; vertical-align: top; }
td.num { text-align: right; white-space: nowrap; }
svg { display: block; margin: 20px 0; }
svg .title { font: bold 14px system-ui, sans-serif; }
svg .label, svg .value { font: 12px system-ui, sans-serif; fill: #333; }
</style></head><body>
${body}
</body></html>
`;
}

/** The whole page. */
export function renderHtml(run: BenchRun): string {
  const charts = [...latencyCharts(run.rows), sweepChart(run.rows), ratioChart(run.rows)].filter((chart): chart is string => chart !== null);
  return page(
    `chronik-metalog bench ${run.date}`,
    `<h1>chronik-metalog load test</h1>
<p>${escape(run.date)} · ${escape(run.machine)} · Node ${escape(run.node)} · CRC32C ${escape(run.crc32cPath)} · <code>${escape(run.command)}</code></p>
<p>Every figure is measured beside a baseline in the same run; on a shared machine only those ratios compare across runs.</p>
${table(run.rows)}
${charts.join('\n')}
${run.peersHtml ?? ''}`,
  );
}
