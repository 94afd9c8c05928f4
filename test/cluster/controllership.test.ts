/**
 * The election against a real 3-member etcd: of three nodes one becomes controller and the others follow
 * it; when the controller stops, or its lease ends behind its back, another takes over under a higher
 * epoch, and the old term can no longer append. Waits are on role changes, never on the clock (a lease
 * TTL passes in etcd; the test only waits for what follows from it).
 */
import test from 'ava';
import { Controllership, type Role } from '../../src/cluster/controllership.js';
import { EtcdClient } from '../../src/cluster/etcd-client.js';
import { EtcdLog, encodeBatchValue } from '../../src/cluster/etcd-log.js';
import { etcdForTests } from '../helpers/etcd-cluster.js';

const shared = etcdForTests(test);

/** One node: its controllership, every role it reported, and a way to wait for the next one wanted. */
class Node {
  readonly roles: Role[] = [];
  private waiters: { wanted: (role: Role) => boolean; resolve: (role: Role) => void }[] = [];
  readonly controllership: Controllership;

  constructor(
    readonly nodeId: string,
    readonly client: EtcdClient,
    readonly log: EtcdLog,
  ) {
    this.controllership = new Controllership({
      nodeId,
      leaseTtlMs: 5_000,
      client,
      log,
      onRole: (role) => {
        this.roles.push(role);
        const ready = this.waiters.filter((waiter) => waiter.wanted(role));
        this.waiters = this.waiters.filter((waiter) => !waiter.wanted(role));
        for (const waiter of ready) waiter.resolve(role);
      },
    });
  }

  /** The current role if `wanted`, else the next reported role that is. */
  until(wanted: (role: Role) => boolean): Promise<Role> {
    const current = this.controllership.current;
    if (this.roles.length > 0 && wanted(current)) return Promise.resolve(current);
    return new Promise((resolve) => this.waiters.push({ wanted, resolve }));
  }
}

const settled = (role: Role): boolean => role.kind === 'controller' || role.kind === 'follower';

function nodes(t: { teardown: (fn: () => Promise<void> | void) => void }, count: number): Node[] {
  const prefix = shared.prefix('election');
  const created = Array.from({ length: count }, (_, i) => {
    const client = new EtcdClient({ endpoints: shared.cluster.endpoints, deadlineMs: 5_000 });
    return new Node(`node-${i}`, client, new EtcdLog(client, { prefix, appendRetryMs: 2_000 }));
  });
  t.teardown(async () => {
    for (const node of created) {
      await node.controllership.stop();
      node.client.close();
    }
  });
  return created;
}

async function settledRoles(all: Node[]): Promise<Role[]> {
  return Promise.all(all.map((node) => node.until(settled)));
}

test('of three nodes one is controller and the other two follow it', async (t) => {
  const all = nodes(t, 3);
  for (const node of all) node.controllership.start();
  const roles = await settledRoles(all);
  const controllers = roles.filter((role) => role.kind === 'controller');
  t.is(controllers.length, 1);
  const controller = controllers[0];
  if (controller.kind !== 'controller') return;
  for (const role of roles) {
    if (role.kind === 'follower') {
      t.is(role.leader.nodeId, controller.term.nodeId);
      t.is(role.leader.epoch, controller.term.epoch);
    }
  }
});

test('when the controller stops, a follower takes over under a higher epoch', async (t) => {
  const all = nodes(t, 3);
  for (const node of all) node.controllership.start();
  const roles = await settledRoles(all);
  const first = all[roles.findIndex((role) => role.kind === 'controller')];
  const firstRole = first.controllership.current;
  if (firstRole.kind !== 'controller') return t.fail('no controller');
  await first.controllership.stop();
  // The claim ended with the revoked lease; nobody holds it until a follower's campaign.
  const others = all.filter((node) => node !== first);
  const next = await Promise.race(others.map((node) => node.until((role) => role.kind === 'controller')));
  if (next.kind !== 'controller') return t.fail('no new controller');
  t.true(next.term.epoch > firstRole.term.epoch);
  t.not(next.term.nodeId, first.nodeId);
});

test('a controller whose lease ends behind its back loses the claim, and its term can no longer append', async (t) => {
  const all = nodes(t, 2);
  for (const node of all) node.controllership.start();
  const roles = await settledRoles(all);
  const oldIndex = roles.findIndex((role) => role.kind === 'controller');
  const old = all[oldIndex];
  const oldRole = roles[oldIndex];
  if (oldRole.kind !== 'controller') return t.fail('no controller');
  // What a lease expiry does (after a pause longer than the TTL), without waiting for it.
  await old.client.leaseRevoke(oldRole.term.leaseId);
  const other = all[1 - oldIndex];
  const next = await other.until((role) => role.kind === 'controller');
  if (next.kind !== 'controller') return t.fail('no new controller');
  t.true(next.term.epoch > oldRole.term.epoch);
  // The old controller learns it at its next keep-alive, and campaigns (and follows) under a new lease.
  await old.until((role) => role.kind === 'follower');
  const late = await old.log.append(oldRole.term, oldRole.head, encodeBatchValue(Buffer.alloc(16), 1, Buffer.from('late')));
  t.is(late.kind, 'deposed');
  t.is((await other.log.append(next.term, next.head, encodeBatchValue(Buffer.alloc(16), 1, Buffer.from('fresh')))).kind, 'appended');
});

test('stop() revokes the lease: the claim is gone as soon as it returns', async (t) => {
  const [node] = nodes(t, 1);
  node.controllership.start();
  const role = await node.until((each) => each.kind === 'controller');
  t.is(role.kind, 'controller');
  t.not(await node.log.leader(), null);
  await node.controllership.stop();
  t.is(await node.log.leader(), null);
  t.is(node.controllership.current.kind, 'stopped');
});

test('a controller that steps down while its claim still holds is controller again, under the same epoch', async (t) => {
  const [node] = nodes(t, 1);
  node.controllership.start();
  const first = await node.until((each) => each.kind === 'controller');
  if (first.kind !== 'controller') return t.fail('no controller');
  t.is((await node.log.append(first.term, first.head, encodeBatchValue(Buffer.alloc(16), 2, Buffer.from('two')))).kind, 'appended');
  node.controllership.stepDown();
  const again = await node.until((each) => each.kind === 'controller' && each !== first);
  if (again.kind !== 'controller') return t.fail('not controller again');
  t.is(again.term.epoch, first.term.epoch);
  t.is(again.head, first.head + 2);
});
