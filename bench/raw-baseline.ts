/**
 * The durable-write limit of this disk, measured in the same run as the store: a plain loop that appends
 * pre-encoded records with one write() and one fdatasync() per group, in this process, with no threads,
 * no validation and no state. The store's durable figures are printed as ratios to these.
 */
import fs from 'node:fs';
import path from 'node:path';
import { benchDir, latencyHistogram, percentilesMs, recordSince } from './lib.js';

/** Records per second when `groupSize` records of `recordBytes` share one write + fdatasync. */
export function rawGroupCommit(groupSize: number, recordBytes: number, totalRecords: number): number {
  const { dir, cleanup } = benchDir('raw');
  try {
    const fd = fs.openSync(path.join(dir, 'raw.log'), 'w');
    const group = Buffer.alloc(groupSize * recordBytes, 7);
    let position = 0;
    const started = performance.now();
    for (let written = 0; written < totalRecords; written += groupSize) {
      fs.writeSync(fd, group, 0, group.length, position);
      position += group.length;
      fs.fdatasyncSync(fd);
    }
    const seconds = (performance.now() - started) / 1000;
    fs.closeSync(fd);
    return totalRecords / seconds;
  } finally {
    cleanup();
  }
}

/** Latency of one append + fdatasync of one record (the floor under any single durable write). */
export function rawSingleLatency(recordBytes: number, count: number): { p50: number; p99: number; max: number } {
  const { dir, cleanup } = benchDir('raw1');
  try {
    const fd = fs.openSync(path.join(dir, 'raw.log'), 'w');
    const record = Buffer.alloc(recordBytes, 7);
    const histogram = latencyHistogram();
    let position = 0;
    for (let i = 0; i < count; i++) {
      const started = process.hrtime.bigint();
      fs.writeSync(fd, record, 0, record.length, position);
      fs.fdatasyncSync(fd);
      recordSince(histogram, started);
      position += record.length;
    }
    fs.closeSync(fd);
    return percentilesMs(histogram);
  } finally {
    cleanup();
  }
}
