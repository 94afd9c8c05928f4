/**
 * What each step of the write path costs per write, on one thread, with nothing else in the way: the
 * caller's checks and encoding, the writer's decoding, its batch work (decide, encode, checksum, apply
 * to its state, append, apply to the shared index, the acknowledgement record), the caller's decoding of
 * that acknowledgement and its read of the result, and the disk's share (write + fdatasync per 64, the
 * same-run raw baseline). Three writes: a one-partition offset commit, a topic of 6 partitions with 3
 * replicas and a config, and a consumer group of 55 members.
 *
 * The sum is the CPU floor of a write; the commit and metadata benches measure the whole path, whose
 * CPU per write beyond this sum is the thread hand-offs (see --only handoff), promises and GC.
 */
import fs from 'node:fs';
import v8 from 'node:v8';
import path from 'node:path';
import { SYSTEM_CLOCK } from '../src/clock.js';
import { decodeCommand, encodeCommand, type CommandMessage } from '../src/commands/command-codec.js';
import { checkCommitOffsetsInput, checkCreateTopicInput, checkRegisterBrokerInput, checkUpsertGroupInput, type Command } from '../src/commands/commands.js';
import { resolveConfig } from '../src/config.js';
import { allocateStoreMetricsBuffers } from '../src/metrics/metrics-buffers.js';
import { WriterStatsRecorder } from '../src/metrics/writer-stats.js';
import { allocateStoreIndex, StoreIndexReader } from '../src/store-index/store-index.js';
import { storageFor } from '../src/wal/storage.js';
import { decodeBatch } from '../src/writer/batch-record.js';
import { openSnapshot, recoverWriter } from '../src/writer/recover-writer.js';
import { benchDir, check, type BenchRow } from './lib.js';
import { groupWith } from './metadata-ops.js';
import { rawGroupCommit } from './raw-baseline.js';
import { threadRunNanos } from './thread-cpu.js';

/** Writes per writer batch, as with 64 calls in flight. */
const BATCH = 64;

/**
 * CPU microseconds per call of `step` on this thread, over `count` calls after a tenth as many to warm
 * up. The thread's own CPU (its collections included, V8's helper threads not: see threadRunNanos), or
 * the process's where the thread's is not readable.
 */
function cpuMicros(count: number, step: (i: number) => unknown): number {
  // From a collected heap: what the steps before left behind is not this step's to collect.
  (globalThis as { gc?: () => void }).gc?.();
  for (let i = 0; i < Math.ceil(count / 10); i++) step(i);
  const threadBefore = threadRunNanos();
  const before = process.cpuUsage();
  for (let i = 0; i < count; i++) step(i);
  const threadAfter = threadRunNanos();
  if (threadBefore !== null && threadAfter !== null) return (threadAfter - threadBefore) / 1000 / count;
  const used = process.cpuUsage(before);
  return (used.user + used.system) / count;
}

/**
 * Heap bytes allocated per call of `step` (what the garbage collector will have to clear): the growth of
 * the used heap over `count` calls made right after a full collection, few enough that no collection
 * runs in between (the young generation holds several MiB). Needs --expose-gc (npm run bench has it);
 * without it, NaN.
 */
function allocatedBytes(count: number, step: (i: number) => unknown): number {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (collect === undefined) return Number.NaN;
  collect();
  // A full collection may drop compiled code that the first calls then rebuild: not the step's garbage.
  for (let i = 0; i < 3; i++) step(i);
  const before = v8.getHeapStatistics().used_heap_size;
  for (let i = 3; i < count + 3; i++) step(i);
  return (v8.getHeapStatistics().used_heap_size - before) / count;
}


/** One kind of write: how the caller checks it, and how many times each step runs. */
interface WriteKind {
  name: string;
  /** The caller's input for write `i` (distinct where the store needs them distinct), built before any timing. */
  input: (i: number) => unknown;
  /** The caller's check of an input, into the command. */
  check: (input: unknown) => Command;
  /** The caller's read of the result after the acknowledgement, if the API returns one. */
  readBack?: (reader: StoreIndexReader, i: number) => unknown;
  /** Bytes of its record in the WAL, for the disk's share. */
  recordBytes: number;
  iterations: number;
}

export async function benchWriteSteps(scale: number): Promise<BenchRow[]> {
  const { dir, cleanup } = benchDir('steps');
  const rows: BenchRow[] = [];
  const group55 = groupWith('cg-1', 7, 55);
  try {
    const kinds: WriteKind[] = [
      {
        name: 'commitOffsets (1 partition)',
        input: (i) => [{ topic: 'topic-0', partition: 0, offset: i }],
        check: (entries) => checkCommitOffsetsInput('bench-group', entries),
        recordBytes: 48,
        iterations: 200_000 * scale,
      },
      {
        name: 'createTopic (6 partitions × 3)',
        input: (i) => ({ name: `topic-${i + 1}`, partitions: 6, replicationFactor: 3, configs: { 'retention.ms': '604800000' } }),
        check: (topic) => checkCreateTopicInput(topic),
        readBack: (reader, i) => reader.getTopic(`topic-${i + 1}`),
        recordBytes: 400,
        iterations: 20_000 * scale,
      },
      {
        name: 'upsertGroup (55 members)',
        input: () => group55,
        check: (group) => checkUpsertGroupInput(group),
        // upsertGroup resolves to nothing: the caller reads nothing back.
        recordBytes: 7_400,
        iterations: 2_000 * scale,
      },
    ];
    for (const kind of kinds) {
      const storeDir = path.join(dir, kind.name.replace(/[^a-z]+/gi, '-'));
      fs.mkdirSync(storeDir);
      const config = resolveConfig({ dir: storeDir, durability: 'none' });
      const index = allocateStoreIndex();
      const metrics = allocateStoreMetricsBuffers();
      const stats = new WriterStatsRecorder(metrics.writerStats, metrics.counters, config.slowFsyncWarnMs);
      const storage = storageFor();
      const { core } = recoverWriter(config, storage, index, stats, openSnapshot(storeDir, index, storage), SYSTEM_CLOCK);
      const reader = new StoreIndexReader(index);
      // The state every write is decided on: three brokers and the topic commits go to.
      core.startBatch();
      for (let b = 1; b <= 3; b++) core.addCommand(0, b, checkRegisterBrokerInput({ brokerId: b, host: `broker-${b}`, port: 9092, rack: null, brokerEpoch: 1 }));
      core.addCommand(0, 4, checkCreateTopicInput({ name: 'topic-0', partitions: 6, replicationFactor: 3 }));
      check(core.finishBatch() !== null, 'the setup batch is acknowledged');

      const n = kind.iterations;
      // Writes over which allocation is measured: enough to spread any fixed cost, few enough (a few MiB
      // of garbage at most) that no collection runs meanwhile.
      const few = Math.max(64, Math.min(2_000, Math.floor(400_000 / kind.recordBytes)));
      const scratch = Buffer.allocUnsafe(1 << 20);
      const inputs = Array.from({ length: Math.ceil(n * 1.3) + BATCH * 64 }, (_, i) => kind.input(i));
      const commands = inputs.map((input) => kind.check(input));
      const checkUs = cpuMicros(n, (i) => kind.check(inputs[i]));
      const encodeUs = cpuMicros(n, (i) => encodeCommand(1, i, commands[i], scratch));
      // Ring bytes of every command, decoded once each by the writer step (as the writer does).
      const encoded = commands.map((command, i) => Uint8Array.prototype.slice.call(scratch, 0, encodeCommand(1, i, command, scratch)));
      const decodeUs = cpuMicros(n, (i) => decodeCommand(encoded[i]));
      const messages = encoded.map((bytes) => decodeCommand(bytes)) as Extract<CommandMessage, { kind: 'command' }>[];
      // The writer's batch work, BATCH commands a batch, as its thread runs it (durability none: no fdatasync).
      let record: Buffer | null = null;
      let next = 0;
      const batches = Math.floor(n / BATCH);
      const writerBatch = (): void => {
        core.startBatch();
        for (let k = 0; k < BATCH; k++) {
          const message = messages[next++ % messages.length];
          core.addCommand(message.handleId, message.seq, message.command, message.payload);
        }
        record = core.finishBatch();
      };
      const writerUs = cpuMicros(batches, writerBatch) / BATCH;
      const writerAllocated = allocatedBytes(Math.max(2, Math.floor(few / BATCH)), writerBatch) / BATCH;
      check(record !== null && decodeBatch(record).results.every((result) => result.error === null), `${kind.name}: every write of the last batch is accepted`);
      const ackUs = cpuMicros(batches, () => decodeBatch(record as Buffer)) / BATCH;
      const readBack = kind.readBack;
      const readUs = readBack === undefined ? 0 : cpuMicros(Math.min(n, next), (i) => readBack(reader, i));
      core.close();
      const diskUs = 1e6 / rawGroupCommit(BATCH, kind.recordBytes, BATCH * 500);
      // Allocation per write, measured over a few writes each (see allocatedBytes).
      const allocations: Record<string, number> = {
        check: allocatedBytes(few, (i) => kind.check(inputs[i])),
        encode: allocatedBytes(few, (i) => encodeCommand(1, i, commands[i], scratch)),
        decode: allocatedBytes(few, (i) => decodeCommand(encoded[i])),
        writer: writerAllocated,
      };
      const steps: [string, number][] = [
        ['caller: check the input', checkUs],
        ['caller: encode the command', encodeUs],
        ['writer: decode the command', decodeUs],
        ['writer: decide, encode, CRC, apply, append, index, acknowledgement (64 a batch)', writerUs],
        ['caller: decode the acknowledgement', ackUs],
        ['caller: read the result back', readUs],
      ];
      const total = steps.reduce((sum, [, us]) => sum + us, 0);
      const allocationOf = (step: string): string | undefined => {
        const bytes = step.startsWith('caller: check') ? allocations.check : step.startsWith('caller: encode') ? allocations.encode : step.startsWith('writer: decode') ? allocations.decode : step.startsWith('writer: decide') ? allocations.writer : undefined;
        return bytes === undefined || Number.isNaN(bytes) ? undefined : `${Math.round(bytes)} B allocated per write`;
      };
      for (const [step, us] of steps) rows.push({ workload: `step: ${kind.name}`, metric: step, value: us, unit: 'µs CPU', higherIsBetter: false, note: allocationOf(step) });
      rows.push({ workload: `step: ${kind.name}`, metric: 'sum of the CPU steps', value: total, unit: 'µs CPU', higherIsBetter: false });
      rows.push({ workload: `step: ${kind.name}`, metric: 'disk: write + fdatasync per 64, per write (raw)', value: diskUs, unit: 'µs', higherIsBetter: false });
    }
    return rows;
  } finally {
    cleanup();
  }
}
