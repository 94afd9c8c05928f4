/**
 * Three stores (three writer threads, three directories) sharing one log through a real 3-member etcd:
 * one is the controller and takes writes; the others answer NOT_CONTROLLER naming it, apply its batches
 * and serve the same state; when the controller closes, another takes over and no acknowledged write is
 * lost; a node restarted after it missed writes catches up from etcd.
 *
 * Waits are on events (a write's answer, `waitForOffset`), never on the clock; a write is retried while
 * the cluster has no controller (an election in progress), which is what a broker does with NOT_CONTROLLER.
 */
import test, { type ExecutionContext } from 'ava';
import { MetaLog } from '../../src/api/metalog.js';
import { MetaLogError } from '../../src/errors.js';
import { onController } from '../helpers/controller.js';
import { etcdForTests } from '../helpers/etcd-cluster.js';
import { tmpDir } from '../helpers/tmp.js';

const shared = etcdForTests(test);

interface Node {
  nodeId: string;
  dir: string;
  store: MetaLog | null;
}

function openNode(node: Node, prefix: string): Promise<MetaLog> {
  return MetaLog.open({ dir: node.dir, log: { kind: 'etcd', endpoints: shared.cluster.endpoints, prefix, nodeId: node.nodeId, leaseTtlMs: 5000 } });
}

async function startNodes(t: ExecutionContext, count: number): Promise<{ nodes: Node[]; prefix: string }> {
  const prefix = shared.prefix('store');
  const nodes: Node[] = Array.from({ length: count }, (_, i) => ({ nodeId: `node-${i}`, dir: tmpDir(t), store: null }));
  t.teardown(async () => {
    for (const node of nodes) await node.store?.close().catch(() => undefined);
  });
  for (const node of nodes) node.store = await openNode(node, prefix);
  return { nodes, prefix };
}

/** `write` on the controller among the open nodes (see onController). */
async function writeOnController<T>(nodes: Node[], write: (store: MetaLog) => Promise<T>): Promise<{ node: Node; value: T }> {
  const { store, value } = await onController(nodes.flatMap((node) => (node.store === null ? [] : [node.store])), write);
  return { node: nodes.find((node) => node.store === store)!, value };
}

test('one node takes writes, the others refuse them naming it, and every node serves the same state', async (t) => {
  const { nodes } = await startNodes(t, 3);
  const { node: controller } = await writeOnController(nodes, (store) => store.createTopic({ name: 'orders', partitions: 3 }));
  const store = controller.store!;
  for (let i = 0; i < 20; i++) await store.commitOffsets('billing', [{ topic: 'orders', partition: i % 3, offset: i }]);
  await store.upsertGroup({ groupId: 'billing', state: 'Stable', protocolType: 'consumer', protocol: 'range', generation: 1, leader: 'm', members: [{ memberId: 'm', clientId: 'c', clientHost: 'h', sessionTimeoutMs: 10000, rebalanceTimeoutMs: 1000, subscription: new Uint8Array([1]), assignment: new Uint8Array([]) }] });
  const last = store.lastOffset;
  for (const node of nodes) {
    if (node === controller) continue;
    const error = await t.throwsAsync(node.store!.createTopic({ name: 'refused', partitions: 1 }), { instanceOf: MetaLogError });
    t.is(error?.code, 'NOT_CONTROLLER', error?.message);
    t.is(error?.kafkaCode, 41);
    t.is(error?.details.controller, controller.nodeId);
    await node.store!.waitForOffset(last);
    t.is(node.store!.canonicalState(), store.canonicalState());
    t.deepEqual(node.store!.fetchOffset('billing', 'orders', 1)?.offset, 19);
  }
  // The term began with WriterElected naming the controller.
  const history = await store.history({ types: ['WriterElected'] });
  t.true(history.length >= 1);
  t.is(history.at(-1)?.value && (history.at(-1)!.value as { nodeId: string }).nodeId, controller.nodeId);
});

test('when the controller closes, another node takes over and no acknowledged write is lost', async (t) => {
  const { nodes } = await startNodes(t, 3);
  const acknowledged: number[] = [];
  let first: { node: Node; value: unknown } = await writeOnController(nodes, (store) => store.createTopic({ name: 'events', partitions: 2 }));
  for (let i = 0; i < 10; i++) {
    await first.node.store!.commitOffsets('g', [{ topic: 'events', partition: 0, offset: i }]);
    acknowledged.push(i);
  }
  const old = first.node;
  await old.store!.close();
  old.store = null;
  for (let i = 10; i < 20; i++) {
    first = await writeOnController(nodes, (store) => store.commitOffsets('g', [{ topic: 'events', partition: 0, offset: i }]));
    acknowledged.push(i);
  }
  t.not(first.node, old);
  const controller = first.node.store!;
  t.is(controller.fetchOffset('g', 'events', 0)?.offset, 19);
  const commits = (await controller.history({ types: ['OffsetsCommitted'] })).map((event) => (event.value as { entries: { offset: number }[] }).entries[0].offset);
  // Every acknowledged commit is in the log exactly once, in acknowledgement order.
  t.deepEqual(commits, acknowledged);
  // Two terms: two WriterElected events, the second under a higher epoch.
  const elected = (await controller.history({ types: ['WriterElected'] })).map((event) => event.value as { epoch: number; nodeId: string });
  t.true(elected.length >= 2);
  t.true(elected.at(-1)!.epoch > elected[0].epoch);
});

test('a node restarted after it missed writes catches up from etcd and serves the same state', async (t) => {
  const { nodes, prefix } = await startNodes(t, 2);
  const { node: controller } = await writeOnController(nodes, (store) => store.createTopic({ name: 'audit', partitions: 1 }));
  const follower = nodes.find((node) => node !== controller)!;
  await follower.store!.waitForOffset(controller.store!.lastOffset);
  await follower.store!.close();
  follower.store = null;
  for (let i = 0; i < 30; i++) await controller.store!.commitOffsets('auditors', [{ topic: 'audit', partition: 0, offset: i }]);
  follower.store = await openNode(follower, prefix);
  await follower.store.waitForOffset(controller.store!.lastOffset);
  t.is(follower.store.canonicalState(), controller.store!.canonicalState());
  t.is(follower.store.fetchOffset('auditors', 'audit', 0)?.offset, 29);
});
