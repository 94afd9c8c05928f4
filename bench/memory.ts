/**
 * Memory as a user measures it: the RSS of a process running the store, over the RSS it had before it
 * loaded the store, for the issue's workload (20,000 topics × 6 partitions, 12,000 committed offsets,
 * 1M point reads). Each measurement runs in a fresh child process (memory-child.ts), so nothing of the
 * bench's other workloads is counted.
 *
 * Rows: the RSS over start after the workload (with the default decoded-value cache, and with a small
 * one in a process of its own); then the price of each thread a broker may start later
 * (one reader-pool query, one snapshot), as the RSS each adds; the heap of each isolate (v8's used and
 * total sizes, total being what the heap holds from the system); and the shared index's bytes, the one
 * copy of the state every thread reads. `npm run bench -- --only memory`.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import type { MemoryChildOptions, MemoryChildResult, MemoryPhase } from './memory-child.js';
import { benchDir, type BenchRow } from './lib.js';

const CHILD = fileURLToPath(new URL('./memory-child.js', import.meta.url));
const MIB = 2 ** 20;

/** A small decoded-value cache, to price the default one. */
const SMALL_CACHE_ENTRIES = 2_000;

/** The workload. */
export const MEMORY_WORKLOAD = { topics: 20_000, offsets: 12_000, lookups: 1_000_000 } as const;

/** Runs one measurement in a fresh process (with --expose-gc, so every figure is taken after a full GC). */
export async function measureMemory(options: Omit<MemoryChildOptions, 'dir'>): Promise<MemoryChildResult> {
  const { dir, cleanup } = benchDir(`memory-${options.store}`);
  try {
    const argument = JSON.stringify({ ...options, dir: path.join(dir, 'store') } satisfies MemoryChildOptions);
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, ['--expose-gc', CHILD, argument], { maxBuffer: 16 * MIB }, (error, out, err) => {
        if (error !== null) reject(new Error(`memory child failed: ${err || error.message}`));
        else resolve(out);
      });
    });
    return JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as MemoryChildResult;
  } finally {
    cleanup();
  }
}

function phaseOf(result: MemoryChildResult, name: string): MemoryPhase {
  const phase = result.phases.find((each) => each.phase === name);
  if (phase === undefined) throw new Error(`memory bench: no phase "${name}"`);
  return phase;
}

const mib = (bytes: number): number => bytes / MIB;

/** A one-line breakdown of a phase: each isolate's heap, used/total MiB. */
export function heapNote(phase: MemoryPhase): string {
  const parts = phase.heaps.map((heap) => {
    const name = heap.thread.includes('piscina') ? 'reader' : heap.thread.replace(/^workers\/|\.js$/g, '');
    return `${name} ${mib(heap.used).toFixed(0)}/${mib(heap.total).toFixed(0)}`;
  });
  return `heap used/total MiB: ${parts.join(', ')}; ${phase.threads} OS threads`;
}

export async function benchMemory(sizes: { topics: number; offsets: number; lookups: number }, progress: (message: string) => void): Promise<BenchRow[]> {
  const label = `${sizes.topics.toLocaleString('en-US')} topics × 6, ${sizes.offsets.toLocaleString('en-US')} offsets, ${sizes.lookups.toLocaleString('en-US')} lookups`;
  progress(`memory: chronik-metalog, ${label}…`);
  const ours = await measureMemory({ store: 'chronik-metalog', ...sizes, config: {}, poolAndSnapshot: true });
  progress('memory: the same with decodedCacheEntries 2,000…');
  const smallCache = await measureMemory({ store: 'chronik-metalog', ...sizes, config: { decodedCacheEntries: SMALL_CACHE_ENTRIES }, poolAndSnapshot: false });
  const open = phaseOf(ours, 'open, empty');
  const workload = phaseOf(ours, 'workload');
  const pool = phaseOf(ours, '+ reader pool query');
  const snapshot = phaseOf(ours, '+ snapshot');
  const row = (workload: string, metric: string, value: number, note: string): BenchRow => ({ workload, metric, value, unit: 'MiB', higherIsBetter: false, note });
  for (const phase of ours.phases) progress(`memory: ${phase.phase}: RSS over start ${mib(phase.rssOverStart).toFixed(1)} MiB; ${heapNote(phase)}`);
  const heapRows = snapshot.heaps.map((heap) => {
    const thread = heap.thread.includes('piscina') ? 'a reader-pool thread' : `the ${heap.thread.replace(/^workers\/|\.js$/g, '')} thread`;
    return row(`memory: heap of ${thread}, after all of the above`, 'heap used', mib(heap.used), `${mib(heap.total).toFixed(1)} MiB held from the system`);
  });
  return [
    row('memory: open, empty store', 'RSS over start', mib(open.rssOverStart), heapNote(open)),
    row(`memory: ${label}`, 'RSS over start', mib(workload.rssOverStart), heapNote(workload)),
    row(`memory: the same, decodedCacheEntries ${SMALL_CACHE_ENTRIES.toLocaleString('en-US')}`, 'RSS over start', mib(phaseOf(smallCache, 'workload').rssOverStart), heapNote(phaseOf(smallCache, 'workload'))),
    row('memory: + one reader-pool query', 'RSS added', mib(pool.rssOverStart - workload.rssOverStart), heapNote(pool)),
    row('memory: + one snapshot', 'RSS added', mib(snapshot.rssOverStart - pool.rssOverStart), heapNote(snapshot)),
    ...heapRows,
    row('memory: shared index (one copy, every thread reads it)', 'bytes', mib(ours.sharedIndexBytes), `${mib(ours.sharedIndexBytesUsed).toFixed(1)} MiB in use (slot tables, live and free arena blocks)`),
  ];
}
