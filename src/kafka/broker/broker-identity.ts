/**
 * Who this broker is in the store, settled at every start:
 * 1. the cluster id, minted once and kept in the store (Metadata and DescribeCluster answer it);
 * 2. a registration with a new broker epoch (one above the last one this node id registered with), so
 *    an older process of the same id can no longer act for it;
 * 3. leadership of every partition with no live leader, through the store's epoch-fenced partition
 *    change (a single node leads everything it serves; the leader epoch moves when leadership does).
 */
import type { MetaLog } from '../../index.js';
import type { BrokerIdentity } from './broker-state.js';

export async function settleIdentity(store: MetaLog, nodeId: number, host: string, port: number): Promise<BrokerIdentity> {
  const clusterId = await store.initCluster();
  const brokerEpoch = (store.getBroker(nodeId)?.brokerEpoch ?? 0) + 1;
  await store.registerBroker({ brokerId: nodeId, host, port, rack: null, brokerEpoch });
  await leadEveryPartition(store, nodeId);
  return { nodeId, host, port, clusterId };
}

/** Takes every partition this node does not lead yet; a single node is every partition's only replica. */
export async function leadEveryPartition(store: MetaLog, nodeId: number): Promise<void> {
  const changes: Promise<unknown>[] = [];
  for (const topic of store.listTopics()) {
    for (const partition of topic.partitions) {
      if (partition.leader === nodeId && partition.isr.includes(nodeId)) continue;
      changes.push(
        store.changePartition(topic.name, partition.partition, {
          expectedPartitionEpoch: partition.partitionEpoch,
          leader: nodeId,
          isr: [nodeId],
          replicas: [nodeId],
        }),
      );
    }
  }
  await Promise.all(changes);
}
