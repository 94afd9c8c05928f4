/**
 * One open store per directory: a second open from this process or another fails with STORE_LOCKED,
 * a lock left by a dead process is taken over, and close releases the lock.
 */
import test from 'ava';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { MetaLog } from '../../src/api/metalog.js';
import { MetaLogError } from '../../src/errors.js';
import { closeAndVerify, openStore } from '../helpers/store.js';
import { tmpDir } from '../helpers/tmp.js';

const INDEX_URL = new URL('../../src/index.js', import.meta.url).href;

test('a second open in the same process fails with STORE_LOCKED; after close it succeeds', async (t) => {
  const dir = tmpDir(t);
  const log = await openStore(t, { dir });
  const error = (await t.throwsAsync(MetaLog.open({ dir }), { instanceOf: MetaLogError })) as MetaLogError;
  t.is(error.code, 'STORE_LOCKED');
  t.regex(error.message, /this process/);
  await closeAndVerify(log);
  const again = await openStore(t, { dir });
  t.is(again.lastOffset, -1);
});

test('an open from another process fails with STORE_LOCKED while the store is open', async (t) => {
  const dir = tmpDir(t);
  await openStore(t, { dir });
  const script = `import(${JSON.stringify(INDEX_URL)}).then(({ MetaLog }) => MetaLog.open({ dir: ${JSON.stringify(dir)} }))
    .then(() => console.log('OPENED'), (e) => console.log(e.code))`;
  const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  t.is(output.trim(), 'STORE_LOCKED');
});

test('a lock left by a dead process is taken over', async (t) => {
  const dir = tmpDir(t);
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
  const pid = child.pid as number;
  child.kill('SIGKILL');
  await new Promise((resolve) => child.once('exit', resolve));
  fs.writeFileSync(path.join(dir, 'LOCK'), JSON.stringify({ pid, startTime: '1', token: 'dead-owner' }));
  const log = await openStore(t, { dir });
  t.not(JSON.parse(fs.readFileSync(path.join(dir, 'LOCK'), 'utf8')).token, 'dead-owner');
  await closeAndVerify(log);
  t.false(fs.existsSync(path.join(dir, 'LOCK')), 'close removes the lock');
});

test('a lock whose pid was reused by an unrelated live process is stale', async (t) => {
  const dir = tmpDir(t);
  // Our own pid, with a start time that cannot be ours: the owner that wrote it is gone.
  fs.writeFileSync(path.join(dir, 'LOCK'), JSON.stringify({ pid: process.ppid, startTime: '0', token: 'recycled' }));
  const log = await openStore(t, { dir });
  t.is(log.lastOffset, -1);
});

test('an unreadable (half-written) lock file is stale', async (t) => {
  const dir = tmpDir(t);
  fs.writeFileSync(path.join(dir, 'LOCK'), '{"pid":');
  const log = await openStore(t, { dir });
  t.is(log.lastOffset, -1);
});
