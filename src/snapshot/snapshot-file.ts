/**
 * Snapshot files: the whole state at one offset, as named, checksummed byte sections.
 *
 * Owns: the file layout, its names, writing one durably (tmp → fdatasync → rename → fsync of the
 * directory, so a crash leaves the old set of snapshots or the new one, never a half file under a
 * snapshot's name), reading one back with every byte checked, and listing a store's snapshots.
 * What the sections hold is index-image.ts's business.
 *
 * Layout (all integers little-endian):
 *
 *   +--------+---------+-----------+----------+---------------------+-----------+-----------+-----+
 *   | magic  | version | metaBytes | metaCrc  | meta (UTF-8 JSON)   | section 0 | section 1 | ... |
 *   | 'MLSN' | u32 = 1 | u32       | CRC32C   | SnapshotMeta        |           |           |     |
 *   +--------+---------+-----------+----------+---------------------+-----------+-----------+-----+
 *
 * The meta lists every section (name, bytes, CRC32C) in file order; the file ends exactly after the
 * last one. A file is valid only if the meta's checksum holds, every section's checksum holds and the
 * length adds up; anything else is reported as damage, never half-used.
 */
import fs from 'node:fs';
import path from 'node:path';
import { crc32c } from '../crc32c.js';

export const SNAPSHOT_DIR = 'snapshots';
const SUFFIX = '.snapshot';
const MAGIC = 0x4e534c4d; // 'MLSN' read little-endian
export const SNAPSHOT_FORMAT_VERSION = 1;
const FIXED_BYTES = 16;
/** Bytes of a snapshot written between two fdatasyncs of it. */
const SYNC_EVERY_BYTES = 8 * 1024 * 1024;
/** A meta larger than this is damage, not a snapshot (it holds a few dozen numbers and names). */
const META_BYTES_MAX = 1024 * 1024;

/** One byte section of a snapshot. */
export interface SectionInfo {
  name: string;
  bytes: number;
  crc: number;
}

/** What a snapshot says about itself. */
export interface SnapshotMeta {
  formatVersion: number;
  /** Offset of the last event folded into it. */
  lastOffset: number;
  /** Commit time of that event (ms since the epoch); -1 for an empty log. */
  lastTimestampMs: number;
  createdMs: number;
  eventSchemaVersion: number;
  /** Version of the index's value encodings (`INDEX_VALUE_FORMAT`). */
  indexValueFormat: number;
  /** Scalars of the state kept outside the index tables. */
  state: { nextProducerId: number; idEpoch: number; groupNumberNext: number; topicNumberNext: number };
  /** Digest of the state's content, independent of memory layout (see index-image.ts). */
  digest: string;
  /** Entries per index table, for reports. */
  entries: Record<string, number>;
  sections: SectionInfo[];
}

/** A snapshot file in a store's directory. */
export interface SnapshotFileRef {
  file: string;
  /** The offset its name gives (checked against its meta when read). */
  lastOffset: number;
}

export function snapshotFileName(lastOffset: number): string {
  return `${String(lastOffset).padStart(20, '0')}${SUFFIX}`;
}

/** The store's snapshots, newest (highest offset) first. Temporary files are not listed. */
export function listSnapshots(storeDir: string): SnapshotFileRef[] {
  const dir = path.join(storeDir, SNAPSHOT_DIR);
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const found: SnapshotFileRef[] = [];
  for (const name of names) {
    const match = /^(\d{20})\.snapshot$/.exec(name);
    if (match === null) continue;
    const lastOffset = Number(match[1]);
    if (Number.isSafeInteger(lastOffset)) found.push({ file: path.join(dir, name), lastOffset });
  }
  return found.sort((a, b) => b.lastOffset - a.lastOffset);
}

/** Removes temporary snapshot files an interrupted write left (only the store's owner calls this). */
export function removeSnapshotTemps(storeDir: string): string[] {
  const dir = path.join(storeDir, SNAPSHOT_DIR);
  if (!fs.existsSync(dir)) return [];
  const removed: string[] = [];
  for (const name of fs.readdirSync(dir)) {
    if (!name.endsWith('.tmp')) continue;
    fs.rmSync(path.join(dir, name), { force: true });
    removed.push(name);
  }
  return removed;
}

/** Why a snapshot file cannot be used. */
export class SnapshotDamage extends Error {
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`snapshot ${path.basename(file)}: ${reason}`);
  }
}

/** fsync of a file or a directory (so a rename in it, or its bytes, survive a crash). */
export function fsyncPath(target: string): void {
  const fd = fs.openSync(target, fs.constants.O_RDONLY);
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Writes a snapshot of `sections` (name and bytes, in order) durably, and returns its path and size.
 * `meta` is completed here with the section list. Throws on any I/O error, leaving at most a `.tmp`
 * file (removed on the next owner's open).
 */
export function writeSnapshotFile(
  storeDir: string,
  meta: Omit<SnapshotMeta, 'sections' | 'formatVersion'>,
  sections: readonly { name: string; bytes: Uint8Array }[],
): { file: string; bytes: number } {
  const dir = path.join(storeDir, SNAPSHOT_DIR);
  if (!fs.existsSync(dir)) {
    fs.mkdirSync(dir, { recursive: true });
    fsyncPath(storeDir);
  }
  const full: SnapshotMeta = {
    formatVersion: SNAPSHOT_FORMAT_VERSION,
    ...meta,
    sections: sections.map(({ name, bytes }) => ({ name, bytes: bytes.byteLength, crc: crc32c(bytes) })),
  };
  const metaBytes = Buffer.from(JSON.stringify(full));
  const fixed = Buffer.alloc(FIXED_BYTES);
  fixed.writeUInt32LE(MAGIC, 0);
  fixed.writeUInt32LE(SNAPSHOT_FORMAT_VERSION, 4);
  fixed.writeUInt32LE(metaBytes.length, 8);
  fixed.writeUInt32LE(crc32c(metaBytes), 12);
  const file = path.join(dir, snapshotFileName(meta.lastOffset));
  const temp = `${file}.tmp`;
  const fd = fs.openSync(temp, 'w');
  let position = 0;
  let syncedAt = 0;
  try {
    for (const bytes of [fixed, metaBytes, ...sections.map((section) => section.bytes)]) {
      let written = 0;
      // Bounded: each pass writes at least one byte or throws.
      while (written < bytes.byteLength) {
        const count = fs.writeSync(fd, bytes, written, Math.min(bytes.byteLength - written, SYNC_EVERY_BYTES), position);
        if (count <= 0) throw new Error(`write returned ${count}`);
        written += count;
        position += count;
        // Flushed a piece at a time: a snapshot's hundred megabytes of dirty pages flushed at once
        // would make the WAL's next fdatasync wait behind them.
        if (position - syncedAt >= SYNC_EVERY_BYTES) {
          fs.fdatasyncSync(fd);
          syncedAt = position;
        }
      }
    }
    fs.fdatasyncSync(fd);
  } catch (error) {
    fs.closeSync(fd);
    fs.rmSync(temp, { force: true });
    throw error;
  }
  fs.closeSync(fd);
  fs.renameSync(temp, file);
  fsyncPath(dir);
  return { file, bytes: position };
}

/**
 * Reads a snapshot: checks the fixed header and the meta, then reads each section into the buffer
 * `target(section, meta)` returns (exactly `section.bytes` long; null to read it into a new buffer the
 * callback then gets through `received`), checking its checksum. Throws `SnapshotDamage` for anything
 * that does not check out; the targets may then hold partial bytes (callers read into fresh memory).
 */
export function readSnapshotFile(
  file: string,
  target: (section: SectionInfo, meta: SnapshotMeta) => Uint8Array | null,
  received: (section: SectionInfo, bytes: Uint8Array) => void = () => {},
): SnapshotMeta {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (error) {
    throw new SnapshotDamage(file, `cannot open: ${(error as Error).message}`);
  }
  try {
    const fileBytes = fs.fstatSync(fd).size;
    const fixed = Buffer.alloc(FIXED_BYTES);
    if (fs.readSync(fd, fixed, 0, FIXED_BYTES, 0) !== FIXED_BYTES) throw new SnapshotDamage(file, 'shorter than its header');
    if (fixed.readUInt32LE(0) !== MAGIC) throw new SnapshotDamage(file, 'not a snapshot (magic)');
    const version = fixed.readUInt32LE(4);
    if (version !== SNAPSHOT_FORMAT_VERSION) throw new SnapshotDamage(file, `format version ${version}, this build reads ${SNAPSHOT_FORMAT_VERSION}`);
    const metaLength = fixed.readUInt32LE(8);
    if (metaLength > META_BYTES_MAX || FIXED_BYTES + metaLength > fileBytes) throw new SnapshotDamage(file, `meta length ${metaLength} does not fit the file`);
    const metaBytes = Buffer.alloc(metaLength);
    readFully(fd, metaBytes, FIXED_BYTES, file);
    if (crc32c(metaBytes) !== fixed.readUInt32LE(12)) throw new SnapshotDamage(file, 'meta checksum does not match');
    const meta = parseMeta(metaBytes, file);
    let position = FIXED_BYTES + metaLength;
    const total = meta.sections.reduce((sum, section) => sum + section.bytes, position);
    if (total !== fileBytes) throw new SnapshotDamage(file, `file is ${fileBytes} bytes, its sections say ${total}`);
    for (const section of meta.sections) {
      const into = target(section, meta) ?? new Uint8Array(section.bytes);
      if (into.byteLength !== section.bytes) throw new SnapshotDamage(file, `section ${section.name} is ${section.bytes} bytes, its place here ${into.byteLength}`);
      readFully(fd, into, position, file);
      if (crc32c(into) !== section.crc) throw new SnapshotDamage(file, `section ${section.name} checksum does not match`);
      received(section, into);
      position += section.bytes;
    }
    return meta;
  } finally {
    fs.closeSync(fd);
  }
}

/** Reads only a snapshot's meta (checked), not its sections. */
export function readSnapshotMeta(file: string): SnapshotMeta {
  let meta: SnapshotMeta | undefined;
  try {
    readSnapshotFile(file, (_section, found) => {
      meta = found;
      throw STOP;
    });
  } catch (error) {
    if (error !== STOP) throw error;
  }
  if (meta === undefined) throw new SnapshotDamage(file, 'has no sections');
  return meta;
}

const STOP = Symbol('stop');

function readFully(fd: number, into: Uint8Array, position: number, file: string): void {
  let read = 0;
  // Bounded: each pass reads at least one byte, or stops at the end of the file.
  while (read < into.byteLength) {
    const count = fs.readSync(fd, into, read, into.byteLength - read, position + read);
    if (count <= 0) throw new SnapshotDamage(file, 'ends early');
    read += count;
  }
}

function parseMeta(bytes: Buffer, file: string): SnapshotMeta {
  let meta: SnapshotMeta;
  try {
    meta = JSON.parse(bytes.toString('utf8')) as SnapshotMeta;
  } catch {
    throw new SnapshotDamage(file, 'meta is not JSON');
  }
  const integer = (value: unknown): boolean => Number.isSafeInteger(value);
  const valid =
    typeof meta === 'object' && meta !== null && meta.formatVersion === SNAPSHOT_FORMAT_VERSION &&
    integer(meta.lastOffset) && meta.lastOffset >= 0 && integer(meta.lastTimestampMs) && integer(meta.eventSchemaVersion) && integer(meta.indexValueFormat) &&
    typeof meta.state === 'object' && meta.state !== null &&
    [meta.state.nextProducerId, meta.state.idEpoch, meta.state.groupNumberNext, meta.state.topicNumberNext].every(integer) &&
    typeof meta.digest === 'string' && Array.isArray(meta.sections) &&
    meta.sections.every((section) => typeof section?.name === 'string' && integer(section.bytes) && section.bytes >= 0 && integer(section.crc));
  if (!valid) throw new SnapshotDamage(file, 'meta lacks a field or has one of the wrong type');
  return meta;
}
