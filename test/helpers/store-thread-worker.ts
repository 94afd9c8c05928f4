/**
 * A worker thread on an open store (`MetaLog.attach`), for the cross-thread tests, and the
 * self-checking values those tests write.
 *
 * Self-checking values (written by the main thread, checked here while the writer keeps changing them):
 * - group CHECK_GROUP commits offset n to all CHECK_PARTITIONS partitions of CHECK_TOPIC in one atomic
 *   commit, with metadata `m<n>`: a reader must see every partition at the same n (no half batch), each
 *   metadata matching its offset (no torn value), and n never going back;
 * - topic CHECK_TOPIC gets retention.ms = retention.bytes = n in one config change: equal, never back;
 * - group CHECK_GROUP's record has generation n and 1 + n % 4 members whose assignment bytes spell n.
 *
 * Tasks (workerData.task):
 * - 'check': read those values until `stop` word 0 is set, then post the counts;
 * - 'echo': answer messages: { write: name } creates topic `name` here and replies once it resolved;
 *   { read: name } replies whether `getTopic(name)` is there, read synchronously on arrival;
 * - 'write-and-crash': create topic 'left-behind' (which opens this handle's event cursor), post
 *   'wrote', and die of an uncaught error without closing the handle.
 * - 'write-hang-write': create topic 'before-hang', post 'wrote', block the thread (Atomics.wait on
 *   `stop` word 0, so its handle consumes nothing) until the parent sets it, then create 'after-hang'
 *   and post the outcome of that write ('wrote again' or the error's code).
 * The first two close (detach) the handle before the thread ends.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { MetaLog, type StoreHandle } from '../../src/index.js';

export const CHECK_TOPIC = 'checked-topic';
export const CHECK_GROUP = 'checked-group';
export const CHECK_PARTITIONS = 6;

export interface StoreThreadTask {
  task: 'check' | 'echo' | 'write-and-crash' | 'write-hang-write';
  handle: StoreHandle;
  /** Int32 word 0: set to 1 to stop a 'check' task. */
  stop: SharedArrayBuffer;
}

export interface CheckCounts {
  offsetReads: number;
  offsetListReads: number;
  topicReads: number;
  groupReads: number;
  highestOffsetSeen: number;
}

/** Assignment bytes that spell the generation. */
export function generationBytes(generation: number): Uint8Array {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setUint32(0, generation);
  return bytes;
}

function fail(message: string): never {
  throw new Error(`cross-thread check failed: ${message}`);
}

/** Yields to the event loop now and then, as any thread holding a handle should. */
const YIELD_EVERY_ROUNDS = 256;

async function check(log: MetaLog, stop: Int32Array): Promise<CheckCounts> {
  const counts: CheckCounts = { offsetReads: 0, offsetListReads: 0, topicReads: 0, groupReads: 0, highestOffsetSeen: -1 };
  const lastByPartition = new Array<number>(CHECK_PARTITIONS).fill(-1);
  let lastListed = -1;
  let lastRetention = -1;
  let lastGeneration = -1;
  // Bounded by the stop word, which the main thread sets after its writes.
  for (let round = 1; Atomics.load(stop, 0) === 0; round++) {
    if (round % YIELD_EVERY_ROUNDS === 0) await new Promise((resolve) => setImmediate(resolve));
    for (let partition = 0; partition < CHECK_PARTITIONS; partition++) {
      const committed = log.fetchOffset(CHECK_GROUP, CHECK_TOPIC, partition);
      counts.offsetReads++;
      if (committed === undefined) continue;
      if (committed.metadata !== `m${committed.offset}`) fail(`partition ${partition}: offset ${committed.offset} with metadata ${committed.metadata}`);
      if (committed.offset < lastByPartition[partition]) fail(`partition ${partition}: offset went back from ${lastByPartition[partition]} to ${committed.offset}`);
      lastByPartition[partition] = committed.offset;
    }
    const listed = log.fetchOffsets(CHECK_GROUP);
    counts.offsetListReads++;
    if (listed.length > 0) {
      if (listed.length !== CHECK_PARTITIONS) fail(`fetchOffsets listed ${listed.length} partitions`);
      const offset = listed[0].offset;
      for (const entry of listed) {
        if (entry.offset !== offset) fail(`half a commit: partition ${entry.partition} at ${entry.offset}, partition 0 at ${offset}`);
        if (entry.metadata !== `m${entry.offset}`) fail(`listed offset ${entry.offset} with metadata ${entry.metadata}`);
      }
      if (offset < lastListed) fail(`fetchOffsets went back from ${lastListed} to ${offset}`);
      lastListed = offset;
      counts.highestOffsetSeen = Math.max(counts.highestOffsetSeen, offset);
    }
    const topic = log.getTopic(CHECK_TOPIC);
    counts.topicReads++;
    if (topic !== undefined && topic.configs['retention.ms'] !== undefined) {
      const retention = Number(topic.configs['retention.ms']);
      if (topic.configs['retention.bytes'] !== topic.configs['retention.ms']) fail(`configs changed apart: ${JSON.stringify(topic.configs)}`);
      if (retention < lastRetention) fail(`retention.ms went back from ${lastRetention} to ${retention}`);
      if (topic.partitions.length !== CHECK_PARTITIONS) fail(`topic has ${topic.partitions.length} partitions`);
      lastRetention = retention;
    }
    const group = log.getGroup(CHECK_GROUP);
    counts.groupReads++;
    if (group !== undefined) {
      if (group.generation < lastGeneration) fail(`generation went back from ${lastGeneration} to ${group.generation}`);
      if (group.members.length !== 1 + (group.generation % 4)) fail(`generation ${group.generation} with ${group.members.length} members`);
      for (const member of group.members) {
        const spelled = new DataView(member.assignment.buffer, member.assignment.byteOffset, member.assignment.byteLength).getUint32(0);
        if (spelled !== group.generation) fail(`generation ${group.generation} with a member assigned ${spelled}`);
      }
      lastGeneration = group.generation;
    }
  }
  return counts;
}

if (!isMainThread && parentPort !== null) {
  const port = parentPort;
  const { task, handle, stop } = workerData as StoreThreadTask;
  const log = MetaLog.attach(handle);
  if (task === 'write-hang-write') {
    await log.createTopic({ name: 'before-hang', partitions: 1 });
    port.postMessage('wrote');
    const stopWords = new Int32Array(stop);
    // Bounded: the parent sets the word after its writes; the wait gives up after a minute.
    Atomics.wait(stopWords, 0, 0, 60_000);
    // Written at once, before this thread's consume loop has run: the write itself must notice that the
    // writer evicted this handle's cursor meanwhile, and go out on a new one.
    try {
      await log.createTopic({ name: 'after-hang', partitions: 1 });
      port.postMessage('wrote again');
    } catch (error) {
      port.postMessage((error as { code?: string }).code ?? String(error));
    }
    await log.close();
  } else if (task === 'write-and-crash') {
    await log.createTopic({ name: 'left-behind', partitions: 1 });
    port.postMessage('wrote');
    setImmediate(() => {
      throw new Error('the thread dies with its handle open');
    });
  } else if (task === 'check') {
    let counts: CheckCounts;
    try {
      counts = await check(log, new Int32Array(stop));
    } finally {
      await log.close();
    }
    port.postMessage(counts);
  } else {
    port.on('message', (message: { write?: string; read?: string; close?: true }) => {
      if (message.read !== undefined) {
        port.postMessage({ read: message.read, found: log.getTopic(message.read) !== undefined });
      } else if (message.write !== undefined) {
        const name = message.write;
        log.createTopic({ name, partitions: 1 }).then(
          () => port.postMessage({ wrote: name }),
          (error: Error) => port.postMessage({ wrote: name, error: error.message }),
        );
      } else if (message.close === true) {
        void log.close().then(() => {
          port.postMessage({ closed: true });
          port.close();
        });
      }
    });
    port.postMessage({ ready: true });
  }
}
