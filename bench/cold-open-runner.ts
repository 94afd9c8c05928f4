/**
 * Runs bench/cold-open.ts in a fresh process and reads what it prints: one cold open of a closed store,
 * its first reads checked. Shared by the recovery and cold-start benches.
 */
import { spawnSync } from 'node:child_process';
import { check } from './lib.js';

const COLD_OPEN = new URL('./cold-open.js', import.meta.url).pathname;

/** What bench/cold-open.ts prints (times in ms). */
export interface ColdOpen {
  importMs: number;
  openMs: number;
  threadStartMs: number;
  replayMs: number;
  firstReadMs: number;
  totalMs: number;
  correct: boolean;
  snapshotOffset: number | null;
  restoreMs: number;
  replayedEvents: number;
}

/** Which topic and committed offset the first reads ask for, and the offset expected. */
export interface ColdOpenProbe {
  topic: string;
  group: string;
  offsetTopic: string;
  partition: number;
  expectedOffset: number;
}

/** Opens the store in `dir` (closed) in a fresh process; fails the bench unless its first reads are correct. */
export function coldOpen(dir: string, probe: ColdOpenProbe): ColdOpen {
  const args = [COLD_OPEN, dir, probe.topic, probe.group, probe.offsetTopic, String(probe.partition), String(probe.expectedOffset)];
  const child = spawnSync(process.execPath, args, { encoding: 'utf8' });
  check(child.status === 0, `cold open failed: ${child.stderr}`);
  const result = JSON.parse(child.stdout) as ColdOpen;
  check(result.correct, 'the first reads after a cold open are correct');
  return result;
}
