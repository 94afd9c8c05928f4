/**
 * The etcd client against a real 3-member etcd cluster on loopback: bytes round-trip, transactions take
 * the branch their comparisons decide, leases end the keys attached to them, watches see every change in
 * order and say when their start was compacted, and every failure has the kind a caller branches on:
 * `unavailable` when no member took the call, `ambiguous` when a write may have been applied.
 */
import test from 'ava';
import { EtcdClient, EtcdError } from '../../src/cluster/etcd-client.js';
import { etcdForTests } from '../helpers/etcd-cluster.js';
import { freeLoopbackPort } from '../helpers/free-port.js';

const shared = etcdForTests(test);

function client(deadlineMs = 10_000): EtcdClient {
  return new EtcdClient({ endpoints: shared.cluster.endpoints, deadlineMs });
}

const key = (text: string): Buffer => Buffer.from(text);

test('a value of every byte round-trips through a transaction and a range', async (t) => {
  const etcd = client();
  t.teardown(() => etcd.close());
  const value = Buffer.from(Array.from({ length: 512 }, (_, i) => i % 256));
  const written = await etcd.txn({ compare: [{ key: key('bytes/a'), target: 'CREATE', createRevision: 0 }], success: [{ put: { key: key('bytes/a'), value } }], failure: [] });
  t.true(written.succeeded);
  const read = await etcd.range(key('bytes/a'));
  t.is(read.kvs.length, 1);
  t.true(read.kvs[0].value.equals(value));
  t.is(read.kvs[0].createRevision, written.revision);
  t.is(read.kvs[0].modRevision, written.revision);
});

test('a transaction whose comparison fails takes the failure branch and changes nothing', async (t) => {
  const etcd = client();
  t.teardown(() => etcd.close());
  await etcd.txn({ compare: [], success: [{ put: { key: key('cas/head'), value: key('00000000000000000007') } }], failure: [] });
  const refused = await etcd.txn({
    compare: [{ key: key('cas/head'), target: 'VALUE', value: key('00000000000000000006') }],
    success: [{ put: { key: key('cas/head'), value: key('00000000000000000009') } }],
    failure: [{ range: { key: key('cas/head') } }],
  });
  t.false(refused.succeeded);
  t.is(refused.ranges[0][0].value.toString(), '00000000000000000007');
  t.is((await etcd.range(key('cas/head'))).kvs[0].value.toString(), '00000000000000000007');
});

test('a range reads in key order, newest first when asked, and limited', async (t) => {
  const etcd = client();
  t.teardown(() => etcd.close());
  for (const name of ['order/3', 'order/1', 'order/2']) {
    await etcd.txn({ compare: [], success: [{ put: { key: key(name), value: key(name) } }], failure: [] });
  }
  const all = await etcd.range(key('order/'), { rangeEnd: key('order0') });
  t.deepEqual(all.kvs.map((kv) => kv.key.toString()), ['order/1', 'order/2', 'order/3']);
  const last = await etcd.range(key('order/'), { rangeEnd: key('order/3'), descending: true, limit: 1 });
  t.deepEqual(last.kvs.map((kv) => kv.key.toString()), ['order/2']);
  t.true(last.more);
});

test('a revoked lease takes its keys with it, and a comparison on it fails from then on', async (t) => {
  const etcd = client();
  t.teardown(() => etcd.close());
  const lease = await etcd.leaseGrant(30);
  t.true(lease.ttlSeconds > 0);
  await etcd.txn({ compare: [], success: [{ put: { key: key('lease/owner'), value: key('node-1'), lease: lease.id } }], failure: [] });
  t.true((await etcd.leaseKeepAlive(lease.id)) > 0);
  const held = await etcd.txn({ compare: [{ key: key('lease/owner'), target: 'LEASE', lease: lease.id }], success: [], failure: [] });
  t.true(held.succeeded);
  await etcd.leaseRevoke(lease.id);
  t.is((await etcd.range(key('lease/owner'))).kvs.length, 0);
  const gone = await etcd.txn({ compare: [{ key: key('lease/owner'), target: 'LEASE', lease: lease.id }], success: [], failure: [] });
  t.false(gone.succeeded);
  const error = await t.throwsAsync(etcd.leaseKeepAlive(lease.id), { instanceOf: EtcdError });
  t.is(error?.kind, 'lease-not-found');
  // Revoking again is not an error: the lease is gone either way.
  await t.notThrowsAsync(etcd.leaseRevoke(lease.id));
});

test('a watch sees every change from its start revision, in order', async (t) => {
  const etcd = client();
  t.teardown(() => etcd.close());
  const first = await etcd.txn({ compare: [], success: [{ put: { key: key('watch/a'), value: key('1') } }], failure: [] });
  for (const value of ['2', '3']) await etcd.txn({ compare: [], success: [{ put: { key: key('watch/a'), value: key(value) } }], failure: [] });
  await etcd.txn({ compare: [], success: [{ deleteRange: { key: key('watch/a') } }], failure: [] });
  const seen: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const watch = etcd.watch({
      key: key('watch/'),
      rangeEnd: key('watch0'),
      startRevision: first.revision,
      onEvents: (events) => {
        for (const event of events) seen.push(event.type === 'PUT' ? event.kv.value.toString() : 'deleted');
        if (seen.length === 4) {
          watch.cancel();
          resolve();
        }
      },
      onEnd: reject,
    });
  });
  t.deepEqual(seen, ['1', '2', '3', 'deleted']);
});

test.serial('a watch or a range from a compacted revision fails as compacted', async (t) => {
  const etcd = client();
  t.teardown(() => etcd.close());
  const old = await etcd.txn({ compare: [], success: [{ put: { key: key('compact/a'), value: key('old') } }], failure: [] });
  const now = await etcd.txn({ compare: [], success: [{ put: { key: key('compact/a'), value: key('new') } }], failure: [] });
  await etcd.compact(now.revision);
  const ranged = await t.throwsAsync(etcd.range(key('compact/a'), { revision: old.revision }), { instanceOf: EtcdError });
  t.is(ranged?.kind, 'compacted');
  const ended = await new Promise<EtcdError>((resolve) => {
    etcd.watch({ key: key('compact/'), rangeEnd: key('compact0'), startRevision: old.revision, onEvents: () => undefined, onEnd: resolve });
  });
  t.is(ended.kind, 'compacted');
});

test('no member listening: unavailable; a dead endpoint first is passed over', async (t) => {
  const dead = `http://127.0.0.1:${await freeLoopbackPort()}`;
  const none = new EtcdClient({ endpoints: [dead], deadlineMs: 5_000 });
  t.teardown(() => none.close());
  const error = await t.throwsAsync(none.txn({ compare: [], success: [{ put: { key: key('dead/a'), value: key('x') } }], failure: [] }), { instanceOf: EtcdError });
  // Refused before anything was sent: the write was certainly not applied.
  t.is(error?.kind, 'unavailable');
  const some = new EtcdClient({ endpoints: [dead, ...shared.cluster.endpoints], deadlineMs: 10_000 });
  t.teardown(() => some.close());
  t.true((await some.txn({ compare: [], success: [{ put: { key: key('dead/a'), value: key('x') } }], failure: [] })).succeeded);
});

test.serial('a write to a member that stops answering is ambiguous, a read past its deadline is not', async (t) => {
  const member = 2;
  const paused = new EtcdClient({ endpoints: [shared.cluster.members[member].clientUrl], deadlineMs: 1_000 });
  t.teardown(() => paused.close());
  // Connected first, so the paused member's kernel still accepts the next request's bytes.
  await paused.range(key('pause/a'));
  await shared.cluster.signal(member, 'SIGSTOP');
  try {
    const write = await t.throwsAsync(paused.txn({ compare: [], success: [{ put: { key: key('pause/a'), value: key('x') } }], failure: [] }), { instanceOf: EtcdError });
    t.is(write?.kind, 'ambiguous');
    const read = await t.throwsAsync(paused.range(key('pause/a')), { instanceOf: EtcdError });
    t.is(read?.kind, 'deadline');
  } finally {
    await shared.cluster.signal(member, 'SIGCONT');
  }
  await shared.cluster.waitUntilServing(member);
});

test('a closed client fails every call as unavailable and ends its watches quietly', async (t) => {
  const etcd = client();
  let ended = false;
  etcd.watch({ key: key('closed/'), rangeEnd: key('closed0'), startRevision: 0, onEvents: () => undefined, onEnd: () => (ended = true) });
  etcd.close();
  const error = await t.throwsAsync(etcd.range(key('closed/a')), { instanceOf: EtcdError });
  t.is(error?.kind, 'unavailable');
  t.false(ended);
});
