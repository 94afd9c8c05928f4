/**
 * The `metalog` commands that read a store's log and change nothing (but repair): inspect, verify,
 * dump, history and state, plus repair, which cuts a corrupt log. The read-only ones are safe beside a
 * running store. Each returns its exit code; a folder that holds no store is an error, never an empty
 * result.
 */
import path from 'node:path';
import { MetaLog } from '../api/metalog.js';
import type { EventType, LogEvent } from '../codec/event-schema.js';
import { readHistory, type EntityRef } from '../history/history.js';
import { foldTo, stateOf } from '../history/state-at.js';
import { canonicalIndexState } from '../store-index/canonical-index-state.js';
import { StoreIndexReader } from '../store-index/store-index.js';
import { scanWal } from '../wal/recovery.js';
import type { Storage } from '../wal/storage.js';
import { EXIT, print, requireStore } from './cli-support.js';
import { verifySnapshots, type SnapshotCheck } from './operations.js';
import { Progress } from './progress.js';

/** `inspect` lists segments; `verify` also decodes every payload, replays the state and checks the snapshots. */
export function inspectOrVerify(dir: string, json: boolean, command: 'inspect' | 'verify', storage: Storage): number {
  requireStore(dir, storage);
  const started = performance.now();
  const progress = new Progress(`${command}: segments`);
  const scan = scanWal(storage, path.join(dir, 'wal'), () => undefined, {
    decodes: () => command === 'verify',
    onSegment: (index, count, name) => progress.update(index, count, name),
  });
  progress.finish();
  const segments = scan.segments.map((segment) => ({
    file: segment.name,
    baseOffset: segment.baseOffset,
    records: segment.recordCount,
    bytes: segment.fileBytes,
    createdMs: segment.header?.createdMs ?? null,
  }));
  const damaged = scan.damage !== null && scan.damage.kind !== 'torn';
  let replayed: { topics: number; offsets: number; lastOffset: number; clusterId: string | null } | null = null;
  let snapshots: SnapshotCheck[] = [];
  if (command === 'verify' && !damaged) {
    // From the oldest snapshot when the WAL before it was compacted.
    const state = stateOf(foldTo(dir, null, storage));
    replayed = { topics: state.topics.length, offsets: state.offsets.length, lastOffset: state.offset, clusterId: state.clusterId };
    snapshots = verifySnapshots(dir, storage);
  }
  const badSnapshots = snapshots.filter((check) => check.verdict !== 'ok' && check.verdict !== 'base');
  const result = {
    dir,
    segments,
    nextOffset: scan.nextOffset,
    damage: scan.damage,
    ...(command === 'verify' ? { replayed, snapshots, ms: Math.round(performance.now() - started) } : {}),
  };
  const lines = segments.map((s) => `${s.file}  offsets ${s.baseOffset}..${s.baseOffset + s.records - 1}  ${s.records} records  ${s.bytes} bytes`);
  lines.push(`next offset ${scan.nextOffset}`);
  if (replayed !== null) lines.push(`replayed: ${replayed.topics} topics, ${replayed.offsets} committed offsets, cluster id ${replayed.clusterId ?? '(none)'}`);
  for (const check of snapshots) lines.push(`snapshot ${check.file} (offset ${check.lastOffset}): ${check.verdict}${check.reason === undefined ? '' : ` (${check.reason})`}`);
  if (scan.damage !== null) lines.push(`DAMAGE (${scan.damage.kind}) in ${scan.damage.file} at byte ${scan.damage.position}, offset ${scan.damage.offset}: ${scan.damage.reason}`);
  else if (badSnapshots.length === 0) lines.push('ok: every checksum verified');
  print(json, result, lines);
  // A torn tail is what a crash leaves and open cuts it; anything else needs an operator.
  return damaged || badSnapshots.length > 0 ? EXIT.FAILED : EXIT.OK;
}

/** `repair`: cuts a corrupt log at its first damage, saving what it cuts (the store must be closed). */
export function repairCommand(dir: string, json: boolean): number {
  const report = MetaLog.repair(dir);
  const text =
    report.damage === null
      ? 'the log is sound; nothing changed'
      : `cut ${report.damage.file} at byte ${report.damage.position} (offset ${report.damage.offset}): dropped ${report.droppedBytes} bytes, ` +
        `${report.droppedRecordsVerified} records that still verified, ${report.removedSegments.length} later segments; copies in ${report.savedTo}`;
  print(json, report, [text]);
  return EXIT.OK;
}

/** JSON of an event value, with byte fields (group members' protocol data) as base64. */
function eventJson(_key: string, value: unknown): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
  if (typeof value === 'object' && value !== null && (value as { type?: unknown }).type === 'Buffer' && Array.isArray((value as { data?: unknown }).data)) {
    return Buffer.from((value as { data: number[] }).data).toString('base64');
  }
  return value;
}

/** One event as the JSON line `dump` and `history` print. */
function printEvent(event: LogEvent): void {
  process.stdout.write(`${JSON.stringify({ offset: event.offset, timestampMs: event.timestampMs, type: event.type, value: event.value }, eventJson)}\n`);
}

/** `dump`: every event from offset `from` to `to` (inclusive) of the given types, as JSON lines. */
export function dumpCommand(dir: string, options: { types: readonly string[]; from: number; to: number }, storage: Storage): number {
  requireStore(dir, storage);
  const types = options.types.length === 0 ? null : new Set(options.types);
  const scan = scanWal(storage, path.join(dir, 'wal'), (event) => {
    if (event === null || event.offset < options.from || event.offset > options.to) return;
    if (types !== null && !types.has(event.type)) return;
    printEvent(event);
  });
  if (scan.damage !== null && scan.damage.kind !== 'torn') {
    process.stderr.write(`metalog dump: DAMAGE in ${scan.damage.file} at byte ${scan.damage.position}, offset ${scan.damage.offset}: ${scan.damage.reason}\n`);
    return EXIT.FAILED;
  }
  return EXIT.OK;
}

/** `history`: the events that changed one entity (`log.history` from the command line), as JSON lines. */
export function historyCommand(dir: string, entity: EntityRef, types: readonly string[], storage: Storage): number {
  requireStore(dir, storage);
  const events = readHistory(dir, { entity, types: types.length === 0 ? undefined : (types as EventType[]), limit: 1_000_000 }, storage);
  for (const event of events) printEvent(event);
  return EXIT.OK;
}

/** `state`: the state up to `at` (inclusive; all of it when null): counts, or with `json` all of it. */
export function stateCommand(dir: string, at: number | null, json: boolean, storage: Storage): number {
  requireStore(dir, storage);
  const folded = foldTo(dir, at === null ? null : { offset: at }, storage);
  if (json) {
    process.stdout.write(`${canonicalIndexState(new StoreIndexReader(folded.buffers))}\n`);
    return EXIT.OK;
  }
  const plain = stateOf(folded);
  const groupsWithOffsets = new Set(plain.offsets.map((offset) => offset.groupId)).size;
  process.stdout.write(
    `as of offset ${plain.offset}: ${plain.brokers.length} brokers, ${plain.topics.length} topics, ${plain.groups.length} groups, ` +
      `${plain.offsets.length} committed offsets in ${groupsWithOffsets} groups, ${plain.transactions.length} transactions, ` +
      `next producer id ${plain.nextProducerId}, cluster id ${plain.clusterId ?? '(none)'}\n`,
  );
  return EXIT.OK;
}
