#!/usr/bin/env node
/**
 * The `metalog` command line: operator tools over a store directory.
 *
 *   metalog inspect <dir>   segments, offsets, record and byte counts (read-only, safe while open)
 *   metalog verify <dir>    checks every header and record checksum and replays every event (read-only)
 *   metalog repair <dir>    cuts a corrupt log at its first damage, saving what it cuts (store must be closed)
 *   metalog dump <dir>      every event as a JSON line, filtered by type and offset range (read-only)
 *   metalog state <dir>     the state folded from the log, as of its end or of an offset (read-only)
 *   metalog history <dir>   the events that changed one entity, as JSON lines (read-only)
 *   metalog snapshot <dir>  opens the store, writes a snapshot, compacts per retention (store must be closed)
 *   metalog compact <dir>   the same with a retention given on the command line (default: all that snapshots cover)
 *   metalog backup <dir> <dest>       copies the store, verified (safe while open)
 *   metalog restore <src> <dir>       a new store at a point of another's history
 *   metalog diff <dir> <from> <to>    what changed between two offsets (read-only)
 *   metalog metrics serve <dir>   opens the store and serves its metrics over HTTP until SIGINT/SIGTERM
 *
 * Exit codes: 0 ok, 1 damage found or the command failed, 2 usage error. `--json` prints one JSON object.
 */
import path from 'node:path';
import { MetaLog } from '../api/metalog.js';
import { CONFIG_OPTIONS } from '../config.js';
import { MetaLogError } from '../errors.js';
import type { EventType, LogEvent } from '../codec/event-schema.js';
import { foldTo, stateOf } from '../history/state-at.js';
import { canonicalIndexState } from '../store-index/canonical-index-state.js';
import { StoreIndexReader } from '../store-index/store-index.js';
import { readHistory, type EntityRef } from '../history/history.js';
import { METRICS_HOST_DEFAULT, METRICS_PORT_DEFAULT, parseMetricsServeArgs, serveMetricsUntilSignal } from '../metrics/metrics-command.js';
import { scanWal } from '../wal/recovery.js';
import { Progress } from './progress.js';
import { benchCommand, backupCommand, diffCommand, failureMessage, parseTime, restoreCommand, snapshotCommand, verifySnapshots, type SnapshotCheck } from './operations.js';
import { NodeStorage } from '../wal/storage.js';

const USAGE = `usage: metalog <command> <dir> [options]

commands:
  inspect <dir> [--json]  list segments with their offsets, records and bytes (read-only)
  verify <dir> [--json]   check every checksum and replay every event, and check each snapshot's
                          checksums and state digest against the WAL; exit 1 on damage (read-only)
  repair <dir> [--json]   cut a corrupt log at its first damage, keeping a copy of what is cut
                          (the store must not be open)
  dump <dir> [--type T]... [--from N] [--to N]
                          every event from offset N to N (inclusive) as one JSON line
                          ({ offset, timestampMs, type, value }; bytes as base64), only of the
                          types given; read-only, safe while the store is open
  history <dir> (--topic T | --group G | --broker N | --transactional-id ID) [--type T]...
                          the events that changed that entity, oldest first, as JSON lines
                          (read-only, safe while the store is open)
  state <dir> [--at N] [--json]
                          the state folded from the log up to offset N (default: its end): counts,
                          or with --json the whole state; read-only, safe while the store is open
  snapshot <dir> [--json]  open the store, write a snapshot of all of it, delete older snapshots and
                          WAL segments per its retention; refused while another process has it open
  compact <dir> [--retention-ms N] [--retention-bytes N] [--json]
                          snapshot, then delete the WAL segments it covers that are older than N ms
                          or beyond N bytes (default 0: everything the oldest kept snapshot covers)
  backup <dir> <dest> [--json]
                          copy the store's snapshots and WAL to the empty folder dest and verify the
                          copy (safe while the store is open)
  restore <src> <dir> [--to N | --to-time T] [--json]
                          make a new store in the empty folder dir with the state of src (a store or a
                          backup) at offset N or time T (ms since the epoch or an ISO date); default: all
  diff <dir> <from> <to> [--json]
                          what changed between offsets from and to: entities added, removed, changed
                          (read-only, safe while the store is open)
  bench [--quick] [--only GROUP] [--json] [--html FILE]
                          run the load test (source checkout only; same as npm run bench)
  metrics serve <dir> [--port N] [--host H]
                          open the store and serve its metrics at http://H:N/metrics (Prometheus
                          text; default ${METRICS_HOST_DEFAULT}:${METRICS_PORT_DEFAULT}) until SIGINT or SIGTERM;
                          refused while another process has the store open

store options (MetaLog.open config):
${Object.entries(CONFIG_OPTIONS)
  .map(([name, spec]) => `  ${name.padEnd(16)}${spec.doc}`)
  .join('\n')}
`;

interface Output {
  json: boolean;
}

function print(output: Output, value: Record<string, unknown>, text: string): void {
  process.stdout.write(output.json ? `${JSON.stringify(value)}\n` : `${text}\n`);
}

function inspectOrVerify(dir: string, output: Output, command: 'inspect' | 'verify'): number {
  const started = performance.now();
  // Both check every record's checksum; verify also decodes every payload, replays the state (from the
  // oldest snapshot when the WAL before it was compacted) and checks every snapshot against the WAL.
  const progress = new Progress(`${command}: segments`);
  const scan = scanWal(new NodeStorage(), path.join(dir, 'wal'), () => undefined, {
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
  let replayed: { topics: number; offsets: number; lastOffset: number } | null = null;
  let snapshots: SnapshotCheck[] = [];
  if (command === 'verify' && !damaged) {
    const state = stateOf(foldTo(dir, null));
    replayed = { topics: state.topics.length, offsets: state.offsets.length, lastOffset: state.offset };
    snapshots = verifySnapshots(dir);
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
  if (replayed !== null) lines.push(`replayed: ${replayed.topics} topics, ${replayed.offsets} committed offsets`);
  for (const check of snapshots) lines.push(`snapshot ${check.file} (offset ${check.lastOffset}): ${check.verdict}${check.reason === undefined ? '' : ` (${check.reason})`}`);
  if (scan.damage !== null) lines.push(`DAMAGE (${scan.damage.kind}) in ${scan.damage.file} at byte ${scan.damage.position}, offset ${scan.damage.offset}: ${scan.damage.reason}`);
  else if (badSnapshots.length === 0) lines.push('ok: every checksum verified');
  print(output, result, lines.join('\n'));
  // A torn tail is what a crash leaves and open cuts it; anything else needs an operator.
  return damaged || badSnapshots.length > 0 ? 1 : 0;
}

function repair(dir: string, output: Output): number {
  const report = MetaLog.repair(dir);
  const text =
    report.damage === null
      ? 'the log is sound; nothing changed'
      : `cut ${report.damage.file} at byte ${report.damage.position} (offset ${report.damage.offset}): dropped ${report.droppedBytes} bytes, ` +
        `${report.droppedRecordsVerified} records that still verified, ${report.removedSegments.length} later segments; copies in ${report.savedTo}`;
  print(output, report as unknown as Record<string, unknown>, text);
  return 0;
}

/** Options of `dump`, or the usage error. */
function dumpOptions(args: string[]): { types: Set<string> | null; from: number; to: number } | string {
  const types = new Set<string>();
  let from = 0;
  let to = Number.MAX_SAFE_INTEGER;
  for (let index = 0; index < args.length; index++) {
    const [option, value] = [args[index], args[index + 1]];
    if (value === undefined) return `${option} needs a value`;
    if (option === '--type') types.add(value);
    else if (option === '--from' || option === '--to') {
      const offset = Number(value);
      if (!Number.isSafeInteger(offset) || offset < 0) return `${option} takes an offset (an integer >= 0)`;
      if (option === '--from') from = offset;
      else to = offset;
    } else return `unknown option ${option}`;
    index++;
  }
  return { types: types.size === 0 ? null : types, from, to };
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

function dump(dir: string, options: { types: Set<string> | null; from: number; to: number }): number {
  const scan = scanWal(new NodeStorage(), path.join(dir, 'wal'), (event) => {
    if (event === null || event.offset < options.from || event.offset > options.to) return;
    if (options.types !== null && !options.types.has(event.type)) return;
    printEvent(event);
  });
  if (scan.damage !== null && scan.damage.kind !== 'torn') {
    process.stderr.write(`metalog dump: DAMAGE in ${scan.damage.file} at byte ${scan.damage.position}, offset ${scan.damage.offset}: ${scan.damage.reason}\n`);
    return 1;
  }
  return 0;
}

/** The events that changed one entity (`log.history` from the command line), as JSON lines. */
function history(dir: string, args: string[]): number {
  let entity: EntityRef | null = null;
  const types: EventType[] = [];
  for (let index = 0; index < args.length; index += 2) {
    const [option, value] = [args[index], args[index + 1]];
    if (value === undefined) return usageError('history', `${option} needs a value`);
    if (option === '--type') types.push(value as EventType);
    else if (entity !== null) return usageError('history', 'name one entity');
    else if (option === '--topic') entity = { topic: value };
    else if (option === '--group') entity = { group: value };
    else if (option === '--transactional-id') entity = { transactionalId: value };
    else if (option === '--broker' && Number.isInteger(Number(value))) entity = { broker: Number(value) };
    else return usageError('history', `unknown option or value: ${option} ${value}`);
  }
  if (entity === null) return usageError('history', 'name an entity (--topic, --group, --broker or --transactional-id)');
  const events = readHistory(dir, { entity, types: types.length === 0 ? undefined : types, limit: 1_000_000 });
  for (const event of events) printEvent(event);
  return 0;
}

function usageError(command: string, message: string): number {
  process.stderr.write(`metalog ${command}: ${message}\n${USAGE}`);
  return 2;
}

/** The state of the store up to `at` (inclusive; all of it when null): newest snapshot before it, then the WAL. */
function state(dir: string, at: number | null, output: Output): number {
  const folded = foldTo(dir, at === null ? null : { offset: at });
  if (output.json) {
    process.stdout.write(`${canonicalIndexState(new StoreIndexReader(folded.buffers))}\n`);
    return 0;
  }
  const plain = stateOf(folded);
  const groupsWithOffsets = new Set(plain.offsets.map((offset) => offset.groupId)).size;
  process.stdout.write(
    `as of offset ${plain.offset}: ${plain.brokers.length} brokers, ${plain.topics.length} topics, ${plain.groups.length} groups, ` +
      `${plain.offsets.length} committed offsets in ${groupsWithOffsets} groups, ${plain.transactions.length} transactions, ` +
      `next producer id ${plain.nextProducerId}\n`,
  );
  return 0;
}

/** `metrics serve`: opens the store and serves its metrics until a signal (src/metrics/metrics-command.ts). */
async function metrics(args: string[]): Promise<number> {
  const options = parseMetricsServeArgs(args);
  if (typeof options === 'string') return usageError('metrics', options);
  try {
    return await serveMetricsUntilSignal(options);
  } catch (error) {
    const message = error instanceof MetaLogError ? `${error.code}: ${error.message}` : (error as Error).message;
    process.stderr.write(`metalog metrics: ${message}\n`);
    return 1;
  }
}

/** snapshot, compact, backup, restore and diff (src/cli/operations.ts). */
async function operation(args: string[], json: boolean): Promise<number> {
  const [command, first, ...rest] = args;
  const option = (name: string): string | undefined => {
    const at = rest.indexOf(name);
    return at < 0 ? undefined : rest[at + 1];
  };
  const integer = (text: string | undefined): number | null => (text !== undefined && /^-?\d+$/.test(text) ? Number(text) : null);
  if (first === undefined) return usageError(command, 'name the store directory');
  try {
    if (command === 'snapshot') return await snapshotCommand(first, json);
    if (command === 'compact') {
      const retentionMs = option('--retention-ms') === undefined ? 0 : integer(option('--retention-ms'));
      const retentionBytes = option('--retention-bytes') === undefined ? -1 : integer(option('--retention-bytes'));
      if (retentionMs === null || retentionBytes === null) return usageError('compact', '--retention-ms and --retention-bytes take integers');
      return await snapshotCommand(first, json, { historyRetentionMs: retentionMs, historyRetentionBytes: retentionBytes });
    }
    const second = rest[0];
    if (second === undefined || second.startsWith('--')) return usageError(command, command === 'diff' ? 'give two offsets' : 'name the destination directory');
    if (command === 'backup') return await backupCommand(first, second, json);
    if (command === 'restore') {
      const to = option('--to');
      const toTime = option('--to-time');
      const point = { toOffset: to === undefined ? undefined : (integer(to) ?? -1), toTime: toTime === undefined ? undefined : (parseTime(toTime) ?? -1) };
      if (point.toOffset === -1 || point.toTime === -1) return usageError('restore', '--to takes an offset, --to-time a time (ms since the epoch or an ISO date)');
      return restoreCommand(first, second, point, json);
    }
    const from = integer(second);
    const to = integer(rest[1]);
    if (from === null || to === null || from < 0 || to < 0) return usageError('diff', 'give two offsets (integers >= 0)');
    return diffCommand(first, from, to, json);
  } catch (error) {
    process.stderr.write(`metalog ${command}: ${failureMessage(error)}\n`);
    return 1;
  }
}

function main(argv: string[]): number | Promise<number> {
  const json = argv.includes('--json');
  const args = argv.filter((arg) => arg !== '--json');
  if (args.length === 0 || args[0] === '--help' || args[0] === 'help') {
    process.stdout.write(USAGE);
    return args.length === 0 ? 2 : 0;
  }
  if (args[0] === 'metrics') return metrics(args.slice(1));
  if (['snapshot', 'compact', 'backup', 'restore', 'diff'].includes(args[0])) return operation(args, json);
  if (args[0] === 'bench') return benchCommand(argv.slice(1));
  const [command, dir] = args;
  if (dir === undefined || !['inspect', 'verify', 'repair', 'dump', 'state', 'history'].includes(command)) {
    process.stderr.write(USAGE);
    return 2;
  }
  try {
    if (command === 'dump') {
      const options = dumpOptions(args.slice(2));
      if (typeof options === 'string') return usageError('dump', options);
      return dump(dir, options);
    }
    if (command === 'history') return history(dir, args.slice(2));
    if (command === 'state') {
      const options = args.slice(2);
      const at = options[0] === '--at' ? Number(options[1]) : null;
      if (options.length !== 0 && (options.length !== 2 || at === null || !Number.isSafeInteger(at) || at < 0)) {
        return usageError('state', '--at takes an offset (an integer >= 0)');
      }
      return state(dir, at, { json });
    }
    if (command === 'repair') return repair(dir, { json });
    return inspectOrVerify(dir, { json }, command as 'inspect' | 'verify');
  } catch (error) {
    const message = error instanceof MetaLogError ? `${error.code}: ${error.message}` : (error as Error).message;
    process.stderr.write(`metalog ${command}: ${message}\n`);
    return 1;
  }
}

void Promise.resolve(main(process.argv.slice(2))).then((code) => {
  process.exitCode = code;
});
