/**
 * Snapshot files: the whole state at one offset, as named, checksummed byte sections.
 *
 * Owns: the file layout, its names, writing one durably (tmp → fdatasync → rename → fsync of the
 * directory, see wal/durable-file.ts; so a crash leaves the old set of snapshots or the new one, never a
 * half file under a snapshot's name), reading one back with every byte checked, and listing a store's
 * snapshots. What the sections hold is index-image.ts's business. All through `Storage`.
 *
 * A failed write or fdatasync of a snapshot (a full disk, EIO) fails that snapshot only: its `.tmp` is
 * removed (or, if even that fails, removed at the next open and never listed), the error names the
 * file, and the WAL is not touched: a snapshot is a copy of what the WAL already holds durably, so
 * losing one costs a longer replay, never data, and the writer's own fdatasync is what decides whether
 * the WAL's disk is still trusted. A failed fdatasync is never retried on the same file: the next
 * snapshot writes a new one from scratch.
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
import path from 'node:path';
import { crc32c } from '../crc32c.js';
import { MetaLogError } from '../errors.js';
import { isIoError, makeDirDurably, readAll, writeFileDurably } from '../wal/durable-file.js';
import { storageFor, type Storage } from '../wal/storage.js';

export const SNAPSHOT_DIR = 'snapshots';
const SUFFIX = '.snapshot';
const MAGIC = 0x4e534c4d; // 'MLSN' read little-endian
export const SNAPSHOT_FORMAT_VERSION = 1;
const FIXED_BYTES = 16;
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
  /**
   * Scalars of the state kept outside the index tables. `clusterId` is absent from snapshots made
   * before the cluster id existed (event schema 3 and older), which is read as null.
   */
  state: { nextProducerId: number; idEpoch: number; groupNumberNext: number; topicNumberNext: number; clusterId?: string | null };
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

/**
 * The store's snapshots, newest (highest offset) first. Temporary files are not listed.
 * @param storage the real disk when not given (offline tools).
 */
export function listSnapshots(storeDir: string, storage: Storage = storageFor()): SnapshotFileRef[] {
  const dir = path.join(storeDir, SNAPSHOT_DIR);
  let names: string[];
  try {
    names = storage.readdir(dir);
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
export function removeSnapshotTemps(storeDir: string, storage: Storage): string[] {
  const dir = path.join(storeDir, SNAPSHOT_DIR);
  if (!storage.exists(dir)) return [];
  const removed: string[] = [];
  for (const name of storage.readdir(dir)) {
    if (!name.endsWith('.tmp')) continue;
    storage.remove(path.join(dir, name));
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

/**
 * Writes a snapshot of `sections` (name and bytes, in order) durably, and returns its path and size.
 * `meta` is completed here with the section list. Throws KAFKA_STORAGE_ERROR (the I/O error as its
 * cause) on any I/O error, leaving at most a `.tmp` file (removed on the next owner's open), never a
 * file under a snapshot's name.
 */
export function writeSnapshotFile(
  storeDir: string,
  meta: Omit<SnapshotMeta, 'sections' | 'formatVersion'>,
  sections: readonly { name: string; bytes: Uint8Array }[],
  storage: Storage,
): { file: string; bytes: number } {
  const dir = path.join(storeDir, SNAPSHOT_DIR);
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
  try {
    makeDirDurably(storage, dir);
    const bytes = writeFileDurably(storage, file, [fixed, metaBytes, ...sections.map((section) => section.bytes)]);
    return { file, bytes };
  } catch (error) {
    if (!isIoError(error)) throw error;
    throw new MetaLogError('KAFKA_STORAGE_ERROR', `cannot write snapshot ${path.basename(file)} (${error.code}); the store carries on without it`, { file, offset: meta.lastOffset }, error);
  }
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
  storage: Storage = storageFor(),
): SnapshotMeta {
  let fd: number;
  try {
    fd = storage.openForRead(file);
  } catch (error) {
    throw new SnapshotDamage(file, `cannot open: ${(error as Error).message}`);
  }
  try {
    const fileBytes = storage.statFd(fd).bytes;
    const fixed = Buffer.alloc(FIXED_BYTES);
    if (!readAll(storage, fd, fixed, 0)) throw new SnapshotDamage(file, 'shorter than its header');
    if (fixed.readUInt32LE(0) !== MAGIC) throw new SnapshotDamage(file, 'not a snapshot (magic)');
    const version = fixed.readUInt32LE(4);
    if (version !== SNAPSHOT_FORMAT_VERSION) throw new SnapshotDamage(file, `format version ${version}, this build reads ${SNAPSHOT_FORMAT_VERSION}`);
    const metaLength = fixed.readUInt32LE(8);
    if (metaLength > META_BYTES_MAX || FIXED_BYTES + metaLength > fileBytes) throw new SnapshotDamage(file, `meta length ${metaLength} does not fit the file`);
    const metaBytes = Buffer.alloc(metaLength);
    readFully(storage, fd, metaBytes, FIXED_BYTES, file);
    if (crc32c(metaBytes) !== fixed.readUInt32LE(12)) throw new SnapshotDamage(file, 'meta checksum does not match');
    const meta = parseMeta(metaBytes, file);
    let position = FIXED_BYTES + metaLength;
    const total = meta.sections.reduce((sum, section) => sum + section.bytes, position);
    if (total !== fileBytes) throw new SnapshotDamage(file, `file is ${fileBytes} bytes, its sections say ${total}`);
    for (const section of meta.sections) {
      const into = target(section, meta) ?? new Uint8Array(section.bytes);
      if (into.byteLength !== section.bytes) throw new SnapshotDamage(file, `section ${section.name} is ${section.bytes} bytes, its place here ${into.byteLength}`);
      readFully(storage, fd, into, position, file);
      if (crc32c(into) !== section.crc) throw new SnapshotDamage(file, `section ${section.name} checksum does not match`);
      received(section, into);
      position += section.bytes;
    }
    return meta;
  } finally {
    storage.close(fd);
  }
}

/** Reads only a snapshot's meta (checked), not its sections. */
export function readSnapshotMeta(file: string, storage: Storage): SnapshotMeta {
  let meta: SnapshotMeta | undefined;
  try {
    readSnapshotFile(file, (_section, found) => {
      meta = found;
      throw STOP;
    }, undefined, storage);
  } catch (error) {
    if (error !== STOP) throw error;
  }
  if (meta === undefined) throw new SnapshotDamage(file, 'has no sections');
  return meta;
}

const STOP = Symbol('stop');

function readFully(storage: Storage, fd: number, into: Uint8Array, position: number, file: string): void {
  if (!readAll(storage, fd, into, position)) throw new SnapshotDamage(file, 'ends early');
}

/** A cluster id as the index's control words can hold it: 1 to 64 printable ASCII characters. */
function isClusterId(value: unknown): boolean {
  return typeof value === 'string' && /^[\x21-\x7e]{1,64}$/.test(value);
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
    (meta.state.clusterId === undefined || meta.state.clusterId === null || isClusterId(meta.state.clusterId)) &&
    typeof meta.digest === 'string' && Array.isArray(meta.sections) &&
    meta.sections.every((section) => typeof section?.name === 'string' && integer(section.bytes) && section.bytes >= 0 && integer(section.crc));
  if (!valid) throw new SnapshotDamage(file, 'meta lacks a field or has one of the wrong type');
  return meta;
}
