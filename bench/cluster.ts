/**
 * A log replicated through etcd (three etcd members on loopback, started here from Debian's etcd-server):
 * durable commits/s and latency on the controller at 64 and 256 in flight, beside a local store in fsync
 * mode measured in the same run; how long after its acknowledgement a follower has applied a write; and
 * the failover time (kill -9 of the controller's process until another node acknowledges a write).
 * Baseline of the engine: sequential fenced appends of one small batch, the per-append floor.
 * `npm run bench -- --only cluster`.
 */
import os from 'node:os';
import { MetaLog } from '../src/api/metalog.js';
import { EtcdClient } from '../src/cluster/etcd-client.js';
import { EtcdLog, encodeBatchValue } from '../src/cluster/etcd-log.js';
import { ClusterNode } from '../test/helpers/cluster-node.js';
import { onController } from '../test/helpers/controller.js';
import { EtcdCluster } from '../test/helpers/etcd-cluster.js';
import { drive } from './drive.js';
import { benchDir, check, latencyHistogram, percentilesMs, recordSince, type BenchRow } from './lib.js';

const LEASE_TTL_MS = 2000;

export interface ClusterSizes {
  commits: number;
  engineAppends: number;
  lagSamples: number;
  failovers: number;
}

/** Commits through `log` with `inFlight` outstanding: rate and per-call latency. */
async function commitLoad(log: MetaLog, total: number, inFlight: number, first: number, label: string): Promise<{ rate: number; p50: number; p99: number }> {
  const histogram = latencyHistogram();
  const seconds = await drive(total, inFlight, async (i) => {
    const started = process.hrtime.bigint();
    await log.commitOffsets('bench-group', [{ topic: 'bench', partition: i % 8, offset: first + i }]);
    recordSince(histogram, started);
  }, label);
  const { p50, p99 } = percentilesMs(histogram);
  return { rate: total / seconds, p50, p99 };
}

/** The engine's floor: sequential fenced appends of a one-record batch of `recordBytes`, p50 and rate. */
async function engineFloor(endpoints: string[], appends: number, recordBytes: number): Promise<{ rate: number; p50: number; p99: number }> {
  const client = new EtcdClient({ endpoints, deadlineMs: 10_000 });
  try {
    const log = new EtcdLog(client, { prefix: `bench-floor-${process.pid}`, appendRetryMs: 5_000 });
    const lease = await client.leaseGrant(30);
    const outcome = await log.campaign('floor', lease.id);
    check(outcome.won, 'the floor measurement wins its own campaign');
    if (!outcome.won) throw new Error('unreachable');
    const histogram = latencyHistogram();
    const value = encodeBatchValue(Buffer.alloc(16), 1, Buffer.alloc(recordBytes, 1));
    const started = performance.now();
    for (let i = 0; i < appends; i++) {
      const at = process.hrtime.bigint();
      const appended = await log.append(outcome.term, i, value);
      check(appended.kind === 'appended', 'every floor append lands');
      recordSince(histogram, at);
    }
    const seconds = (performance.now() - started) / 1000;
    await client.leaseRevoke(lease.id);
    const { p50, p99 } = percentilesMs(histogram);
    return { rate: appends / seconds, p50, p99 };
  } finally {
    client.close();
  }
}

/** kill -9 of the controller's process until a write is acknowledged by another node, `runs` times: ms each. */
async function failovers(endpoints: string[], runs: number, progress: (message: string) => void): Promise<number[]> {
  const times: number[] = [];
  for (let run = 0; run < runs; run++) {
    const { dir, cleanup } = benchDir(`cluster-failover-${run}`);
    const log = { kind: 'etcd' as const, endpoints, prefix: `bench-failover-${process.pid}-${run}`, leaseTtlMs: LEASE_TTL_MS };
    const nodes = [0, 1, 2].map((i) => new ClusterNode(`node-${i}`, `${dir}/node-${i}`, { ...log, nodeId: `node-${i}` }));
    try {
      await Promise.all(nodes.map((node) => node.start()));
      const commitOn = async (node: ClusterNode, offset: number): Promise<boolean> => {
        try {
          await node.request('commit', { group: 'g', topic: 't', partition: 0, offset });
          return true;
        } catch {
          return false;
        }
      };
      let controller: ClusterNode | null = null;
      for (let attempt = 0; controller === null && attempt < 1000; attempt++) {
        for (const node of nodes) {
          if (await node.request('createTopic', { name: 't', partitions: 1 }).then(() => true, () => false)) controller = node;
          if (controller !== null) break;
        }
        if (controller === null) await new Promise((resolve) => setTimeout(resolve, 20));
      }
      check(controller !== null, 'a controller is elected');
      const killedAt = performance.now();
      await controller.signal('SIGKILL');
      const others = nodes.filter((node) => node !== controller);
      let done = false;
      for (let offset = 0; !done; offset++) {
        for (const node of others) if (!done && (await commitOn(node, offset))) done = true;
        if (!done) await new Promise((resolve) => setTimeout(resolve, 5));
        check(performance.now() - killedAt < 60_000, 'a new controller within a minute');
      }
      times.push(performance.now() - killedAt);
      progress(`cluster: failover ${run + 1}/${runs}: ${Math.round(times.at(-1)!)} ms`);
    } finally {
      for (const node of nodes) await node.stop();
      cleanup();
    }
  }
  return times;
}

export async function benchCluster(sizes: ClusterSizes, progress: (message: string) => void): Promise<BenchRow[]> {
  progress('cluster: starting three etcd members…');
  const etcd = await EtcdCluster.start(3);
  const { dir, cleanup } = benchDir('cluster');
  const stores: MetaLog[] = [];
  try {
    const endpoints = etcd.endpoints;
    progress('cluster: the engine\'s floor (sequential fenced appends)…');
    const floor = await engineFloor(endpoints, sizes.engineAppends, 64);

    // Local fsync, same workload, same minutes.
    const local = await MetaLog.open({ dir: `${dir}/local`, durability: 'fsync', snapshotEveryEvents: 0 });
    await local.createTopic({ name: 'bench', partitions: 8 });
    await commitLoad(local, 2_000, 64, 0, 'local warm-up');
    const local64 = await commitLoad(local, sizes.commits, 64, 10_000, 'local fsync, 64 in flight');
    const local256 = await commitLoad(local, sizes.commits, 256, 10_000_000, 'local fsync, 256 in flight');
    await local.close();

    const log = { kind: 'etcd' as const, endpoints, prefix: `bench-${process.pid}`, leaseTtlMs: LEASE_TTL_MS };
    for (let i = 0; i < 3; i++) stores.push(await MetaLog.open({ dir: `${dir}/node-${i}`, snapshotEveryEvents: 0, log: { ...log, nodeId: `node-${i}` } }));
    const { store: controller } = await onController(stores, (store) => store.createTopic({ name: 'bench', partitions: 8 }));
    const followers = stores.filter((store) => store !== controller);
    await commitLoad(controller, 2_000, 64, 0, 'replicated warm-up');
    const replicated64 = await commitLoad(controller, sizes.commits, 64, 10_000, 'replicated, 64 in flight');
    // CPU of the whole machine's work per commit at 256 in flight: the three etcd members, and this
    // process (the three stores' threads and the callers), against the two cores there are.
    const etcdCpuBefore = etcd.cpuSeconds();
    const ownCpuBefore = process.cpuUsage();
    const wallBefore = performance.now();
    const replicated256 = await commitLoad(controller, sizes.commits, 256, 10_000_000, 'replicated, 256 in flight');
    const wallSeconds = (performance.now() - wallBefore) / 1000;
    const etcdCpuMicros = ((etcd.cpuSeconds() - etcdCpuBefore) * 1e6) / sizes.commits;
    const ownCpu = process.cpuUsage(ownCpuBefore);
    const ownCpuMicros = (ownCpu.user + ownCpu.system) / sizes.commits;
    const busyCores = ((etcdCpuMicros + ownCpuMicros) * sizes.commits) / 1e6 / wallSeconds;
    const cpuBound = (os.cpus().length * 1e6) / (etcdCpuMicros + ownCpuMicros);
    await Promise.all(followers.map((store) => store.waitForOffset(controller.lastOffset)));
    for (const store of followers) check(store.canonicalState() === controller.canonicalState(), 'followers serve the controller\'s state');

    // Follower lag: one write at a time, timed from its call until it is acknowledged, and until a
    // follower has applied it (the follower tails etcd, so it may apply a write before the controller's
    // caller hears back).
    const acked = latencyHistogram();
    const lag = latencyHistogram();
    for (let i = 0; i < sizes.lagSamples; i++) {
      const called = process.hrtime.bigint();
      await controller.commitOffsets('bench-group', [{ topic: 'bench', partition: 0, offset: 50_000_000 + i }]);
      recordSince(acked, called);
      await followers[i % followers.length].waitForOffset(controller.lastOffset);
      recordSince(lag, called);
    }
    const ackedMs = percentilesMs(acked);
    const lagMs = percentilesMs(lag);
    for (const store of stores.splice(0)) await store.close();

    progress('cluster: failover (kill -9 of the controller\'s process)…');
    const failoverMs = (await failovers(endpoints, sizes.failovers, progress)).sort((a, b) => a - b);

    const note = `3 etcd members on loopback, lease TTL ${LEASE_TTL_MS} ms; the engine alone: ${Math.round(floor.rate)} sequential appends/s, p50 ${floor.p50.toFixed(2)} ms`;
    return [
      { workload: 'cluster: fenced etcd append, 1 at a time (the engine\'s floor)', metric: 'throughput', value: floor.rate, unit: 'appends/s', higherIsBetter: true, note: `p50 ${floor.p50.toFixed(2)} ms, p99 ${floor.p99.toFixed(2)} ms` },
      { workload: 'cluster: replicated commitOffsets, 64 in flight', metric: 'throughput', value: replicated64.rate, unit: 'commits/s', baseline: { name: 'local fsync, 64 in flight', value: local64.rate }, higherIsBetter: true, note },
      { workload: 'cluster: replicated commitOffsets, 64 in flight', metric: 'p99', value: replicated64.p99, unit: 'ms', baseline: { name: 'local fsync', value: local64.p99 }, higherIsBetter: false, note: `p50 ${replicated64.p50.toFixed(2)} ms (local ${local64.p50.toFixed(2)})` },
      { workload: 'cluster: replicated commitOffsets, 256 in flight', metric: 'throughput', value: replicated256.rate, unit: 'commits/s', baseline: { name: 'local fsync, 256 in flight', value: local256.rate }, higherIsBetter: true },
      {
        workload: 'cluster: CPU per commit at 256 in flight (3 etcd members + the stores\' process)',
        metric: 'CPU',
        value: etcdCpuMicros + ownCpuMicros,
        unit: 'µs/commit',
        higherIsBetter: false,
        note: `etcd ${etcdCpuMicros.toFixed(1)} µs, stores and callers ${ownCpuMicros.toFixed(1)} µs; ${busyCores.toFixed(2)} of ${os.cpus().length} cores busy; the cores allow at most ${Math.round(cpuBound).toLocaleString('en-US')} commits/s at this cost`,
      },
      { workload: 'cluster: replicated commitOffsets, 256 in flight', metric: 'p99', value: replicated256.p99, unit: 'ms', baseline: { name: 'local fsync', value: local256.p99 }, higherIsBetter: false, note: `p50 ${replicated256.p50.toFixed(2)} ms (local ${local256.p50.toFixed(2)})` },
      { workload: 'cluster: one write at a time, call → applied on a follower', metric: 'p50', value: lagMs.p50, unit: 'ms', baseline: { name: 'call → acknowledged by the controller', value: ackedMs.p50 }, higherIsBetter: false },
      { workload: 'cluster: one write at a time, call → applied on a follower', metric: 'p99', value: lagMs.p99, unit: 'ms', baseline: { name: 'call → acknowledged by the controller', value: ackedMs.p99 }, higherIsBetter: false },
      { workload: 'cluster: failover (kill -9 of the controller → a write acknowledged elsewhere)', metric: 'median', value: failoverMs[Math.floor(failoverMs.length / 2)], unit: 'ms', higherIsBetter: false, note: `all: ${failoverMs.map((ms) => Math.round(ms)).join(', ')} ms; lease TTL ${LEASE_TTL_MS} ms` },
    ];
  } finally {
    for (const store of stores) await store.close().catch(() => undefined);
    await etcd.stop();
    cleanup();
  }
}
