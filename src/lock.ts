/**
 * The directory lock: one open store per directory, across threads and processes.
 *
 * `<dir>/LOCK` is created with O_EXCL and holds the owner's pid, the owner's process start time (from
 * /proc, so a recycled pid is not mistaken for the owner) and a random token. A second open finds the
 * file and fails with STORE_LOCKED while the owner lives; a lock whose owner is dead is stale and taken
 * over. Two processes taking over the same stale lock at once are serialised by a second O_EXCL file,
 * `LOCK.takeover`, so only one of them removes the stale lock.
 *
 * Node has no portable flock without an addon; this scheme needs only O_EXCL, rename and kill(pid, 0).
 * Its limit: a LOCK whose owner died while holding `LOCK.takeover` needs that file removed by hand
 * (the error says so).
 *
 * It uses node:fs directly, not `Storage` (src/wal/storage.ts): the lock is not store data, and a store
 * under injected disk faults must still be locked and unlocked like any other.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { MetaLogError } from './errors.js';

interface LockOwner {
  pid: number;
  startTime: string | null;
  token: string;
}

/** Start time of a process in clock ticks since boot (Linux), or null where /proc is not available. */
function processStartTime(pid: number): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22 (starttime); the command name (field 2) may hold spaces, so count from the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

function isAlive(owner: LockOwner): boolean {
  // kill(0 or a negative pid) would probe a process group, not the owner: such a lock is not a live owner's.
  if (!Number.isInteger(owner.pid) || owner.pid <= 0) return false;
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    // EPERM: a live process of another user.
  }
  const startTime = processStartTime(owner.pid);
  return owner.startTime === null || startTime === null || startTime === owner.startTime;
}

function readOwner(lockPath: string): LockOwner | null {
  try {
    return JSON.parse(fs.readFileSync(lockPath, 'utf8')) as LockOwner;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    // Unparseable: a crash between create and write; the owner cannot be alive and holding it usefully.
    return { pid: -1, startTime: null, token: '' };
  }
}

function tryCreate(lockPath: string, owner: LockOwner): boolean {
  let fd: number;
  try {
    fd = fs.openSync(lockPath, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o644);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  try {
    fs.writeSync(fd, JSON.stringify(owner));
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  return true;
}

function lockedError(dir: string, owner: LockOwner): MetaLogError {
  const who = owner.pid === process.pid ? 'this process' : `process ${owner.pid}`;
  return new MetaLogError('STORE_LOCKED', `${dir} is already open in ${who}`, { file: path.join(dir, 'LOCK'), pid: owner.pid });
}

/** A held directory lock. */
export class DirectoryLock {
  private constructor(
    readonly lockPath: string,
    private readonly token: string,
  ) {}

  /** Takes the lock of `dir` or throws STORE_LOCKED. */
  static acquire(dir: string): DirectoryLock {
    const lockPath = path.join(dir, 'LOCK');
    const owner: LockOwner = { pid: process.pid, startTime: processStartTime(process.pid), token: randomUUID() };
    // Two passes at most: create, or find a stale lock, remove it under LOCK.takeover, create again.
    for (let attempt = 0; attempt < 2; attempt++) {
      if (tryCreate(lockPath, owner)) return new DirectoryLock(lockPath, owner.token);
      const current = readOwner(lockPath);
      if (current === null) continue;
      if (current.pid === process.pid || isAlive(current)) throw lockedError(dir, current);
      DirectoryLock.removeStale(dir, lockPath, current);
    }
    const current = readOwner(lockPath);
    throw lockedError(dir, current ?? { pid: -1, startTime: null, token: '' });
  }

  private static removeStale(dir: string, lockPath: string, stale: LockOwner): void {
    const takeoverPath = `${lockPath}.takeover`;
    const guard: LockOwner = { pid: process.pid, startTime: processStartTime(process.pid), token: randomUUID() };
    if (!tryCreate(takeoverPath, guard)) {
      const other = readOwner(takeoverPath);
      if (other !== null && !isAlive(other)) {
        throw new MetaLogError('STORE_LOCKED', `${dir} has a stale ${path.basename(takeoverPath)} from dead process ${other.pid}; remove it by hand`, {
          file: takeoverPath,
        });
      }
      throw lockedError(dir, other ?? stale);
    }
    try {
      // Re-read under the guard: only remove the lock if it is still the stale one we judged.
      const again = readOwner(lockPath);
      if (again !== null && again.token === stale.token) fs.unlinkSync(lockPath);
    } finally {
      fs.unlinkSync(takeoverPath);
    }
  }

  /** Releases the lock (only if this holder still owns it). */
  release(): void {
    const current = readOwner(this.lockPath);
    if (current !== null && current.token === this.token) fs.unlinkSync(this.lockPath);
  }
}
