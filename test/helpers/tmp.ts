/** Temporary directories for tests, removed when the test ends. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ExecutionContext } from 'ava';

/** A fresh empty directory, removed on teardown. */
export function tmpDir(t: ExecutionContext, prefix = 'metalog-test-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}
