/**
 * One memory measurement, run in a fresh process by memory.ts (never in the bench's own process, whose
 * heap holds every workload before it). The process notes its RSS before it loads the store, runs the
 * workload, and prints one JSON line: RSS over that start after each phase, the heap of every isolate
 * (this thread's from v8, each worker's through the inspector), the shared index's bytes and the
 * threads the process runs.
 *
 * Workload (the issue's): `topics` topics of 6 partitions, `offsets` committed offsets (200 groups × 10
 * topics × 6 partitions), `lookups` point reads (getTopic and fetchOffset, half each, every one checked).
 * Phases: open; the workload; then, as a broker might use them, one reader-pool query and one snapshot.
 * A peer (lmdb, SQLite; peer-stores.ts) runs the same workload with its own keys and values (durable
 * writes, topics as objects), for its RSS over start in the same run.
 */
import fs from 'node:fs';
import inspector from 'node:inspector';
import v8 from 'node:v8';

const startRss = process.memoryUsage().rss;
const gc = (globalThis as { gc?: () => void }).gc;

/** What the parent passes as argv[2] (JSON). */
export interface MemoryChildOptions {
  /** The store measured. */
  store: 'chronik-metalog' | 'lmdb' | 'sqlite';
  dir: string;
  topics: number;
  offsets: number;
  lookups: number;
  /** Store options beside `dir` (decodedCacheEntries, readerThreads, ...). */
  config: Record<string, unknown>;
  /** Also run one reader-pool query and one snapshot, each a phase of its own. */
  poolAndSnapshot: boolean;
}

/** One isolate's heap, in bytes: `used` live objects, `total` what the heap has taken from the system. */
export interface IsolateHeap {
  thread: string;
  used: number;
  total: number;
}

export interface MemoryPhase {
  phase: string;
  /** Process RSS over its RSS before the store was loaded. */
  rssOverStart: number;
  heaps: IsolateHeap[];
  /** Threads of the process (Linux /proc; -1 elsewhere). */
  threads: number;
}

export interface MemoryChildResult {
  startRss: number;
  phases: MemoryPhase[];
  /** Bytes of the shared index: slot tables and arena buffers of every table (SharedArrayBuffers). */
  sharedIndexBytes: number;
  /** Of those, the bytes of live values and free blocks in the arenas, plus the slot tables. */
  sharedIndexBytesUsed: number;
}

function threadCount(): number {
  try {
    return fs.readdirSync('/proc/self/task').length;
  } catch {
    return -1;
  }
}

/**
 * The heap of each worker thread, asked through the inspector's NodeWorker domain (a full GC, then
 * Runtime.getHeapUsage inside each worker), so no worker needs code of its own for it. Worker titles name their entry file.
 */
async function workerHeaps(session: inspector.Session): Promise<IsolateHeap[]> {
  const attached = new Map<string, string>();
  const onAttached = (message: { params: { sessionId: string; workerInfo: { url: string; title: string } } }): void => {
    attached.set(message.params.sessionId, message.params.workerInfo.url || message.params.workerInfo.title);
  };
  session.on('NodeWorker.attachedToWorker', onAttached);
  await post(session, 'NodeWorker.enable', { waitForDebuggerOnStart: false });
  // Attach events arrive during enable; one turn later every running worker has been announced.
  await new Promise((resolve) => setImmediate(resolve));
  const pending = new Map<string, (heap: { usedSize: number; totalSize: number }) => void>();
  const onMessage = (message: { params: { sessionId: string; message: string } }): void => {
    const reply = JSON.parse(message.params.message) as { id?: number; result?: { usedSize: number; totalSize: number } };
    if (reply.id === 2 && reply.result !== undefined) pending.get(message.params.sessionId)?.(reply.result);
  };
  session.on('NodeWorker.receivedMessageFromWorker', onMessage);
  const heaps = await Promise.all(
    [...attached].map(
      ([sessionId, url]) =>
        new Promise<IsolateHeap>((resolve) => {
          pending.set(sessionId, (heap) => resolve({ thread: url.replace(/^.*\/workers\//, 'workers/'), used: heap.usedSize, total: heap.totalSize }));
          // A full GC first (as on this thread), then the sizes: replies come in order.
          void post(session, 'NodeWorker.sendMessageToWorker', { sessionId, message: JSON.stringify({ id: 1, method: 'HeapProfiler.collectGarbage' }) });
          void post(session, 'NodeWorker.sendMessageToWorker', { sessionId, message: JSON.stringify({ id: 2, method: 'Runtime.getHeapUsage' }) });
        }),
    ),
  );
  session.off('NodeWorker.receivedMessageFromWorker', onMessage);
  session.off('NodeWorker.attachedToWorker', onAttached);
  await post(session, 'NodeWorker.disable', {});
  return heaps;
}

function post(session: inspector.Session, method: string, params: object): Promise<unknown> {
  return new Promise((resolve, reject) => session.post(method, params, (error, result) => (error === null ? resolve(result) : reject(error))));
}

/** The workload on a peer: the same counts, written as peers.ts writes them, every read checked. */
async function runPeer(options: MemoryChildOptions, measure: (phase: string) => Promise<void>): Promise<void> {
  const stores = await import('./peer-stores.js');
  fs.mkdirSync(options.dir, { recursive: true });
  const store = options.store === 'lmdb' ? await stores.lmdbStore(options.dir) : await stores.sqliteStore(options.dir, 'FULL');
  await measure('open, empty');
  for (let first = 0; first < options.topics; first += 1000) {
    await store.loadTopics(Array.from({ length: Math.min(1000, options.topics - first) }, (_, j) => ({ name: `topic-${first + j}`, value: stores.topicValue(first + j) })));
  }
  const entries = Array.from({ length: options.offsets }, (_, i) => [stores.offsetKey(i), stores.offsetValue(i)] as [string, Uint8Array]);
  for (let first = 0; first < entries.length; first += 64) {
    const group = entries.slice(first, first + 64);
    if (store.writeMany !== undefined) await store.writeMany(group);
    else await Promise.all(group.map(([key, value]) => store.write(key, value)));
  }
  const keys = Array.from({ length: Math.min(options.offsets, 12_000) }, (_, i) => stores.offsetKey(i));
  for (let n = 0; n < options.lookups; n++) {
    const i = ((n >> 1) * 7919) % (n % 2 === 0 ? options.topics : keys.length);
    const found = n % 2 === 0 ? store.readTopic(`topic-${i}`) : store.readOffset(keys[i]);
    if (found === undefined) throw new Error(`memory bench: ${store.name} lookup ${n} found nothing`);
  }
  await measure('workload');
  await store.close();
}

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2] ?? '') as MemoryChildOptions;
  const session = new inspector.Session();
  session.connect();
  const phases: MemoryPhase[] = [];
  const measure = async (phase: string): Promise<void> => {
    gc?.();
    gc?.();
    const own = v8.getHeapStatistics();
    const heaps = [{ thread: 'main', used: own.used_heap_size, total: own.total_heap_size }, ...(await workerHeaps(session))];
    phases.push({ phase, rssOverStart: process.memoryUsage().rss - startRss, heaps, threads: threadCount() });
  };

  if (options.store !== 'chronik-metalog') {
    await runPeer(options, measure);
    session.disconnect();
    const result: MemoryChildResult = { startRss, phases, sharedIndexBytes: 0, sharedIndexBytesUsed: 0 };
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  const { MetaLog } = await import('../src/api/metalog.js');
  const log = await MetaLog.open({ dir: options.dir, durability: 'fsync', ...options.config });
  await measure('open, empty');
  let next = 0;
  const lanes = (total: number, call: (i: number) => Promise<unknown>): Promise<unknown> =>
    Promise.all(Array.from({ length: 256 }, async () => {
      while (next < total) await call(next++);
    }));
  next = 0;
  await lanes(options.topics, (i) => log.createTopic({ name: `topic-${i}`, partitions: 6, configs: { 'retention.ms': '604800000' } }));
  const key = (i: number): { groupId: string; topic: string; partition: number } => ({ groupId: `group-${i % 200}`, topic: `topic-${Math.floor(i / 200) % 10}`, partition: Math.floor(i / 2000) % 6 });
  next = 0;
  await lanes(options.offsets, (i) => log.commitOffsets(key(i).groupId, [{ topic: key(i).topic, partition: key(i).partition, offset: i }]));
  const keys = Array.from({ length: Math.min(options.offsets, 12_000) }, (_, i) => key(i));
  for (let n = 0; n < options.lookups; n++) {
    const i = ((n >> 1) * 7919) % (n % 2 === 0 ? options.topics : keys.length);
    const found = n % 2 === 0 ? log.getTopic(`topic-${i}`) : log.fetchOffset(keys[i].groupId, keys[i].topic, keys[i].partition);
    if (found === undefined) throw new Error(`memory bench: lookup ${n} found nothing`);
  }
  await measure('workload');
  if (options.poolAndSnapshot) {
    const listed = await log.readers.listTopicNames();
    if (listed.length !== options.topics) throw new Error('memory bench: the reader pool lists every topic');
    await measure('+ reader pool query');
    const threadsBefore = threadCount();
    await log.snapshot();
    // The snapshot thread ends after its snapshot: measure once it has exited (at most 5 s).
    for (let waited = 0; waited < 5000 && threadCount() > threadsBefore; waited += 10) await new Promise((resolve) => setTimeout(resolve, 10));
    await measure('+ snapshot');
  }
  const stats = log.indexStats();
  let sharedIndexBytes = 0;
  let sharedIndexBytesUsed = 0;
  for (const table of Object.values(stats)) {
    sharedIndexBytes += table.slotBytes + table.arenaBytes;
    sharedIndexBytesUsed += table.slotBytes + table.arenaBytesLive + table.arenaBytesFree;
  }
  await log.close();
  session.disconnect();
  const result: MemoryChildResult = { startRss, phases, sharedIndexBytes, sharedIndexBytesUsed };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`memory bench child failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
});
