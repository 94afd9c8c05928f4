/**
 * The embedded stores the benches compare chronik-metalog with, reduced to what the workloads need.
 * They are installed into bench/peers/ (its own package.json, not the project's dependencies) by
 * `npm run bench:peers`. This module imports nothing of chronik-metalog, so a process that measures a
 * peer's memory (memory-child.ts) loads only that peer.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
const requireFromPeers = createRequire(new URL('../../bench/peers/package.json', import.meta.url));

export async function importPeer<T>(name: string): Promise<T> {
  let resolved: string;
  try {
    resolved = requireFromPeers.resolve(name);
  } catch {
    throw new Error(`${name} is not installed in bench/peers: run npm run bench:peers (it installs them)`);
  }
  return (await import(pathToFileURL(resolved).href)) as T;
}

/** One store under test, reduced to what the workloads need. */
export interface Store {
  name: string;
  durability: string;
  write(key: string, value: Uint8Array): Promise<void>;
  /** Writes many records as the store groups them best (SQLite: one transaction). */
  writeMany?(entries: [string, Uint8Array][]): Promise<void>;
  readOffset(key: string): unknown;
  readTopic(name: string): unknown;
  loadTopics(topics: { name: string; value: unknown }[]): Promise<void>;
  close(): Promise<void>;
}

interface LmdbModule {
  open(options: { path: string; compression?: boolean; noSync?: boolean; encoding?: string }): {
    put(key: string, value: unknown): Promise<boolean>;
    get(key: string): unknown;
    transaction<T>(action: () => T): Promise<T>;
    close(): Promise<void>;
  };
}
interface SqliteDatabase {
  pragma(text: string): unknown;
  exec(sql: string): void;
  prepare(sql: string): { run(...args: unknown[]): unknown; get(...args: unknown[]): { v: Buffer | string } | undefined };
  transaction<A extends unknown[]>(run: (...args: A) => void): (...args: A) => void;
  close(): void;
}
export interface ClassicLevelModule {
  ClassicLevel: new (location: string, options: { keyEncoding: string; valueEncoding: string }) => {
    open(): Promise<void>;
    put(key: string, value: Uint8Array | string, options?: { sync?: boolean }): Promise<void>;
    get(key: string): Promise<Uint8Array | string | undefined>;
    batch(operations: { type: 'put'; key: string; value: Uint8Array | string }[], options?: { sync?: boolean }): Promise<void>;
    close(): Promise<void>;
  };
}

export async function lmdbStore(dir: string): Promise<Store> {
  const { open } = await importPeer<LmdbModule>('lmdb');
  const db = open({ path: path.join(dir, 'lmdb'), compression: false });
  return {
    name: 'lmdb (lmdb-js)',
    durability: 'sync commit',
    write: async (key, value) => void (await db.put(key, value)),
    readOffset: (key) => db.get(key),
    readTopic: (name) => db.get(`topic:${name}`),
    loadTopics: async (topics) => void (await db.transaction(() => topics.forEach((topic) => db.put(`topic:${topic.name}`, topic.value)))),
    close: () => db.close(),
  };
}

export async function sqliteStore(dir: string, synchronous: 'FULL' | 'NORMAL'): Promise<Store> {
  const Database = (await importPeer<{ default: new (file: string) => SqliteDatabase }>('better-sqlite3')).default;
  const db = new Database(path.join(dir, `sqlite-${synchronous}.db`));
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous}`);
  db.exec('CREATE TABLE kv (k TEXT PRIMARY KEY, v BLOB) WITHOUT ROWID');
  const put = db.prepare('INSERT INTO kv (k, v) VALUES (?, ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v');
  const get = db.prepare('SELECT v FROM kv WHERE k = ?');
  const putMany = db.transaction((entries: [string, Uint8Array | string][]) => {
    for (const [key, value] of entries) put.run(key, value);
  });
  return {
    name: `better-sqlite3, WAL, synchronous=${synchronous}`,
    durability: synchronous === 'FULL' ? 'fsync per commit' : 'no fsync per commit (WAL NORMAL): not durable per write',
    write: async (key, value) => void put.run(key, value),
    writeMany: async (entries) => putMany(entries),
    readOffset: (key) => get.get(key)?.v,
    readTopic: (name) => {
      const row = get.get(`topic:${name}`);
      return row === undefined ? undefined : JSON.parse(String(row.v));
    },
    loadTopics: async (topics) => putMany(topics.map((topic) => [`topic:${topic.name}`, JSON.stringify(topic.value)])),
    close: async () => db.close(),
  };
}

export async function levelStore(dir: string): Promise<{ store: Store; level: InstanceType<ClassicLevelModule['ClassicLevel']> }> {
  const { ClassicLevel } = await importPeer<ClassicLevelModule>('classic-level');
  const level = new ClassicLevel(path.join(dir, 'level'), { keyEncoding: 'utf8', valueEncoding: 'view' });
  await level.open();
  // LevelDB reads are asynchronous only; the read workloads await each one.
  return {
    level,
    store: {
      name: 'classic-level (LevelDB)',
      durability: 'sync put',
      write: (key, value) => level.put(key, value, { sync: true }),
      readOffset: () => undefined,
      readTopic: () => undefined,
      loadTopics: (topics) => level.batch(topics.map((topic) => ({ type: 'put' as const, key: `topic:${topic.name}`, value: new TextEncoder().encode(JSON.stringify(topic.value)) })), { sync: true }),
      close: () => level.close(),
    },
  };
}

/** The key of committed offset `i`: 200 groups × 10 topics × 6 partitions. */
export const offsetKey = (i: number): string => `offset:group-${i % 200}/topic-${Math.floor(i / 200) % 10}/${Math.floor(i / 2000) % 6}`;
/** A 20-byte committed-offset value. */
export const offsetValue = (i: number): Uint8Array => {
  const value = new Uint8Array(20);
  new DataView(value.buffer).setFloat64(0, i, true);
  return value;
};

/** Topic `i` as the peers store it: 6 partitions of 3 replicas and one config. */
export function topicValue(i: number): unknown {
  return {
    topicId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    name: `topic-${i}`,
    replicationFactor: 3,
    partitions: Array.from({ length: 6 }, (_, p) => ({ partition: p, leader: 1 + ((i + p) % 3), replicas: [1, 2, 3], isr: [1, 2, 3], leaderEpoch: 0, partitionEpoch: 0 })),
    configs: { 'retention.ms': '604800000' },
  };
}
