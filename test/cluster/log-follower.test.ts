/**
 * A follower against a real 3-member etcd: it hands over every record once, in order, from its own next
 * offset (what it held before is skipped, even inside a batch), across the catch-up read and the tail;
 * and it stops, handing over nothing more, at a corrupt batch or at a gap left by compaction.
 */
import test from 'ava';
import { EtcdClient } from '../../src/cluster/etcd-client.js';
import { EtcdLog, encodeBatchValue, type Term } from '../../src/cluster/etcd-log.js';
import { LogFollower, verifyBatch, type FollowerStop, type VerifiedRecords } from '../../src/cluster/log-follower.js';
import { RECORD_HEADER_BYTES, readRecord, sealRecord } from '../../src/wal/format.js';
import { etcdForTests } from '../helpers/etcd-cluster.js';

const shared = etcdForTests(test);

const FINGERPRINT = Buffer.alloc(16, 3);

/** `count` framed records from `firstOffset`, each with the payload "record <offset>", as a batch value. */
function batchOf(firstOffset: number, count: number): Buffer {
  const records = Array.from({ length: count }, (_, i) => {
    const payload = Buffer.from(`record ${firstOffset + i}`);
    const buffer = Buffer.alloc(RECORD_HEADER_BYTES + payload.length);
    payload.copy(buffer, RECORD_HEADER_BYTES);
    sealRecord(buffer, 0, buffer.length, firstOffset + i, 1_000 + i, 0, 1);
    return buffer;
  });
  return encodeBatchValue(FINGERPRINT, count, Buffer.concat(records));
}

/** The payloads of verified records, in order. */
function payloads(runs: VerifiedRecords[]): string[] {
  const out: string[] = [];
  for (const run of runs) {
    let position = 0;
    for (let i = 0; i < run.recordCount; i++) {
      const found = readRecord(run.records, position, run.records.length);
      if (typeof found === 'string') throw new Error(found);
      out.push(run.records.toString('utf8', found.payloadStart, found.end));
      position = found.end;
    }
  }
  return out;
}

async function controllerLog(t: { teardown: (fn: () => void) => void }): Promise<{ etcd: EtcdClient; log: EtcdLog; term: Term }> {
  const etcd = new EtcdClient({ endpoints: shared.cluster.endpoints, deadlineMs: 10_000 });
  t.teardown(() => etcd.close());
  const log = new EtcdLog(etcd, { prefix: shared.prefix('follow'), appendRetryMs: 5_000 });
  const lease = await etcd.leaseGrant(30);
  const outcome = await log.campaign('controller', lease.id);
  if (!outcome.won) throw new Error('campaign lost');
  return { etcd, log, term: outcome.term };
}

/** Runs a follower until it has handed over offsets below `until`, or stopped. */
function follow(log: EtcdLog, fromOffset: number, until: number, pageBatches = 2): { done: Promise<void>; runs: VerifiedRecords[]; stops: FollowerStop[]; follower: LogFollower } {
  const runs: VerifiedRecords[] = [];
  const stops: FollowerStop[] = [];
  let resolve!: () => void;
  const done = new Promise<void>((r) => (resolve = r));
  const follower = new LogFollower({
    log,
    fromOffset,
    pageBatches,
    onRecords: (records) => {
      runs.push(records);
      if (records.firstOffset + records.recordCount >= until) resolve();
    },
    onStop: (reason) => {
      stops.push(reason);
      resolve();
    },
  });
  follower.start();
  return { done, runs, stops, follower };
}

test('a follower hands over every record once, in order, across its catch-up read and its tail', async (t) => {
  const { log, term } = await controllerLog(t);
  let head = 0;
  for (const count of [3, 1, 4, 2, 5]) {
    await log.append(term, head, batchOf(head, count));
    head += count;
  }
  const following = follow(log, 0, 25);
  t.teardown(() => following.follower.stop());
  // Appended while it reads and tails.
  for (const count of [2, 3, 5]) {
    await log.append(term, head, batchOf(head, count));
    head += count;
  }
  await following.done;
  t.deepEqual(following.stops, []);
  t.deepEqual(payloads(following.runs), Array.from({ length: 25 }, (_, i) => `record ${i}`));
  t.is(following.follower.nextOffset, 25);
});

test('a follower started while batches keep landing misses none between its read and its tail', async (t) => {
  const { log, term } = await controllerLog(t);
  let head = 0;
  const appending = (async () => {
    for (let i = 0; i < 120; i++) {
      await log.append(term, head, batchOf(head, 1 + (i % 3)));
      head += 1 + (i % 3);
    }
  })();
  // Several followers, started at different moments of the appends: each read and tail meet at a revision.
  const followers = [];
  for (let i = 0; i < 4; i++) {
    followers.push(follow(log, 0, 240, 3));
    await log.head();
  }
  await appending;
  for (const following of followers) {
    t.teardown(() => following.follower.stop());
    await following.done;
    t.deepEqual(following.stops, []);
    t.deepEqual(payloads(following.runs), Array.from({ length: 240 }, (_, i) => `record ${i}`));
  }
});

test('a follower starting inside a batch hands over only the records it lacks', async (t) => {
  const { log, term } = await controllerLog(t);
  await log.append(term, 0, batchOf(0, 4));
  await log.append(term, 4, batchOf(4, 4));
  const following = follow(log, 6, 8);
  t.teardown(() => following.follower.stop());
  await following.done;
  t.deepEqual(payloads(following.runs), ['record 6', 'record 7']);
  t.is(following.runs[0].firstOffset, 6);
});

test('a corrupt batch stops the follower at its offset, and nothing at or past it is handed over', async (t) => {
  const { etcd, log, term } = await controllerLog(t);
  await log.append(term, 0, batchOf(0, 2));
  const bad = batchOf(2, 3);
  // One bit flipped in the batch's last record (offset 4), written around the append (as a faulty disk would).
  bad[bad.length - 3] ^= 0x10;
  await etcd.txn({ compare: [], success: [{ put: { key: log.batchKey(2), value: bad } }], failure: [] });
  await etcd.txn({ compare: [], success: [{ put: { key: log.batchKey(5), value: batchOf(5, 1) } }], failure: [] });
  const following = follow(log, 0, 6);
  t.teardown(() => following.follower.stop());
  await following.done;
  t.deepEqual(payloads(following.runs), ['record 0', 'record 1']);
  t.is(following.stops.length, 1);
  t.like(following.stops[0], { kind: 'corrupt', offset: 4 });
});

test('a follower whose next offset was compacted away stops at the gap', async (t) => {
  const { log, term } = await controllerLog(t);
  let head = 0;
  for (const count of [2, 2, 2]) {
    await log.append(term, head, batchOf(head, count));
    head += count;
  }
  await log.deleteBelow(4);
  const following = follow(log, 1, 6);
  t.teardown(() => following.follower.stop());
  await following.done;
  t.deepEqual(following.runs, []);
  t.deepEqual(following.stops, [{ kind: 'gap', expectedOffset: 1, firstAvailableOffset: 4 }]);
});

test('a batch is checked whole: offsets out of order, a short record count or trailing bytes are corrupt', (t) => {
  const good = batchOf(10, 3);
  t.like(verifyBatch({ firstOffset: 10, recordCount: 3, value: good, revision: 1 }, 10), { firstOffset: 10, recordCount: 3 });
  t.is(verifyBatch({ firstOffset: 10, recordCount: 3, value: good, revision: 1 }, 13), null);
  // The same records under another key: their own offsets disagree with it.
  t.like(verifyBatch({ firstOffset: 11, recordCount: 3, value: good, revision: 1 }, 11), { kind: 'corrupt', offset: 11 });
  const longer = Buffer.concat([good, Buffer.alloc(5)]);
  t.like(verifyBatch({ firstOffset: 10, recordCount: 3, value: longer, revision: 1 }, 10), { kind: 'corrupt', offset: 13 });
  const claimsMore = Buffer.from(good);
  claimsMore.writeUInt32LE(4, 20);
  t.like(verifyBatch({ firstOffset: 10, recordCount: 4, value: claimsMore, revision: 1 }, 10), { kind: 'corrupt', offset: 13 });
  t.like(verifyBatch({ firstOffset: 10, recordCount: 0, value: Buffer.from('not a batch'), revision: 1 }, 10), { kind: 'corrupt', offset: 10 });
});
