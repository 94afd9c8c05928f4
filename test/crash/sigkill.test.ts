/**
 * Crash test: a child process commits durably with 16 calls in flight and is killed with SIGKILL at a
 * random moment, again and again on the same directory (CRASH_CYCLES, default 30). After every kill the
 * log on disk must hold every commit the child saw acknowledged, and nothing that does not verify; the
 * next child's open must cut any torn tail and take over the dead child's lock. SEED= replays the kill
 * times.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { MetaLog } from '../../src/api/metalog.js';
import { readRecord } from '../../src/wal/format.js';
import { foldFromDisk } from '../helpers/store.js';
import { foldTo } from '../../src/history/state-at.js';
import { StoreIndexReader } from '../../src/store-index/store-index.js';
import { tmpDir } from '../helpers/tmp.js';

const CHILD = new URL('../helpers/crash-child.js', import.meta.url);
const CYCLES = Number(process.env.CRASH_CYCLES ?? 30);
const PARTITIONS = 8;
const seed = process.env.SEED === undefined ? Date.now() % 2 ** 31 : Number(process.env.SEED);

/** A small seeded PRNG (mulberry32), so a failing run can be replayed. */
function prng(state: number): () => number {
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let x = Math.imul(state ^ (state >>> 15), 1 | state);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** Describes the first acknowledged commit missing from the log in `dir`, or null if none is. */
function findLostAck(dir: string, highestAcked: number[]): string | null {
  // From offset 0 when the WAL has it all; after compaction, from the snapshot it continues.
  const walFirst = fs.readdirSync(path.join(dir, 'wal')).filter((name) => name.endsWith('.log')).sort()[0];
  const fromStart = walFirst === undefined || walFirst.startsWith('00000000000000000000');
  const state = fromStart ? foldFromDisk(dir) : new StoreIndexReader(foldTo(dir, null).buffers);
  for (let p = 0; p < PARTITIONS; p++) {
    const found = state.fetchOffset('crash', 't', p)?.offset ?? -1;
    if (found < highestAcked[p]) return `partition ${p}: acknowledged ${highestAcked[p]} but the log holds ${found}`;
  }
  return null;
}

interface CycleResult {
  acked: number[];
  readyAt: number;
}

function runAndKill(dir: string, killAfterMs: number, durability: 'fsync' | 'interval' | 'snapshots' = 'fsync'): Promise<CycleResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD.pathname, dir, durability], { stdio: ['ignore', 'pipe', 'pipe'] });
    const acked: number[] = [];
    let readyAt = -1;
    let pending = '';
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        const [word, value] = line.split(' ');
        if (word === 'ack') acked.push(Number(value));
        else if (word === 'ready') {
          readyAt = Number(value);
          setTimeout(() => child.kill('SIGKILL'), killAfterMs);
        }
      }
    });
    child.once('exit', (code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`child exited with ${code ?? signal} before the kill: ${stderr}`));
      else resolve({ acked, readyAt });
    });
  });
}

test(`SIGKILL at random moments, ${CYCLES} cycles: every acknowledged commit survives`, async (t) => {
  const random = prng(seed);
  const dir = tmpDir(t);
  const highestAcked = new Array<number>(PARTITIONS).fill(-1);
  let totalAcked = 0;
  for (let cycle = 0; cycle < CYCLES; cycle++) {
    const killAfterMs = Math.floor(random() * 80);
    const { acked, readyAt } = await runAndKill(dir, killAfterMs);
    t.true(readyAt >= 0, `cycle ${cycle}: the child opened the store (seed ${seed})`);
    for (const value of acked) highestAcked[value % PARTITIONS] = Math.max(highestAcked[value % PARTITIONS], value);
    totalAcked += acked.length;
    const lost = findLostAck(dir, highestAcked);
    if (lost !== null) {
      t.fail(`cycle ${cycle}: ${lost} (seed ${seed}, kill after ${killAfterMs} ms)`);
      return;
    }
  }
  t.true(totalAcked > 0, 'the children acknowledged commits before being killed');
  const log = await MetaLog.open({ dir });
  for (let p = 0; p < PARTITIONS; p++) t.true((log.fetchOffset('crash', 't', p)?.offset ?? -1) >= highestAcked[p]);
  await log.close();
  t.log(`seed ${seed}: ${totalAcked} acknowledged commits over ${CYCLES} kills`);
});

test('interval durability: a killed process loses no acknowledged write either (the page cache survives it)', async (t) => {
  // Only a power loss or kernel crash can take back interval-mode writes, which a test cannot cause here;
  // a process kill must lose nothing, because every acknowledged batch was written before it was acknowledged.
  const random = prng(seed + 1);
  const dir = tmpDir(t);
  const highestAcked = new Array<number>(PARTITIONS).fill(-1);
  for (let cycle = 0; cycle < Math.ceil(CYCLES / 3); cycle++) {
    const killAfterMs = Math.floor(random() * 80);
    const { acked } = await runAndKill(dir, killAfterMs, 'interval');
    for (const value of acked) highestAcked[value % PARTITIONS] = Math.max(highestAcked[value % PARTITIONS], value);
    const lost = findLostAck(dir, highestAcked);
    if (lost !== null) {
      t.fail(`interval cycle ${cycle}: ${lost} (seed ${seed}, kill after ${killAfterMs} ms)`);
      return;
    }
  }
  t.true(highestAcked.some((value) => value >= 0));
});

test('SIGKILL while snapshots are written and the WAL compacted: every acknowledged commit survives, no half snapshot is used', async (t) => {
  const random = prng(seed + 2);
  const dir = tmpDir(t);
  const highestAcked = new Array<number>(PARTITIONS).fill(-1);
  let snapshotsSeen = 0;
  let compacted = false;
  // At least CYCLES / 2 kills, and more (up to 4 × CYCLES) until snapshots and a compaction were seen,
  // with longer lives after the first ones: a slow machine writes fewer events per life.
  for (let cycle = 0; cycle < Math.ceil(CYCLES / 2) || ((snapshotsSeen === 0 || !compacted) && cycle < 4 * CYCLES); cycle++) {
    // Longer lives than above, so snapshots (every 150 events) get written, and killed, often.
    const killAfterMs = 200 + Math.floor(random() * 600) + (cycle >= CYCLES / 2 ? 1000 : 0);
    const { acked } = await runAndKill(dir, killAfterMs, 'snapshots');
    for (const value of acked) highestAcked[value % PARTITIONS] = Math.max(highestAcked[value % PARTITIONS], value);
    const lost = findLostAck(dir, highestAcked);
    if (lost !== null) {
      t.fail(`snapshot cycle ${cycle}: ${lost} (seed ${seed}, kill after ${killAfterMs} ms)`);
      return;
    }
    snapshotsSeen = Math.max(snapshotsSeen, fs.existsSync(path.join(dir, 'snapshots')) ? fs.readdirSync(path.join(dir, 'snapshots')).length : 0);
    compacted ||= !fs.existsSync(path.join(dir, 'wal', '00000000000000000000.log'));
  }
  t.true(snapshotsSeen > 0, 'snapshots were written between the kills');
  t.true(compacted, 'the WAL was compacted between the kills');
  const log = await MetaLog.open({ dir });
  t.deepEqual(log.recovery.skippedSnapshots, [], 'no snapshot a kill interrupted is ever offered to open (only .tmp files, removed)');
  for (let p = 0; p < PARTITIONS; p++) t.true((log.fetchOffset('crash', 't', p)?.offset ?? -1) >= highestAcked[p]);
  await log.close();
});

test('canary: the checker notices a lost acknowledged write', async (t) => {
  // Plant a loss: acknowledge commits for real, then cut the last record off the log behind the store's back.
  const dir = tmpDir(t);
  const log = await MetaLog.open({ dir });
  await log.createTopic({ name: 't', partitions: PARTITIONS });
  const highestAcked = new Array<number>(PARTITIONS).fill(-1);
  for (let value = 0; value < 16; value++) {
    await log.commitOffsets('crash', [{ topic: 't', partition: value % PARTITIONS, offset: value }]);
    highestAcked[value % PARTITIONS] = value;
  }
  await log.close();
  t.is(findLostAck(dir, highestAcked), null, 'the intact log passes');
  const walDir = path.join(dir, 'wal');
  const file = path.join(walDir, fs.readdirSync(walDir)[0]);
  const bytes = fs.readFileSync(file);
  let position = bytes.readUInt32LE(12);
  let lastStart = position;
  // Walk the records to find where the last one starts; bounded by the file length (each step moves on
  // by a record), and stopped by the zero-filled space after the last record.
  for (let found = readRecord(bytes, position, bytes.length); typeof found !== 'string'; found = readRecord(bytes, position, bytes.length)) {
    lastStart = position;
    position = found.end;
  }
  fs.truncateSync(file, lastStart);
  t.regex(findLostAck(dir, highestAcked) ?? '', /partition 7: acknowledged 15 but the log holds 7/);
});
