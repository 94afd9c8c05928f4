/**
 * What every `metalog` command shares: printing a result (JSON or lines for people), the parsers of
 * option values (a bad value is a usage error, exit 2), and the check that a folder holds a store before
 * a command reads it (so `metalog state` of a mistyped folder fails instead of showing an empty store).
 */
import { InvalidArgumentError } from 'commander';
import path from 'node:path';
import { EVENT_UNION_SCHEMA } from '../codec/event-schema.js';
import { MetaLogError } from '../errors.js';
import type { Storage } from '../wal/storage.js';

/** Exit codes of every command: the contract scripts rely on. */
export const EXIT = Object.freeze({ OK: 0, FAILED: 1, USAGE: 2 });

/** Prints `result` as one JSON object, or `lines` for people. */
export function print(json: boolean, result: unknown, lines: readonly string[]): void {
  process.stdout.write(json ? `${JSON.stringify(result)}\n` : `${lines.join('\n')}\n`);
}

/** An option value that must be an offset (an integer >= 0). */
export function parseOffset(text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value)) throw new InvalidArgumentError('takes an offset (an integer >= 0)');
  return value;
}

/** An option value that must be an integer (negative ones included, such as -1 for "no limit"). */
export function parseInteger(text: string): number {
  const value = Number(text);
  if (!/^-?\d+$/.test(text) || !Number.isSafeInteger(value)) throw new InvalidArgumentError('takes an integer');
  return value;
}

/** A `--to-time` value: milliseconds since the epoch, or an ISO date. */
export function parseTime(text: string): number {
  const value = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
  if (Number.isNaN(value)) throw new InvalidArgumentError('takes a time (ms since the epoch or an ISO date)');
  return value;
}

/** A TCP port; 0 picks a free one. */
export function parsePort(text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value > 65535) throw new InvalidArgumentError('takes a TCP port (0 to 65535; 0 picks a free one)');
  return value;
}

/** Collects a repeatable option's values. */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** The event type names of the current schema (what `--type` accepts). */
const EVENT_TYPE_NAMES: readonly string[] = EVENT_UNION_SCHEMA.map((record) => record.name);

/** Collects a repeatable `--type`; a name that is no event type is a usage error (it would match nothing). */
export function collectEventType(value: string, previous: string[]): string[] {
  if (!EVENT_TYPE_NAMES.includes(value)) throw new InvalidArgumentError(`is not an event type (one of ${EVENT_TYPE_NAMES.join(', ')})`);
  return [...previous, value];
}

/**
 * Throws INVALID_REQUEST unless `dir` holds a store (its `wal/` folder): a command that reads a store
 * must not report an empty one for a folder that is not one.
 */
export function requireStore(dir: string, storage: Storage): void {
  if (!storage.exists(dir)) throw new MetaLogError('INVALID_REQUEST', `${dir} does not exist`, { file: dir });
  if (!storage.exists(path.join(dir, 'wal'))) throw new MetaLogError('INVALID_REQUEST', `${dir} holds no store (no wal/ folder)`, { file: dir });
}

/** The line a failed command prints on stderr: the code, then the message. */
export function failureMessage(error: unknown): string {
  return error instanceof MetaLogError ? `${error.code}: ${error.message}` : `${(error as Error)?.message ?? String(error)}`;
}

/** Resolves with the first SIGINT or SIGTERM, and stops listening for both. */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
