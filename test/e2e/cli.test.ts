/**
 * The metalog CLI against real stores: inspect and verify (read-only, also while the store is open),
 * verify's exit code on damage, repair, and --help listing every config option.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { CONFIG_OPTIONS } from '../../src/config.js';
import { closeAndVerify, openStore } from '../helpers/store.js';
import { tmpDir } from '../helpers/tmp.js';

const CLI = new URL('../../src/cli/main.js', import.meta.url).pathname;

function metalog(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

test('inspect and verify a store that is open, then one that is corrupt; repair it', async (t) => {
  const dir = tmpDir(t);
  const log = await openStore(t, { dir });
  await log.createTopic({ name: 't', partitions: 2 });
  for (let i = 0; i < 10; i++) await log.commitOffsets('g', [{ topic: 't', partition: i % 2, offset: i }]);

  const inspect = metalog('inspect', dir, '--json');
  t.is(inspect.status, 0, inspect.stderr);
  const inspected = JSON.parse(inspect.stdout);
  t.is(inspected.nextOffset, 11);
  t.is(inspected.segments[0].records, 11);

  const verify = metalog('verify', dir);
  t.is(verify.status, 0);
  t.regex(verify.stdout, /1 topics, 2 committed offsets/);
  await closeAndVerify(log);

  const file = path.join(dir, 'wal', fs.readdirSync(path.join(dir, 'wal'))[0]);
  const bytes = fs.readFileSync(file);
  bytes[bytes.readUInt32LE(12) + 12] ^= 0x04;
  fs.writeFileSync(file, bytes);
  const damaged = metalog('verify', dir, '--json');
  t.is(damaged.status, 1);
  t.is(JSON.parse(damaged.stdout).damage.kind, 'corrupt');

  const repaired = metalog('repair', dir);
  t.is(repaired.status, 0, repaired.stderr);
  t.regex(repaired.stdout, /cut 0+\.log at byte \d+ \(offset 0\)/);
  t.is(metalog('verify', dir).status, 0);
});

test('usage errors exit 2; --help lists every config option', (t) => {
  t.is(metalog().status, 2);
  t.is(metalog('explode', '/tmp').status, 2);
  const help = metalog('--help');
  t.is(help.status, 0);
  for (const name of Object.keys(CONFIG_OPTIONS)) t.true(help.stdout.includes(name), name);
});

test('every command has --help listing its options; unknown commands and options are usage errors', (t) => {
  const expected: Record<string, string[]> = {
    inspect: ['<dir>', '--json'],
    verify: ['<dir>', '--json'],
    repair: ['<dir>', '--json'],
    dump: ['<dir>', '--type', '--from', '--to'],
    history: ['<dir>', '--topic', '--group', '--broker', '--transactional-id', '--type'],
    state: ['<dir>', '--at', '--json'],
    diff: ['<dir>', '<from>', '<to>', '--json'],
    snapshot: ['<dir>', '--json'],
    compact: ['<dir>', '--retention-ms', '--retention-bytes', '--json'],
    backup: ['<dir>', '<dest>', '--json'],
    restore: ['<src>', '<dir>', '--to', '--to-time', '--json'],
  };
  const overview = metalog('--help').stdout;
  for (const [command, options] of Object.entries(expected)) {
    t.true(overview.includes(`  ${command} `), `--help lists ${command}`);
    const help = metalog(command, '--help');
    t.is(help.status, 0, command);
    for (const option of options) t.true(help.stdout.includes(option), `${command} --help lists ${option}`);
  }
  const serve = metalog('metrics', 'serve', '--help');
  for (const option of ['<dir>', '--port', '--host']) t.true(serve.stdout.includes(option), `metrics serve --help lists ${option}`);
  t.is(metalog('inspect', '/tmp', '--bogus').status, 2);
  t.regex(metalog('inspect', '/tmp', '--bogus').stderr, /unknown option '--bogus'/);
  t.is(metalog('state').status, 2, 'a missing argument');
  t.is(metalog('inspect', '/tmp', 'extra').status, 2, 'an argument too many');
  t.is(metalog('restore', '/a', '/b', '--to', '1', '--to-time', '2').status, 2, '--to and --to-time exclude each other');
  t.is(metalog('bench').status, 2, 'the load test is npm run bench, not an installed command');
  t.is(metalog('dump', '/tmp', '--type', 'TopicCreatd').status, 2, 'an event type that does not exist would match nothing');
});

test('commands that read a store refuse a folder that is missing or holds no store (exit 1), instead of showing an empty one', (t) => {
  const missing = path.join(tmpDir(t), 'no-such-store');
  const empty = tmpDir(t);
  for (const args of [['state'], ['inspect'], ['verify'], ['dump'], ['history', '--topic', 't'], ['diff', '0', '0'], ['snapshot'], ['compact'], ['metrics-serve']]) {
    for (const dir of [missing, empty]) {
      const [command, ...rest] = args;
      const result = command === 'metrics-serve' ? metalog('metrics', 'serve', dir, '--port', '0') : metalog(command, dir, ...rest);
      t.is(result.status, 1, `${command} ${dir}`);
      t.regex(result.stderr, /INVALID_REQUEST: .*(does not exist|holds no store)/, `${command} ${dir}`);
    }
  }
  t.is(metalog('backup', missing, path.join(empty, 'copy')).status, 1);
  t.is(metalog('restore', missing, path.join(empty, 'copy')).status, 1);
  t.false(fs.existsSync(missing), 'nothing was created');
});

test('README documents every config option with its default', (t) => {
  const readme = fs.readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
  for (const [name, spec] of Object.entries(CONFIG_OPTIONS)) {
    const row = readme.split('\n').find((line) => line.startsWith(`| \`${name}\``));
    t.truthy(row, `README has a config row for ${name}`);
    if ('defaultValue' in spec) t.true(row?.includes(String(spec.defaultValue)), `README states the default of ${name}`);
  }
});

test('dump prints events as JSON lines, filtered by type and offset range, while the store is open', async (t) => {
  const dir = tmpDir(t);
  const log = await openStore(t, { dir });
  await log.createTopic({ name: 't', partitions: 2 });
  for (let i = 0; i < 5; i++) await log.commitOffsets('g', [{ topic: 't', partition: i % 2, offset: i }]);
  await log.upsertGroup({ groupId: 'h', state: 'Stable', protocolType: 'consumer', protocol: 'range', generation: 1, leader: 'm', members: [{ memberId: 'm', clientId: 'c', clientHost: 'h', sessionTimeoutMs: 10000, rebalanceTimeoutMs: 1000, subscription: new Uint8Array([1, 2, 3]), assignment: new Uint8Array([]) }] });

  const all = metalog('dump', dir);
  t.is(all.status, 0, all.stderr);
  const events = all.stdout.trim().split('\n').map((line) => JSON.parse(line));
  t.deepEqual(events.map((event) => event.offset), [0, 1, 2, 3, 4, 5, 6]);
  t.is(events[0].type, 'TopicCreated');
  t.is(events[6].value.members[0].subscription, Buffer.from([1, 2, 3]).toString('base64'), 'bytes print as base64');

  const commits = metalog('dump', dir, '--type', 'OffsetsCommitted', '--from', '2', '--to', '3');
  t.deepEqual(commits.stdout.trim().split('\n').map((line) => JSON.parse(line).value.entries[0].offset), [1, 2]);
  t.is(metalog('dump', dir, '--from', 'x').status, 2);
  t.is(metalog('dump', dir, '--color', 'red').status, 2);
});

test('state prints the fold of the log at its end or at an offset', async (t) => {
  const dir = tmpDir(t);
  const log = await openStore(t, { dir });
  await log.createTopic({ name: 'a', partitions: 1 });
  await log.commitOffsets('g', [{ topic: 'a', partition: 0, offset: 7 }]);
  await log.createTopic({ name: 'b', partitions: 1 });
  await log.deleteTopic('a');

  const now = metalog('state', dir);
  t.is(now.status, 0, now.stderr);
  t.regex(now.stdout, /as of offset 3: 0 brokers, 1 topics, 0 groups, 0 committed offsets/);
  const before = metalog('state', dir, '--at', '1');
  // Group g only has committed offsets: it counts as a group (an Empty one) while it has them.
  t.regex(before.stdout, /as of offset 1: 0 brokers, 1 topics, 1 groups, 1 committed offsets in 1 groups/);
  const json = JSON.parse(metalog('state', dir, '--at', '1', '--json').stdout);
  t.deepEqual(json.topics.map((topic: { name: string }) => topic.name), ['a']);
  t.deepEqual(json.offsets, [['g', 'a', 0, { offset: 7, leaderEpoch: -1, metadata: '', commitTimestamp: json.offsets[0][3].commitTimestamp }]]);
  t.is(metalog('state', dir, '--at', '99').status, 1, 'past the end of the log');
  t.is(metalog('state', dir, '--at', '-1').status, 2);
});

test('history prints the events that changed one entity', async (t) => {
  const dir = tmpDir(t);
  const log = await openStore(t, { dir });
  await log.createTopic({ name: 'a', partitions: 1 });
  await log.createTopic({ name: 'b', partitions: 1 });
  await log.commitOffsets('g', [{ topic: 'a', partition: 0, offset: 1 }]);
  await log.alterTopicConfigs('a', { set: { 'retention.ms': '1' } });
  const result = metalog('history', dir, '--topic', 'a');
  t.is(result.status, 0, result.stderr);
  t.deepEqual(result.stdout.trim().split('\n').map((line) => JSON.parse(line).type), ['TopicCreated', 'OffsetsCommitted', 'TopicConfigsAltered']);
  t.deepEqual(metalog('history', dir, '--topic', 'a', '--type', 'OffsetsCommitted').stdout.trim().split('\n').map((line) => JSON.parse(line).offset), [2]);
  t.is(metalog('history', dir).status, 2, 'an entity is required');
  t.is(metalog('history', dir, '--topic', 'a', '--group', 'g').status, 2, 'one entity');
});

test('snapshot, compact, verify with snapshots, backup, restore --to and diff against a real store', async (t) => {
  const dir = tmpDir(t);
  const config = { dir, segmentBytes: 64 * 1024, snapshotEveryEvents: 0, snapshotIntervalMs: 0 };
  let log = await openStore(t, config);
  await log.createTopic({ name: 't', partitions: 4 });
  for (let round = 0; round < 20; round++) {
    await Promise.all(Array.from({ length: 100 }, (_, i) => log.commitOffsets(`g${i % 10}`, [{ topic: 't', partition: i % 4, offset: round * 100 + i, metadata: 'x'.repeat(40) }])));
  }
  const middle = Math.floor(log.lastOffset / 2);
  const last = log.lastOffset;
  // Refused while the store is open in this process (another opener holds the lock).
  const refused = metalog('snapshot', dir);
  t.is(refused.status, 1);
  t.regex(refused.stderr, /STORE_LOCKED/);
  // backup is safe beside the running store.
  const backupDir = path.join(tmpDir(t), 'backup');
  const backup = metalog('backup', dir, backupDir, '--json');
  t.is(backup.status, 0, backup.stderr);
  t.is(JSON.parse(backup.stdout).lastOffset, last);
  await closeAndVerify(log);

  const snapshot = metalog('snapshot', dir, '--json');
  t.is(snapshot.status, 0, snapshot.stderr);
  t.is(JSON.parse(snapshot.stdout).lastOffset, last);
  const compact = metalog('compact', dir, '--json');
  t.is(compact.status, 0, compact.stderr);
  t.true(JSON.parse(compact.stdout).removedSegments > 0, 'segments the snapshot covers were deleted');
  const verify = metalog('verify', dir, '--json');
  t.is(verify.status, 0, verify.stdout);
  const checks = JSON.parse(verify.stdout).snapshots as { verdict: string }[];
  t.true(checks.length >= 1 && checks.every((check) => check.verdict === 'ok' || check.verdict === 'base'));

  const restoredDir = path.join(tmpDir(t), 'restored');
  const restore = metalog('restore', backupDir, restoredDir, '--to', String(middle), '--json');
  t.is(restore.status, 0, restore.stderr);
  t.is(JSON.parse(restore.stdout).lastOffset, middle);
  log = await openStore(t, { dir: restoredDir });
  t.is(log.lastOffset, middle);
  await closeAndVerify(log);

  const diff = metalog('diff', backupDir, String(middle), String(last), '--json');
  t.is(diff.status, 0, diff.stderr);
  const changed = JSON.parse(diff.stdout).offsets;
  t.true(changed.changed.length > 0 && changed.added.length === 0);
  t.is(metalog('restore', backupDir, restoredDir).status, 1, 'the destination must be empty');
  t.is(metalog('diff', dir, 'x', '1').status, 2);

  // A snapshot whose checksums hold but whose content is not the WAL's (another store's, same offset)
  // is caught by its digest.
  const other = tmpDir(t);
  const otherLog = await openStore(t, { dir: other, snapshotEveryEvents: 0, snapshotIntervalMs: 0 });
  await otherLog.createTopic({ name: 'elsewhere', partitions: 1 });
  for (let i = 0; i < 9; i++) await otherLog.commitOffsets('h', [{ topic: 'elsewhere', partition: 0, offset: i }]);
  const foreign = await otherLog.snapshot();
  await closeAndVerify(otherLog);
  const small = tmpDir(t);
  const smallLog = await openStore(t, { dir: small });
  await smallLog.createTopic({ name: 'here', partitions: 1 });
  for (let i = 0; i < 9; i++) await smallLog.commitOffsets('g', [{ topic: 'here', partition: 0, offset: i }]);
  await closeAndVerify(smallLog);
  fs.mkdirSync(path.join(small, 'snapshots'));
  fs.copyFileSync(path.join(other, 'snapshots', foreign.file), path.join(small, 'snapshots', foreign.file));
  const mismatch = metalog('verify', small, '--json');
  t.is(mismatch.status, 1);
  t.is(JSON.parse(mismatch.stdout).snapshots[0].verdict, 'digest-mismatch');
});

test('metalog broker: an unknown setting or a bad value is a usage error (exit 2) naming it; nothing is created', (t) => {
  const dir = tmpDir(t);
  const data = path.join(dir, 'data');
  const unknown = metalog('broker', '--dir', data, '--override', 'num.partition=3');
  t.is(unknown.status, 2);
  t.regex(unknown.stderr, /unknown setting num\.partition/);
  const bad = metalog('broker', '--dir', data, '--port', '0', '--override', 'durability=sometimes');
  t.is(bad.status, 2);
  t.regex(bad.stderr, /durability must be one of fsync, interval, none/);
  const missingFile = metalog('broker', '--dir', data, '--config', path.join(dir, 'missing.properties'));
  t.is(missingFile.status, 2);
  t.regex(missingFile.stderr, /cannot read properties file/);
  t.false(fs.existsSync(data));
});
