/**
 * A prom-client metric for a histogram that is counted elsewhere: in the writer stats block, by the
 * writer thread. prom-client's own Histogram counts observations made on this thread and has no way to
 * take bucket counts from outside, so this is a metric object of its own, read at scrape time.
 *
 * Owns: turning a `HistogramSnapshot` (per-bucket counts, sum, count) into the cumulative
 * `_bucket{le}`, `_sum` and `_count` samples of the exposition format.
 *
 * Called by: store-metrics.ts, once per histogram of a store's registry. prom-client's registry reads a
 * metric through its `name`, `help`, `type` and `get()` (and `reset()` on `resetMetrics`); that is the
 * whole contract this object keeps, and why it is registered through a cast.
 *
 * Must never: reset or change the numbers it reads (they belong to the writer).
 */
import { validateMetricName, type Metric, type Registry } from 'prom-client';
import type { HistogramSnapshot } from '../../native-free/stats-block.js';

interface Sample {
  metricName: string;
  labels: Record<string, string | number>;
  value: number;
}

/** Registers histogram `name` in `registry`; `read` is called at every scrape. */
export function registerSharedHistogram(registry: Registry, name: string, help: string, read: () => HistogramSnapshot): void {
  if (!validateMetricName(name)) throw new Error(`invalid metric name ${name}`);
  const metric = {
    name,
    help,
    type: 'histogram',
    aggregator: 'sum',
    get: async () => ({ name, help, type: 'histogram', aggregator: 'sum', values: samples(name, read()) }),
    // The writer's numbers cannot be reset from a reader; resetMetrics leaves them as they are.
    reset: () => undefined,
  };
  registry.registerMetric(metric as unknown as Metric);
}

/** The exposition samples of one histogram: cumulative buckets up to +Inf, then sum and count. */
function samples(name: string, histogram: HistogramSnapshot): Sample[] {
  const out: Sample[] = [];
  let cumulative = 0;
  histogram.bounds.forEach((bound, index) => {
    cumulative += histogram.bucketCounts[index];
    out.push({ metricName: `${name}_bucket`, labels: { le: bound }, value: cumulative });
  });
  out.push({ metricName: `${name}_bucket`, labels: { le: '+Inf' }, value: histogram.count });
  out.push({ metricName: `${name}_sum`, labels: {}, value: histogram.sum });
  out.push({ metricName: `${name}_count`, labels: {}, value: histogram.count });
  return out;
}
