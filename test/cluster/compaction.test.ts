/**
 * Compaction of the log in etcd and the bootstrap it makes necessary, on a real 3-member etcd: the
 * controller deletes only batches that every live node has in a snapshot; a node kept down meanwhile
 * cannot catch up from etcd, so its open copies a peer's snapshot in (keeping its old WAL aside) and then
 * tails; without a source that reaches far enough, its open fails with CORRUPT_WAL and changes nothing.
 */
import test, { type ExecutionContext } from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { MetaLog } from '../../src/api/metalog.js';
import { EtcdClient } from '../../src/cluster/etcd-client.js';
import { EtcdLog } from '../../src/cluster/etcd-log.js';
import type { LogConfigInput } from '../../src/config.js';
import { MetaLogError } from '../../src/errors.js';
import { onController } from '../helpers/controller.js';
import { etcdForTests } from '../helpers/etcd-cluster.js';
import { tmpDir } from '../helpers/tmp.js';

const shared = etcdForTests(test);

/** Pause between two reads of etcd while waiting for compaction (it orders nothing: the loop ends on the condition). */
const CONDITION_POLL_MS = 100;

/** Polls `condition` (an etcd read) until it holds: compaction runs on its own timer, a few times a second. */
async function eventually(condition: () => Promise<boolean>, what: string): Promise<void> {
  for (let attempt = 0; attempt < 600; attempt++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, CONDITION_POLL_MS));
  }
  throw new Error(`never happened: ${what}`);
}

/** `write` on whichever live store is controller now (a loaded machine can move the claim mid-test). */
function writer(stores: readonly (MetaLog | null)[]): (write: (store: MetaLog) => Promise<unknown>) => Promise<void> {
  return async (write) => {
    await onController(stores.filter((store): store is MetaLog => store !== null), write);
  };
}

/** The newest offset any live store has applied: every acknowledged write is at or below it. */
function newestOffset(stores: readonly (MetaLog | null)[]): number {
  return Math.max(...stores.filter((store): store is MetaLog => store !== null).map((store) => store.lastOffset));
}

test('a node kept down past compaction bootstraps from a peer\'s snapshot and serves the same state', async (t: ExecutionContext) => {
  const prefix = shared.prefix('compaction');
  const dirs = [tmpDir(t), tmpDir(t), tmpDir(t)];
  const log = (i: number, bootstrapFrom: string[] = []): LogConfigInput => ({ kind: 'etcd', endpoints: shared.cluster.endpoints, prefix, nodeId: `node-${i}`, leaseTtlMs: 3000, bootstrapFrom });
  const open = (i: number, bootstrapFrom: string[] = []): Promise<MetaLog> => MetaLog.open({ dir: dirs[i], snapshotEveryEvents: 40, snapshotIntervalMs: 0, log: log(i, bootstrapFrom) });
  // Nodes 0 and 1 first, so the controller is one of them; node 2 joins as a follower (kept down below).
  const stores: (MetaLog | null)[] = [await open(0), await open(1), null];
  t.teardown(async () => {
    for (const store of stores) await store?.close().catch(() => undefined);
  });
  await onController([stores[0]!, stores[1]!], (store) => store.createTopic({ name: 'events', partitions: 4 }));
  stores[2] = await open(2);
  const write = writer(stores);
  for (let i = 0; i < 100; i++) await write((store) => store.commitOffsets('g', [{ topic: 'events', partition: i % 4, offset: i }]));
  await stores[2]!.waitForOffset(newestOffset(stores));
  const keptDown = stores[2]!;
  const keptDownNext = keptDown.lastOffset + 1;
  await keptDown.close();
  stores[2] = null;

  const etcd = new EtcdClient({ endpoints: shared.cluster.endpoints, deadlineMs: 10_000 });
  t.teardown(() => etcd.close());
  const engine = new EtcdLog(etcd, { prefix, appendRetryMs: 5_000 });
  for (let i = 100; i < 400; i++) await write((store) => store.commitOffsets('g', [{ topic: 'events', partition: i % 4, offset: i }]));
  // Snapshots on the two live nodes, then the controller's compaction past node 2's end.
  await eventually(async () => ((await engine.firstOffset()) ?? 0) > keptDownNext, 'compaction past the kept-down node');

  // Without a source, its open fails and leaves the store as it was.
  const walBefore = fs.readdirSync(path.join(dirs[2], 'wal'));
  const refused = await t.throwsAsync(MetaLog.open({ dir: dirs[2], log: log(2) }), { instanceOf: MetaLogError });
  t.is(refused?.code, 'CORRUPT_WAL');
  t.deepEqual(fs.readdirSync(path.join(dirs[2], 'wal')), walBefore);

  // With its peers' stores as sources: bootstrap, then catch up by tailing.
  stores[2] = await open(2, [dirs[0], dirs[1]]);
  const report = stores[2].bootstrap;
  t.not(report, null);
  t.is(report?.localNextOffset, keptDownNext);
  t.true((report?.snapshotLastOffset ?? -1) >= (report?.firstAvailableOffset ?? Infinity) - 1);
  t.true(fs.existsSync(report!.keptWal!), 'the old WAL is kept aside');
  const newest = newestOffset(stores);
  for (const store of stores) await store!.waitForOffset(newest);
  t.is(stores[2].canonicalState(), stores[0]!.canonicalState());
  t.is(stores[2].fetchOffset('g', 'events', 3)?.offset, 399);
  // And it takes part in the cluster from here: a later write reaches it too.
  await write((store) => store.commitOffsets('g', [{ topic: 'events', partition: 0, offset: 1000 }]));
  await stores[2].waitForOffset(newestOffset(stores));
  t.is(stores[2].fetchOffset('g', 'events', 0)?.offset, 1000);
});

test('batches stay in etcd while a live node has no snapshot past them', async (t) => {
  const prefix = shared.prefix('compaction');
  const dirs = [tmpDir(t), tmpDir(t)];
  const stores = [
    // Node 0 snapshots often, node 1 never.
    await MetaLog.open({ dir: dirs[0], snapshotEveryEvents: 20, snapshotIntervalMs: 0, log: { kind: 'etcd', endpoints: shared.cluster.endpoints, prefix, nodeId: 'node-0', leaseTtlMs: 3000 } }),
    await MetaLog.open({ dir: dirs[1], snapshotEveryEvents: 0, snapshotIntervalMs: 0, log: { kind: 'etcd', endpoints: shared.cluster.endpoints, prefix, nodeId: 'node-1', leaseTtlMs: 3000 } }),
  ];
  t.teardown(async () => {
    for (const store of stores) await store.close().catch(() => undefined);
  });
  await onController(stores, (store) => store.createTopic({ name: 'events', partitions: 1 }));
  const write = writer(stores);
  for (let i = 0; i < 100; i++) await write((store) => store.commitOffsets('g', [{ topic: 'events', partition: 0, offset: i }]));
  const etcd = new EtcdClient({ endpoints: shared.cluster.endpoints, deadlineMs: 10_000 });
  t.teardown(() => etcd.close());
  const engine = new EtcdLog(etcd, { prefix, appendRetryMs: 5_000 });
  // Both nodes have published their progress (node 1: no snapshot, -1), and node 0 has snapshots.
  await eventually(async () => {
    const progress = await engine.liveProgress();
    return progress.length === 2 && progress.some((each) => each.snapshotOffset >= 60);
  }, 'both nodes published, node 0 with a snapshot');
  // Node 1 has no snapshot, so nothing may go: the log still starts at 0. A snapshot on node 1 lets it go.
  t.is(await engine.firstOffset(), 0);
  await stores[1].snapshot();
  await eventually(async () => ((await engine.firstOffset()) ?? 0) > 0, 'compaction once node 1 has a snapshot');
});
