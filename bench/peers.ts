/**
 * The same workloads against the stores a broker could embed instead (`npm run bench:peers`, or
 * `run.js --peers`), installed
 * into bench/peers/ (its own package.json, not the project's dependencies), with chronik-metalog in the
 * same run and every peer figure as a ratio to it.
 *
 * Workloads (each store holds the same keys and values and every read is checked):
 * - durable single-record writes, one at a time (latency) and with 64 outstanding (throughput): an offset
 *   commit (20-byte value under a group/topic/partition key);
 * - point reads: random offsets (12,000 keys) and random topics (10,000 topics of 6 partitions, each
 *   decoded into an object: JSON for SQLite and LevelDB, msgpack for lmdb, the index's own encoding here).
 *
 * Durability, the same for every row unless the table says otherwise: every acknowledged write is on
 * disk (fdatasync or fsync) before the next one is counted. lmdb: a transaction commit with sync on;
 * classic-level (LevelDB): `put` with `sync: true`; better-sqlite3: WAL with `synchronous = FULL` (and a
 * row with NORMAL, which does not sync each commit in WAL mode: marked). SQLite's API is synchronous, so
 * its "64 outstanding" is 64 writes per transaction (group commit done by the caller).
 */
import { MetaLog } from '../src/api/metalog.js';
import { drive } from './drive.js';
import { benchDir, check, latencyHistogram, lookupsPerSecond, percentilesMs, recordSince } from './lib.js';
import { barChart, escape, format } from './html-report.js';
import { startProgress, stopProgress } from './progress.js';
import { MEMORY_WORKLOAD, measureMemory } from './memory.js';
import { levelStore, lmdbStore, offsetKey, offsetValue, sqliteStore, topicValue, type Store } from './peer-stores.js';

export interface PeerRow {
  workload: string;
  store: string;
  durability: string;
  value: number;
  unit: string;
  higherIsBetter: boolean;
}

const OFFSET_KEYS = 12_000;
const TOPICS = 10_000;

async function measureWrites(store: Store, sizes: { sequential: number; inFlight: number }, rows: PeerRow[]): Promise<void> {
  const histogram = latencyHistogram();
  startProgress(`${store.name}: writes, 1 at a time`, sizes.sequential);
  for (let i = 0; i < sizes.sequential; i++) {
    const started = process.hrtime.bigint();
    await store.write(offsetKey(i), offsetValue(i));
    recordSince(histogram, started);
  }
  stopProgress();
  const latency = percentilesMs(histogram);
  let seconds: number;
  if (store.writeMany !== undefined) {
    const writeMany = store.writeMany;
    const started = performance.now();
    for (let first = 0; first < sizes.inFlight; first += 64) {
      await writeMany(Array.from({ length: Math.min(64, sizes.inFlight - first) }, (_, j) => [offsetKey(first + j), offsetValue(first + j)] as [string, Uint8Array]));
    }
    seconds = (performance.now() - started) / 1000;
  } else {
    seconds = await drive(sizes.inFlight, 64, (i) => store.write(offsetKey(i), offsetValue(i)), `${store.name}: writes, 64 outstanding`);
  }
  const base = { store: store.name, durability: store.durability };
  rows.push(
    { ...base, workload: 'durable write, 1 at a time: p50', value: latency.p50, unit: 'ms', higherIsBetter: false },
    { ...base, workload: 'durable write, 1 at a time: p99', value: latency.p99, unit: 'ms', higherIsBetter: false },
    { ...base, workload: store.writeMany === undefined ? 'durable writes, 64 outstanding' : 'durable writes, 64 outstanding (64 per transaction)', value: sizes.inFlight / seconds, unit: 'writes/s', higherIsBetter: true },
  );
}

/** Sync point reads per second over key indexes 0..keys-1 (lib.ts's loop: a warm-up pass, every read checked). */
function readRate(lookups: number, keys: number, read: (i: number) => unknown): number {
  return lookupsPerSecond(Array.from({ length: keys }, (_, i) => i), lookups, read);
}

async function asyncReadRate(lookups: number, keys: number, read: (i: number) => Promise<unknown>): Promise<number> {
  const started = performance.now();
  let found = 0;
  for (let i = 0; i < lookups; i++) if ((await read((i * 7919) % keys)) !== undefined) found++;
  check(found === lookups, 'every peer read finds its key');
  return lookups / ((performance.now() - started) / 1000);
}

export async function runPeers(quick: boolean): Promise<PeerRow[]> {
  const sizes = quick ? { sequential: 500, inFlight: 5_000, lookups: 200_000 } : { sequential: 2_000, inFlight: 30_000, lookups: 1_000_000 };
  const rows: PeerRow[] = [];
  const topics = Array.from({ length: TOPICS }, (_, i) => ({ name: `topic-${i}`, value: topicValue(i) }));

  // chronik-metalog, in the same run.
  {
    const { dir, cleanup } = benchDir('peers-metalog');
    try {
      const log = await MetaLog.open({ dir, durability: 'fsync', snapshotEveryEvents: 0 });
      for (let b = 1; b <= 3; b++) await log.registerBroker({ brokerId: b, host: `broker-${b}`, port: 9092, rack: null, brokerEpoch: 1 });
      for (let t = 0; t < 10; t++) await log.createTopic({ name: `topic-${t}`, partitions: 6, replicationFactor: 3 });
      const commit = (i: number): Promise<void> => log.commitOffsets(`group-${i % 200}`, [{ topic: `topic-${Math.floor(i / 200) % 10}`, partition: Math.floor(i / 2000) % 6, offset: i }]);
      const metalog: Store = {
        name: 'chronik-metalog',
        durability: 'fsync (fdatasync per batch)',
        write: (key) => commit(Number(key)),
        readOffset: () => undefined,
        readTopic: () => undefined,
        loadTopics: async () => undefined,
        close: () => log.close(),
      };
      // Keys are the commit index here; the store derives the same group/topic/partition as offsetKey.
      await drive(OFFSET_KEYS, 64, (i) => commit(i));
      const histogram = latencyHistogram();
      for (let i = 0; i < sizes.sequential; i++) {
        const started = process.hrtime.bigint();
        await commit(i);
        recordSince(histogram, started);
      }
      const latency = percentilesMs(histogram);
      const seconds = await drive(sizes.inFlight, 64, commit, 'chronik-metalog: commits, 64 in flight');
      const base = { store: metalog.name, durability: metalog.durability };
      rows.push(
        { ...base, workload: 'durable write, 1 at a time: p50', value: latency.p50, unit: 'ms', higherIsBetter: false },
        { ...base, workload: 'durable write, 1 at a time: p99', value: latency.p99, unit: 'ms', higherIsBetter: false },
        { ...base, workload: 'durable writes, 64 outstanding', value: sizes.inFlight / seconds, unit: 'writes/s', higherIsBetter: true },
      );
      await drive(TOPICS, 256, (i) => log.createTopic({ name: `t-${i}`, partitions: 6, replicationFactor: 3, configs: { 'retention.ms': '604800000' } }), 'chronik-metalog: loading topics');
      const offsetKeys = Array.from({ length: OFFSET_KEYS }, (_, i) => ({ g: `group-${i % 200}`, t: `topic-${Math.floor(i / 200) % 10}`, p: Math.floor(i / 2000) % 6 }));
      rows.push({ ...base, workload: 'point read, offset (12,000 keys)', value: readRate(sizes.lookups, OFFSET_KEYS, (i) => log.fetchOffset(offsetKeys[i].g, offsetKeys[i].t, offsetKeys[i].p)), unit: 'reads/s', higherIsBetter: true });
      const topicNames = Array.from({ length: TOPICS }, (_, i) => `t-${i}`);
      rows.push({ ...base, workload: 'point read, topic decoded (10,000 topics)', value: readRate(sizes.lookups, TOPICS, (i) => log.getTopic(topicNames[i])), unit: 'reads/s', higherIsBetter: true });
      await metalog.close();
    } finally {
      cleanup();
    }
  }

  // Memory: each store in a fresh process of its own (memory-child.ts), RSS over the process's start.
  const memorySizes = quick ? { topics: 5_000, offsets: 12_000, lookups: 200_000 } : MEMORY_WORKLOAD;
  const memoryWorkload = `memory: RSS over start, ${memorySizes.topics.toLocaleString('en-US')} topics × 6, ${memorySizes.offsets.toLocaleString('en-US')} offsets, ${memorySizes.lookups.toLocaleString('en-US')} lookups`;
  for (const [store, name, durability] of [
    ['chronik-metalog', 'chronik-metalog', 'fsync (fdatasync per batch)'],
    ['lmdb', 'lmdb (lmdb-js)', 'sync commit'],
    ['sqlite', 'better-sqlite3, WAL, synchronous=FULL', 'fsync per commit'],
  ] as const) {
    const result = await measureMemory({ store, ...memorySizes, config: {}, poolAndSnapshot: false });
    const workload = result.phases.find((phase) => phase.phase === 'workload');
    check(workload !== undefined, `the memory workload ran on ${name}`);
    rows.push({ workload: memoryWorkload, store: name, durability, value: workload.rssOverStart / 2 ** 20, unit: 'MiB', higherIsBetter: false });
  }

  const makers: ((dir: string) => Promise<Store>)[] = [lmdbStore, (dir) => sqliteStore(dir, 'FULL'), (dir) => sqliteStore(dir, 'NORMAL')];
  for (const make of makers) {
    const { dir, cleanup } = benchDir('peers');
    try {
      const store = await make(dir);
      await measureWrites(store, sizes, rows);
      for (let i = 0; i < OFFSET_KEYS; i++) await store.write(offsetKey(i), offsetValue(i));
      await store.loadTopics(topics);
      const keys = Array.from({ length: OFFSET_KEYS }, (_, i) => offsetKey(i));
      const base = { store: store.name, durability: store.durability };
      rows.push({ ...base, workload: 'point read, offset (12,000 keys)', value: readRate(sizes.lookups, OFFSET_KEYS, (i) => store.readOffset(keys[i])), unit: 'reads/s', higherIsBetter: true });
      rows.push({ ...base, workload: 'point read, topic decoded (10,000 topics)', value: readRate(sizes.lookups, TOPICS, (i) => store.readTopic(topics[i].name)), unit: 'reads/s', higherIsBetter: true });
      await store.close();
    } finally {
      cleanup();
    }
  }

  {
    const { dir, cleanup } = benchDir('peers-level');
    try {
      const { store, level } = await levelStore(dir);
      await measureWrites(store, sizes, rows);
      for (let first = 0; first < OFFSET_KEYS; first += 1000) {
        await level.batch(Array.from({ length: 1000 }, (_, j) => ({ type: 'put' as const, key: offsetKey(first + j), value: offsetValue(first + j) })), { sync: true });
      }
      await store.loadTopics(topics);
      const decoder = new TextDecoder();
      const base = { store: store.name, durability: store.durability };
      const lookups = Math.floor(sizes.lookups / 5);
      rows.push({ ...base, workload: 'point read, offset (12,000 keys)', value: await asyncReadRate(lookups, OFFSET_KEYS, (i) => level.get(offsetKey(i))), unit: 'reads/s', higherIsBetter: true });
      rows.push({
        ...base,
        workload: 'point read, topic decoded (10,000 topics)',
        value: await asyncReadRate(lookups, TOPICS, async (i) => {
          const bytes = await level.get(`topic:topic-${i}`);
          return bytes === undefined ? undefined : JSON.parse(decoder.decode(bytes as Uint8Array));
        }),
        unit: 'reads/s',
        higherIsBetter: true,
      });
      await store.close();
    } finally {
      cleanup();
    }
  }
  return rows;
}

export function renderPeerTable(rows: PeerRow[]): string {
  const ours = new Map(rows.filter((row) => row.store === 'chronik-metalog').map((row) => [row.workload.replace(/ \(64 per transaction\)$/, ''), row]));
  const header = ['workload', 'store', 'durability', 'value', 'chronik-metalog', 'ratio'];
  const format = (value: number): string => (value >= 100 ? Math.round(value).toLocaleString('en-US') : value >= 1 ? value.toFixed(2) : value.toFixed(3));
  const lines = rows.map((row) => {
    const mine = ours.get(row.workload.replace(/ \(64 per transaction\)$/, ''));
    const ratio = mine === undefined || row.store === 'chronik-metalog' ? '' : `${(row.higherIsBetter ? row.value / mine.value : mine.value / row.value).toFixed(2)}x`;
    return [row.workload, row.store, row.durability, `${format(row.value)} ${row.unit}`, mine === undefined ? '' : `${format(mine.value)} ${mine.unit}`, ratio];
  });
  const widths = header.map((title, column) => Math.max(title.length, ...lines.map((line) => line[column].length)));
  const render = (cells: string[]): string => `| ${cells.map((cell, column) => cell.padEnd(widths[column])).join(' | ')} |`;
  return [render(header), `|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`, ...lines.map(render)].join('\n');
}

/** The peers side by side for an HTML page: the table and one chart per workload. */
export function peersHtmlSection(rows: PeerRow[]): string {
  const workloads = [...new Set(rows.map((row) => row.workload.replace(/ \(64 per transaction\)$/, '')))];
  const charts = workloads.map((workload) => {
    const group = rows.filter((row) => row.workload.replace(/ \(64 per transaction\)$/, '') === workload);
    return barChart(workload, group[0].unit, ['value'], group.map((row) => ({ label: `${row.store}${row.durability.startsWith('no fsync') ? ' (not durable per write)' : ''}`, values: [row.value] })));
  });
  const body = rows
    .map((row) => `<tr><td>${escape(row.workload)}</td><td>${escape(row.store)}</td><td>${escape(row.durability)}</td><td class="num">${format(row.value)} ${escape(row.unit)}</td></tr>`)
    .join('\n');
  return `<h2>Beside embedded peers</h2>
<table><thead><tr><th>workload</th><th>store</th><th>durability</th><th>value</th></tr></thead><tbody>${body}</tbody></table>
${charts.join('\n')}`;
}
