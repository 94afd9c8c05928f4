/**
 * Argument checks at the API edge for the calls that do not go through a command: the paths of backup,
 * restore and repair, `watch` options, and the arguments of reader pool queries. Commands are checked
 * by src/commands/; the rule for strings (well-formed UTF-16, reads answer "absent" for a key no write
 * could store) is written down in src/commands/input-rules.ts and applied here the same way.
 *
 * Each check throws a MetaLogError naming the field, before anything touches the disk or crosses to a
 * thread: a pool query carries only plain strings, numbers and arrays of them, so a function or Symbol
 * in an argument can never make the structured clone fail. `storeCallError` turns what still escapes
 * from the file system (a path that does not exist, a full disk) into a coded error with its cause.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { EventType } from '../codec/event-schema.js';
import { GROUP_STATES } from '../commands/group-commands.js';
import { MetaLogError } from '../errors.js';
import type { GroupFilter, OffsetKey, TopicFilter } from '../reader/reader-queries.js';
import { PATH_BYTES_MAX } from '../limits.js';
import { isPathError } from '../wal/durable-file.js';
import { isWellFormed } from '../well-formed.js';

function invalid(field: string, rule: string): MetaLogError {
  return new MetaLogError('INVALID_REQUEST', `${field} ${rule}`, { field });
}

/** A path to a folder: a well-formed string of 1 to PATH_BYTES_MAX bytes without NUL, or INVALID_REQUEST. */
export function checkPath(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > PATH_BYTES_MAX) {
    throw invalid(field, `must be a path of 1 to ${PATH_BYTES_MAX} bytes`);
  }
  if (value.includes('\u0000')) throw invalid(field, 'must not hold a NUL character');
  if (!isWellFormed(value)) throw invalid(field, 'is not well-formed UTF-16 (it holds a lone surrogate)');
  if (Buffer.byteLength(value, 'utf8') > PATH_BYTES_MAX) throw invalid(field, `must be a path of 1 to ${PATH_BYTES_MAX} bytes`);
  return value;
}

/** A string field of a filter: absent, or a well-formed string. */
function optionalText(value: unknown, field: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !isWellFormed(value)) throw invalid(field, 'must be a well-formed string');
  return value;
}

/** A limit of a filter: absent, or an integer >= 0. */
function optionalLimit(value: unknown, field: string): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isSafeInteger(value) || (value as number) < 0) throw invalid(field, 'must be an integer >= 0');
  return value as number;
}

/** An options object with only the `known` fields (a misspelt field is an error, not ignored). */
function checkFields(value: unknown, field: string, known: readonly string[]): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(field, `must be an object of ${known.join(', ')}`);
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) throw invalid(`${field}.${key}`, `is not one of ${known.join(', ')}`);
  }
  return value as Record<string, unknown>;
}

/** An array of well-formed strings (event types of a watch, group states of a scan). */
function stringList(value: unknown, field: string): string[] {
  if (!Array.isArray(value)) throw invalid(field, 'must be an array of strings');
  return value.map((each: unknown, i) => {
    if (typeof each !== 'string' || !isWellFormed(each)) throw invalid(`${field}[${i}]`, 'must be a well-formed string');
    return each;
  });
}

/** True when `dir` names an existing folder (a path that cannot be read counts as none). */
export function isDirectory(dir: string): boolean {
  try {
    return fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory() === true;
  } catch (error) {
    // ENOTDIR, ENAMETOOLONG, EACCES...: the caller is told the path is not a folder.
    if (storeCallError(error, dir).code === 'INVALID_REQUEST') return false;
    throw storeCallError(error, `the folder ${dir}`);
  }
}

/**
 * The folder of a store (or a backup of one) that a reader pool query reads: a path (see checkPath) to a
 * folder with a `wal` folder in it, or INVALID_REQUEST. Checked here because a file system error raised
 * in a pool thread arrives without its errno.
 */
export function checkStoreFolder(dir: unknown, field: string): string {
  checkPath(dir, field);
  if (!isDirectory(path.join(dir as string, 'wal'))) throw invalid(field, `${dir as string} holds no store (no wal folder)`);
  return dir as string;
}

/** The point of a restore: `{ toOffset? , toTime? }`, at most one, each an integer >= 0. */
export function checkRestorePoint(point: unknown): { toOffset?: number; toTime?: number } {
  const { toOffset, toTime } = checkFields(point, 'point', ['toOffset', 'toTime']);
  for (const [field, value] of [['toOffset', toOffset], ['toTime', toTime]] as const) {
    if (value !== undefined && !(Number.isSafeInteger(value) && (value as number) >= 0)) throw invalid(field, 'must be an integer >= 0');
  }
  if (toOffset !== undefined && toTime !== undefined) throw invalid('toOffset', 'cannot be given with toTime');
  return { toOffset: toOffset as number | undefined, toTime: toTime as number | undefined };
}

/** Checked `watch` options. `from` out of range is OFFSET_OUT_OF_RANGE; anything else INVALID_REQUEST. */
export function checkWatchOptions(options: unknown): { from: number | undefined; types: EventType[] | undefined } {
  if (options === undefined) return { from: undefined, types: undefined };
  const { from, types } = checkFields(options, 'options', ['from', 'types']);
  if (from !== undefined && !(Number.isSafeInteger(from) && (from as number) >= 0)) {
    throw new MetaLogError('OFFSET_OUT_OF_RANGE', 'watch takes from: an offset >= 0', { field: 'from' });
  }
  return { from: from as number | undefined, types: types === undefined ? undefined : (stringList(types, 'types') as EventType[]) };
}

/**
 * A batch of keys for a batched point read: an array, whose entries are sent as they are when they are
 * strings and as null otherwise (a key no write could store reads as absent: null in the answer).
 */
export function checkKeyBatch(keys: unknown, field: string): (string | null)[] {
  if (!Array.isArray(keys)) throw invalid(field, 'must be an array');
  return keys.map((key: unknown) => (typeof key === 'string' ? key : null));
}

/** A single key of a pool read: itself when a string, else null (it reads as absent). */
export function keyOrNull(key: unknown): string | null {
  return typeof key === 'string' ? key : null;
}

/** A partition number of a pool read: itself when a number, else NaN (it reads as absent). */
export function partitionOrNaN(partition: unknown): number {
  return typeof partition === 'number' ? partition : Number.NaN;
}

/** The keys of `fetchOffsetBatch`: each an object (else INVALID_REQUEST), its fields as `checkKeyBatch`. */
export function checkOffsetKeys(keys: unknown): OffsetKey[] {
  if (!Array.isArray(keys)) throw invalid('keys', 'must be an array of { groupId, topic, partition }');
  return keys.map((key: unknown, i) => {
    if (typeof key !== 'object' || key === null) throw invalid(`keys[${i}]`, 'must be { groupId, topic, partition }');
    const { groupId, topic, partition } = key as Partial<Record<keyof OffsetKey, unknown>>;
    // Sent as strings and numbers only; anything else reads as absent (see keyOrNull).
    return { groupId: keyOrNull(groupId), topic: keyOrNull(topic), partition: partitionOrNaN(partition) } as OffsetKey;
  });
}

/** A checked copy of a `scanTopics` filter. */
export function checkTopicFilter(filter: unknown): TopicFilter {
  const { namePrefix, configKey, configValue, limit } = checkFields(filter, 'filter', ['namePrefix', 'configKey', 'configValue', 'limit']);
  return {
    namePrefix: optionalText(namePrefix, 'filter.namePrefix'),
    configKey: optionalText(configKey, 'filter.configKey'),
    configValue: optionalText(configValue, 'filter.configValue'),
    limit: optionalLimit(limit, 'filter.limit'),
  };
}

/** A checked copy of a `scanGroups` filter; `states` must name group states. */
export function checkGroupFilter(filter: unknown): GroupFilter {
  const { idPrefix, states, protocolType, limit } = checkFields(filter, 'filter', ['idPrefix', 'states', 'protocolType', 'limit']);
  let checkedStates: GroupFilter['states'];
  if (states !== undefined) {
    const list = stringList(states, 'filter.states');
    const unknown = list.findIndex((state) => !(GROUP_STATES as readonly string[]).includes(state));
    if (unknown >= 0) throw invalid(`filter.states[${unknown}]`, `must be one of ${GROUP_STATES.join(', ')}`);
    checkedStates = list as GroupFilter['states'];
  }
  return {
    idPrefix: optionalText(idPrefix, 'filter.idPrefix'),
    states: checkedStates,
    protocolType: optionalText(protocolType, 'filter.protocolType'),
    limit: optionalLimit(limit, 'filter.limit'),
  };
}

/**
 * `error` as a MetaLogError for a call that touched the disk (`what`, e.g. "backup to /x"): itself when
 * it is one; a Node file system error becomes INVALID_REQUEST (a path the caller gave cannot be used) or
 * KAFKA_STORAGE_ERROR (the disk failed), with the error as cause; anything else is INTERNAL_ERROR.
 */
export function storeCallError(error: unknown, what: string): MetaLogError {
  const errno = (error as NodeJS.ErrnoException | null)?.code;
  if (!(error instanceof MetaLogError) && typeof errno === 'string' && (error as NodeJS.ErrnoException).syscall !== undefined) {
    const code = isPathError(error) ? 'INVALID_REQUEST' : 'KAFKA_STORAGE_ERROR';
    return MetaLogError.wrap(error, code, what, { errno, file: (error as NodeJS.ErrnoException).path });
  }
  return MetaLogError.wrap(error, 'INTERNAL_ERROR', `${what} failed`);
}
