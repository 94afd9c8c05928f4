/**
 * What an idle store costs: the CPU every thread of the process uses while an open store (a writer that
 * has written, a handle that follows the event ring, metrics on) receives nothing, as a share of one
 * core. A broker keeps its store open all day; a store that polls would burn a core's worth over time.
 */
import { MetaLog } from '../src/api/metalog.js';
import { benchDir, check, type BenchRow } from './lib.js';
import { readThreadCpu } from './thread-cpu.js';

export async function benchIdleCpu(idleSeconds: number): Promise<BenchRow[]> {
  const { dir, cleanup } = benchDir('idle');
  try {
    const rows: BenchRow[] = [];
    for (const durability of ['fsync', 'interval'] as const) {
      const log = await MetaLog.open({ dir: `${dir}/${durability}`, durability });
      await log.createTopic({ name: 'idle', partitions: 1 });
      await log.commitOffsets('idle-group', [{ topic: 'idle', partition: 0, offset: 1 }]);
      // Settle first: the interval flush and the first metrics scrape are not idleness.
      await new Promise((resolve) => setTimeout(resolve, 500));
      const cpuBefore = process.cpuUsage();
      const threadsBefore = readThreadCpu();
      const started = performance.now();
      await new Promise((resolve) => setTimeout(resolve, idleSeconds * 1000));
      const seconds = (performance.now() - started) / 1000;
      const used = process.cpuUsage(cpuBefore);
      const threadsAfter = readThreadCpu();
      const busiest = [...threadsAfter].map(([tid, s]) => s - (threadsBefore.get(tid) ?? 0)).sort((a, b) => b - a)[0] ?? 0;
      check(log.fetchOffset('idle-group', 'idle', 0)?.offset === 1, 'the idle store still reads');
      await log.close();
      rows.push({
        workload: `idle store (${durability}), ${idleSeconds} s`,
        metric: 'CPU',
        value: ((used.user + used.system) / 1e6 / seconds) * 100,
        unit: '% of one core',
        higherIsBetter: false,
        note: `busiest thread ${((busiest / seconds) * 100).toFixed(2)}%`,
      });
    }
    return rows;
  } finally {
    cleanup();
  }
}
