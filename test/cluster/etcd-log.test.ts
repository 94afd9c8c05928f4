/**
 * The log kept in etcd, against a real 3-member cluster: one campaign wins, appends chain at the head,
 * a deposed controller can never append again (not even at the head the new controller expects), a lost
 * answer is resolved to exactly one copy of the batch, tails see every batch in order, and compaction
 * keeps the batch that holds its bound.
 */
import test from 'ava';
import { EtcdClient, EtcdError } from '../../src/cluster/etcd-client.js';
import { EtcdLog, decodeBatchValue, encodeBatchValue, type LogBatch, type Term } from '../../src/cluster/etcd-log.js';
import { etcdForTests } from '../helpers/etcd-cluster.js';

const shared = etcdForTests(test);

const FINGERPRINT = Buffer.alloc(16, 7);

/** A client and a log under a prefix no other test uses. */
function open(t: { teardown: (fn: () => void) => void }, endpoints = shared.cluster.endpoints, appendRetryMs = 5_000): { etcd: EtcdClient; log: EtcdLog } {
  const etcd = new EtcdClient({ endpoints, deadlineMs: 10_000 });
  t.teardown(() => etcd.close());
  return { etcd, log: new EtcdLog(etcd, { prefix: shared.prefix('test'), appendRetryMs }) };
}

/** A batch value of `count` records whose bytes are just a label (the log never looks inside). */
function batch(count: number, label: string): Buffer {
  return encodeBatchValue(FINGERPRINT, count, Buffer.from(label));
}

async function win(etcd: EtcdClient, log: EtcdLog, nodeId: string): Promise<Term> {
  const lease = await etcd.leaseGrant(30);
  const outcome = await log.campaign(nodeId, lease.id);
  if (!outcome.won) throw new Error(`${nodeId} lost to ${outcome.leader.nodeId}`);
  return outcome.term;
}

test('of several concurrent campaigns one wins, and every other learns who and under which epoch', async (t) => {
  const { etcd, log } = open(t);
  const leases = await Promise.all(['a', 'b', 'c', 'd'].map(() => etcd.leaseGrant(30)));
  const outcomes = await Promise.all(['a', 'b', 'c', 'd'].map((nodeId, i) => log.campaign(nodeId, leases[i].id)));
  const winners = outcomes.filter((outcome) => outcome.won);
  t.is(winners.length, 1);
  const winner = winners[0];
  if (!winner.won) return;
  for (const outcome of outcomes) {
    if (outcome.won) continue;
    t.is(outcome.leader.nodeId, winner.term.nodeId);
    t.is(outcome.leader.epoch, winner.term.epoch);
  }
  t.deepEqual(await log.leader(), { nodeId: winner.term.nodeId, epoch: winner.term.epoch, leaseId: winner.term.leaseId });
});

test('appends chain at the head and read back in order, a batch read whole from any offset in it', async (t) => {
  const { etcd, log } = open(t);
  const term = await win(etcd, log, 'a');
  t.is((await log.append(term, 0, batch(3, '0-2'))).kind, 'appended');
  t.is((await log.append(term, 3, batch(1, '3'))).kind, 'appended');
  t.is((await log.append(term, 4, batch(5, '4-8'))).kind, 'appended');
  t.is((await log.head()).head, 9);
  const all = await log.readFrom(0, 100);
  t.deepEqual(all.batches.map((each) => [each.firstOffset, decodeBatchValue(each.value)?.records.toString()]), [[0, '0-2'], [3, '3'], [4, '4-8']]);
  const fromMiddle = await log.readFrom(6, 100);
  t.deepEqual(fromMiddle.batches.map((each) => each.firstOffset), [4]);
  t.deepEqual((await log.readFrom(9, 100)).batches, []);
});

test('a stale head is refused as head-moved, and nothing is written', async (t) => {
  const { etcd, log } = open(t);
  const term = await win(etcd, log, 'a');
  await log.append(term, 0, batch(2, '0-1'));
  t.deepEqual(await log.append(term, 0, batch(1, 'again at 0')), { kind: 'head-moved', head: 2 });
  t.deepEqual(await log.append(term, 5, batch(1, 'past the head')), { kind: 'head-moved', head: 2 });
  t.deepEqual((await log.readFrom(0, 100)).batches.map((each) => each.firstOffset), [0]);
  t.is((await log.head()).head, 2);
});

test('a deposed controller never appends again, not even at the head the new controller appends at', async (t) => {
  const { etcd, log } = open(t);
  const old = await win(etcd, log, 'old');
  await log.append(old, 0, batch(2, 'old 0-1'));
  // The old controller's lease lapses (revoked here: what an expiry does, without waiting for it).
  await etcd.leaseRevoke(old.leaseId);
  const fresh = await win(etcd, log, 'new');
  t.true(fresh.epoch > old.epoch);
  // Right after the election, at the very head the new controller expects.
  const late = await log.append(old, 2, batch(1, 'old 2'));
  t.is(late.kind, 'deposed');
  if (late.kind === 'deposed') t.is(late.leader?.nodeId, 'new');
  t.is((await log.append(fresh, 2, batch(1, 'new 2'))).kind, 'appended');
  t.is((await log.append(old, 3, batch(1, 'old 3'))).kind, 'deposed');
  const records = (await log.readFrom(0, 100)).batches.map((each) => decodeBatchValue(each.value)?.records.toString());
  t.deepEqual(records, ['old 0-1', 'new 2']);
});

test('the same node elected again gets a new epoch, and its old term is refused', async (t) => {
  const { etcd, log } = open(t);
  const first = await win(etcd, log, 'a');
  await etcd.leaseRevoke(first.leaseId);
  const second = await win(etcd, log, 'a');
  t.true(second.epoch > first.epoch);
  t.is((await log.append(first, 0, batch(1, 'first term'))).kind, 'deposed');
  t.is((await log.append(second, 0, batch(1, 'second term'))).kind, 'appended');
});

test('an append sent twice, byte for byte (its first answer lost), is in the log once', async (t) => {
  const { etcd, log } = open(t);
  const term = await win(etcd, log, 'a');
  const value = batch(4, '0-3');
  t.is((await log.append(term, 0, value)).kind, 'appended');
  // The second copy is refused by the head, and the read-back of its key finds it is this very batch.
  t.is((await log.append(term, 0, value)).kind, 'appended');
  // A different batch at the same offset is not mistaken for it.
  t.deepEqual(await log.append(term, 0, batch(4, 'other')), { kind: 'head-moved', head: 4 });
  t.deepEqual((await log.readFrom(0, 100)).batches.map((each) => each.firstOffset), [0]);
});

test.serial('an append to a member that stops answering ends ambiguous, and sent again lands exactly once', async (t) => {
  const member = 1;
  const { etcd, log } = open(t);
  const term = await win(etcd, log, 'a');
  const pausedClient = new EtcdClient({ endpoints: [shared.cluster.members[member].clientUrl], deadlineMs: 500 });
  t.teardown(() => pausedClient.close());
  const pausedLog = new EtcdLog(pausedClient, { prefix: log.prefix, appendRetryMs: 1_200 });
  // Connected before the pause, so the request's bytes reach the paused member's socket.
  await pausedLog.head();
  const value = batch(2, '0-1');
  await shared.cluster.signal(member, 'SIGSTOP');
  try {
    const error = await t.throwsAsync(pausedLog.append(term, 0, value), { instanceOf: EtcdError });
    t.is(error?.kind, 'ambiguous');
  } finally {
    await shared.cluster.signal(member, 'SIGCONT');
  }
  // The paused member may still apply the copies it had received; sending the same batch again through
  // a healthy client settles it: appended, once.
  t.is((await log.append(term, 0, value)).kind, 'appended');
  await shared.cluster.waitUntilServing(member);
  const read = await log.readFrom(0, 100);
  t.deepEqual(read.batches.map((each) => each.firstOffset), [0]);
  t.is((await log.head()).head, 2);
});

test('a tail sees every batch appended after its revision, in order', async (t) => {
  const { etcd, log } = open(t);
  const term = await win(etcd, log, 'a');
  const start = (await log.head()).revision;
  const seen: LogBatch[] = [];
  const done = new Promise<void>((resolve, reject) => {
    const watch = log.tail(start, (each) => {
      seen.push(each);
      if (seen.length === 3) {
        watch.cancel();
        resolve();
      }
    }, reject);
  });
  await log.append(term, 0, batch(1, '0'));
  await log.append(term, 1, batch(2, '1-2'));
  await log.append(term, 3, batch(1, '3'));
  await done;
  t.deepEqual(seen.map((each) => each.firstOffset), [0, 1, 3]);
  t.true(seen[0].revision < seen[1].revision && seen[1].revision < seen[2].revision);
});

test.serial('deleting below an offset keeps the batch that holds it, and a tail from before fails as compacted', async (t) => {
  const { etcd, log } = open(t);
  const term = await win(etcd, log, 'a');
  const start = (await log.head()).revision;
  for (const [first, count] of [[0, 2], [2, 3], [5, 1], [6, 4]]) await log.append(term, first, batch(count, `${first}`));
  t.is(await log.deleteBelow(3), 1);
  t.deepEqual((await log.readFrom(0, 100)).batches.map((each) => each.firstOffset), [2, 5, 6]);
  const ended = await new Promise<EtcdError>((resolve) => {
    log.tail(start, () => undefined, resolve);
  });
  t.is(ended.kind, 'compacted');
  t.is(await log.deleteBelow(1), 0);
});
