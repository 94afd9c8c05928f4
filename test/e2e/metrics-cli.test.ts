/**
 * `metalog metrics serve`: serves a closed store's metrics until SIGTERM, then closes the store (its
 * LOCK is gone); refuses, with exit 1 and STORE_LOCKED, a store another process has open; usage errors
 * exit 2. The server listens on port 0; the test reads the URL from the command's first line.
 */
import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { parsePrometheusText, sampleValue } from '../helpers/prometheus-text.js';
import { closeAndVerify, openStore } from '../helpers/store.js';
import { tmpDir } from '../helpers/tmp.js';

const CLI = new URL('../../src/cli/main.js', import.meta.url).pathname;

test('metrics serve opens the store, serves /metrics until SIGTERM, then closes the store', async (t) => {
  const dir = tmpDir(t);
  const log = await openStore(t, { dir });
  await log.createTopic({ name: 't', partitions: 3 });
  await closeAndVerify(log);

  const child = spawn(process.execPath, [CLI, 'metrics', 'serve', dir, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => child.kill('SIGKILL'));
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = once(child, 'exit');
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /at (http:\/\/\S+\/metrics)/.exec(stdout);
      if (match !== null) resolve(match[1]);
    });
    void exited.then(() => reject(new Error(`metrics serve exited early: ${stderr}`)));
  });
  const response = await fetch(url);
  t.is(response.status, 200);
  const families = parsePrometheusText(await response.text());
  t.is(sampleValue(families, 'metalog_index_entries', { table: 'topics' }), 1);
  t.is(sampleValue(families, 'metalog_recovery_replayed_events'), 1);
  t.true(fs.existsSync(path.join(dir, 'LOCK')), 'the command holds the store open');

  child.kill('SIGTERM');
  const [code] = await exited;
  t.is(code, 0, stderr);
  t.regex(stdout, /SIGTERM: stopped serving/);
  t.false(fs.existsSync(path.join(dir, 'LOCK')), 'the store was closed');
});

test('metrics serve refuses a store another process has open (exit 1, STORE_LOCKED); usage errors exit 2', async (t) => {
  const dir = tmpDir(t);
  await openStore(t, { dir });
  const locked = spawnSync(process.execPath, [CLI, 'metrics', 'serve', dir, '--port', '0'], { encoding: 'utf8' });
  t.is(locked.status, 1);
  t.regex(locked.stderr, /STORE_LOCKED/);
  t.regex(locked.stderr, /serveMetrics/);
  for (const args of [['metrics'], ['metrics', 'serve'], ['metrics', 'serve', dir, '--port', 'x'], ['metrics', 'serve', dir, '--bogus', '1'], ['metrics', 'scrape', dir]]) {
    const usage = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
    t.is(usage.status, 2, args.join(' '));
  }
});
