/**
 * One node of a replicated store in a process of its own (forked by cluster-node.ts): opens the store in
 * argv[2] with the etcd log described by argv[3] (JSON), says "ready", then answers requests over IPC:
 *   { id, op: 'commit', group, topic, partition, offset }  → a commitOffsets of one entry
 *   { id, op: 'createTopic', name, partitions }
 *   { id, op: 'read', group, topic, partition }           → the committed offset this node serves (or null)
 *   { id, op: 'state' }                                   → { lastOffset, digest } (sha256 of canonicalState)
 *   { id, op: 'waitForOffset', offset }
 *   { id, op: 'commits' }                                 → every OffsetsCommitted in this node's log, in order
 *   { id, op: 'close' }
 * Replies { id, ok: true, value } or { id, ok: false, code, details, message }. The parent kills it by PID
 * (SIGKILL, SIGSTOP/SIGCONT) to test what the cluster does without it.
 */
import crypto from 'node:crypto';
import { MetaLog } from '../../src/api/metalog.js';
import { MetaLogError } from '../../src/errors.js';
import type { LogConfigInput } from '../../src/config.js';

interface Request {
  id: number;
  op: string;
  [key: string]: unknown;
}

async function answer(store: MetaLog, request: Request): Promise<unknown> {
  switch (request.op) {
    case 'commit':
      await store.commitOffsets(request.group as string, [{ topic: request.topic as string, partition: request.partition as number, offset: request.offset as number }]);
      return null;
    case 'createTopic':
      await store.createTopic({ name: request.name as string, partitions: request.partitions as number });
      return null;
    case 'read':
      return store.fetchOffset(request.group as string, request.topic as string, request.partition as number)?.offset ?? null;
    case 'state':
      return { lastOffset: store.lastOffset, digest: crypto.createHash('sha256').update(store.canonicalState()).digest('hex') };
    case 'waitForOffset':
      await store.waitForOffset(request.offset as number);
      return store.lastOffset;
    case 'commits': {
      const commits: { offset: number; group: string; topic: string; partition: number; value: number }[] = [];
      for (let from = 0; ; ) {
        const page = await store.history({ types: ['OffsetsCommitted'], fromOffset: from });
        for (const event of page) {
          const value = event.value as { groupId: string; entries: { topic: string; partition: number; offset: number }[] };
          for (const entry of value.entries) commits.push({ offset: event.offset, group: value.groupId, topic: entry.topic, partition: entry.partition, value: entry.offset });
        }
        if (page.length === 0) break;
        from = page[page.length - 1].offset + 1;
      }
      return commits;
    }
    case 'close':
      await store.close();
      return null;
    default:
      throw new Error(`unknown op ${request.op}`);
  }
}

async function main(): Promise<void> {
  const dir = process.argv[2];
  const log = JSON.parse(process.argv[3]) as LogConfigInput;
  const store = await MetaLog.open({ dir, log, durability: 'fsync' });
  let closing = false;
  // The parent gone without stopping this node (its test timed out or crashed): do not outlive it.
  process.on('disconnect', () => process.exit(closing ? 0 : 2));
  process.on('message', (message) => {
    const request = message as Request;
    answer(store, request).then(
      (value) => {
        process.send?.({ id: request.id, ok: true, value });
        if (request.op === 'close') {
          closing = true;
          process.disconnect();
        }
      },
      (error: unknown) => {
        const failure = error instanceof MetaLogError ? error : MetaLogError.wrap(error);
        process.send?.({ id: request.id, ok: false, code: failure.code, details: failure.details, message: failure.message });
      },
    );
  });
  process.send?.({ ready: true });
}

// Warnings of etcd trouble (a member killed by the test) are expected here; the parent reads results.
process.removeAllListeners('warning');
main().catch((error: unknown) => {
  process.stderr.write(`cluster node failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
