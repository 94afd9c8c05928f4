/**
 * Replay on open: a store holding N events (a few topics, the rest offset commits over many groups) is
 * closed and opened again; measured are the writer's replay (read, verify, decode, fold) and the whole
 * open until the first correct read. For the small store, the open is also measured as a broker restart
 * sees it: in fresh processes (bench/cold-open.ts), median of several, split into the package import,
 * the writer thread's start, the replay and the first read. Baseline from the same run: reading the same WAL files and
 * checksumming them (no decoding, no state): the I/O + CRC floor. Then `stateAt` at random offsets with
 * a snapshot every tenth of the history, against `stateAt` by full replay.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { MetaLog } from '../src/api/metalog.js';
import { crc32c } from '../src/crc32c.js';
import { Snapshotter } from '../src/snapshot/snapshotter.js';
import { storageFor } from '../src/wal/storage.js';
import { coldOpen, type ColdOpen } from './cold-open-runner.js';
import { drive } from './drive.js';
import { benchDir, check, type BenchRow } from './lib.js';

const TOPICS = 10;
const PARTITIONS = 6;
const GROUPS = 200;
/** Fresh-process opens per cold-open row (the median is reported). */
const COLD_OPENS = 7;

/** Opens the store in `dir` (closed) in fresh processes; the run with the median import + open + read. */
function coldOpens(dir: string, commits: number): { median: ColdOpen; all: ColdOpen[] } {
  const last = commits - 1;
  const probe = { topic: `topic-${TOPICS - 1}`, group: `group-${last % GROUPS}`, offsetTopic: `topic-${last % TOPICS}`, partition: last % PARTITIONS, expectedOffset: last };
  const all = Array.from({ length: COLD_OPENS }, () => coldOpen(dir, probe));
  all.sort((a, b) => a.importMs + a.totalMs - (b.importMs + b.totalMs));
  return { median: all[Math.floor(all.length / 2)], all };
}

/**
 * The floor under any open with a writer thread: in a fresh process, from the script's start until an
 * empty worker thread (no module of ours) has started and answered (median of COLD_OPENS).
 */
function emptyWorkerUpMs(): number {
  const script = `
    const { Worker } = require('node:worker_threads');
    const started = performance.now();
    const worker = new Worker("require('node:worker_threads').parentPort.postMessage(0)", { eval: true });
    worker.once('message', () => { process.stdout.write(String(performance.now() - started)); worker.terminate(); });
  `;
  const times: number[] = [];
  for (let run = 0; run < COLD_OPENS; run++) {
    const child = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    check(child.status === 0, `the empty worker failed: ${child.stderr}`);
    times.push(Number(child.stdout));
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)];
}

/** The rows of `coldOpens`: import → first read, then the split of the median run, one row each. */
function coldOpenRows(events: number, opens: { median: ColdOpen; all: ColdOpen[] }): BenchRow[] {
  const { median } = opens;
  const workload = `cold open, ${events.toLocaleString('en-US')} events`;
  const part = (metric: string, value: number): BenchRow => ({ workload, metric, value, unit: 'ms', higherIsBetter: false });
  return [
    {
      ...part(`import + open → first read (median of ${opens.all.length})`, median.importMs + median.totalMs),
      note: `fresh processes: ${opens.all.map((each) => (each.importMs + each.totalMs).toFixed(0)).join(', ')} ms`,
    },
    part('  import of the package entry', median.importMs),
    { ...part('  open: until the writer thread recovers', median.threadStartMs), baseline: { name: 'an empty worker thread up', value: emptyWorkerUpMs() } },
    part('  open: replay', median.replayMs),
    part('  open: the rest (READY, handle setup)', median.openMs - median.threadStartMs - median.replayMs),
    part('  first read', median.firstReadMs),
  ];
}

/** Reads every segment and checksums its bytes: the floor any replay must pay. */
function readAndChecksum(walDir: string): number {
  const started = performance.now();
  let sum = 0;
  for (const name of fs.readdirSync(walDir)) sum ^= crc32c(fs.readFileSync(path.join(walDir, name)));
  void sum;
  return (performance.now() - started) / 1000;
}

export async function benchRecovery(events: number): Promise<BenchRow[]> {
  const { dir, cleanup } = benchDir('recovery');
  try {
    let log = await MetaLog.open({ dir, durability: 'none' });
    for (let t = 0; t < TOPICS; t++) await log.createTopic({ name: `topic-${t}`, partitions: PARTITIONS });
    const commits = events - TOPICS;
    await drive(
      commits,
      256,
      (i) => log.commitOffsets(`group-${i % GROUPS}`, [{ topic: `topic-${i % TOPICS}`, partition: i % PARTITIONS, offset: i }]),
      `recovery: writing ${events.toLocaleString('en-US')} events`,
    );
    await log.close();
    const coldOpen = events <= 1_000 ? coldOpenRows(events, coldOpens(dir, commits)) : [];

    const openStarted = performance.now();
    log = await MetaLog.open({ dir, snapshotEveryEvents: 0 });
    const probe = log.fetchOffset(`group-${(commits - 1) % GROUPS}`, `topic-${(commits - 1) % TOPICS}`, (commits - 1) % PARTITIONS);
    const openSeconds = (performance.now() - openStarted) / 1000;
    check(probe?.offset === commits - 1, 'the first read after open is correct');
    check(log.recovery.replayedEvents === events, `replayed ${log.recovery.replayedEvents} of ${events} events`);
    const replaySeconds = log.recovery.durationMs / 1000;
    // State as of the middle of the history by full replay (no snapshot yet). The pool starts first.
    await log.readers.listBrokers();
    const middle = Math.floor(events / 2);
    let started = performance.now();
    const stateThen = await log.stateAt({ offset: middle });
    const replayStateMs = performance.now() - started;
    check(stateThen.offset === middle && stateThen.topics.length === TOPICS, 'stateAt folds to the offset asked for');
    await log.close();
    // Snapshots every tenth of the history (as snapshotEveryEvents would leave them), taken offline by
    // the same code the snapshot thread runs; then stateAt at random offsets starts from the nearest.
    const snapshotter = new Snapshotter({ dir, snapshotsRetained: 20, historyRetentionMs: -1, historyRetentionBytes: -1 }, storageFor());
    for (let tenth = 1; tenth <= 10; tenth++) snapshotter.snapshotThrough(Math.floor((events * tenth) / 10) - 1, Date.now());
    log = await MetaLog.open({ dir, snapshotEveryEvents: 0 });
    check(log.recovery.snapshot?.lastOffset === events - 1, 'open starts from the newest snapshot');
    await log.readers.listBrokers();
    const stateMs: number[] = [];
    for (let sample = 0; sample < 7; sample++) {
      const offset = Math.floor(Math.random() * events);
      started = performance.now();
      const state = await log.stateAt({ offset });
      stateMs.push(performance.now() - started);
      check(state.offset === offset, 'stateAt from a snapshot folds to the offset asked for');
    }
    check(JSON.stringify(await log.stateAt({ offset: middle })) === JSON.stringify(stateThen), 'stateAt from a snapshot equals stateAt by full replay');
    stateMs.sort((a, b) => a - b);
    await log.close();
    const floorSeconds = readAndChecksum(path.join(dir, 'wal'));
    const label = `replay on open, ${events.toLocaleString('en-US')} events`;
    return [
      ...coldOpen,
      { workload: label, metric: 'writer replay', value: events / replaySeconds, unit: 'events/s', baseline: { name: 'read+CRC32C only', value: events / floorSeconds }, higherIsBetter: true },
      { workload: label, metric: 'open → first read', value: events / openSeconds, unit: 'events/s', higherIsBetter: true, note: `${(openSeconds * 1000).toFixed(0)} ms` },
      {
        workload: `stateAt a random offset of ${events.toLocaleString('en-US')} events`, metric: 'time (median of 7)', value: stateMs[3], unit: 'ms', higherIsBetter: false,
        baseline: { name: 'full replay to the middle', value: replayStateMs }, note: `snapshots every ${(events / 10).toLocaleString('en-US')} events; max ${stateMs[6].toFixed(0)} ms`,
      },
    ];
  } finally {
    cleanup();
  }
}
