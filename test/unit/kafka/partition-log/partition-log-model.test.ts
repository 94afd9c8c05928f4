/**
 * A seeded random walk over the partition log against a model (an array of the values at each offset):
 * appends of plain and gzip batches, reads from random offsets with random byte limits (decoded by
 * kafkajs), DeleteRecords, and close-and-reopen, with tiny segments so rolls happen often. After every
 * step the log's offsets and the records it serves equal the model's. SEED=<n> replays one seed; the seed
 * is printed on failure.
 */
import test from 'ava';
import { NodeLogStorage } from '../../../../src/kafka/partition-log/log-storage.js';
import { PartitionLog } from '../../../../src/kafka/partition-log/partition-log.js';
import { tmpDir } from '../../../helpers/tmp.js';
import { buildBatch, consumeWithKafkajs } from './batches.js';

const NOW_MS = 1_700_000_000_000;
const STEP_COUNT = 60;
const SEEDS = process.env.SEED !== undefined ? [Number(process.env.SEED)] : [1, 2, 3];

/** mulberry32: a small seeded PRNG, so a failing walk replays exactly. */
function prng(seed: number): (below: number) => number {
  let state = seed >>> 0;
  return (below) => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = state;
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return (((mixed ^ (mixed >>> 14)) >>> 0) % below);
  };
}

for (const seed of SEEDS) {
  test(`random appends, reads, deletes and reopens match the model (seed ${seed})`, async (t) => {
    t.log(`SEED=${seed}`);
    const random = prng(seed);
    const dir = tmpDir(t);
    const config = { segmentBytes: 400, indexIntervalBytes: 100 };
    const open = (logStartOffset: number) => PartitionLog.open({ storage: new NodeLogStorage(), dirPath: dir, config, logStartOffset });
    const model: string[] = [];
    let logStart = 0;
    let rollCount = 0;
    let reopenCount = 0;
    let log = await open(0);
    for (let step = 0; step < STEP_COUNT; step++) {
      const action = random(10);
      if (action < 5) {
        const count = 1 + random(4);
        const batchValues = Array.from({ length: count }, (_, i) => `s${step}-${i}`);
        const result = await log.append(await buildBatch({ values: batchValues, compression: random(2) === 0 ? 'gzip' : 'none' }), 0, NOW_MS);
        t.is(result.baseOffset, model.length, `step ${step}: base offset`);
        model.push(...batchValues);
        rollCount += result.rolledSegments.length;
      } else if (action < 8) {
        const fetchOffset = logStart + random(model.length - logStart + 1);
        const read = await log.read(fetchOffset, 1 + random(600), model.length);
        const records = await consumeWithKafkajs(read.records);
        if (fetchOffset === model.length) t.is(records.length, 0, `step ${step}: nothing past the end`);
        else t.true(records.length > 0 && records[0][0] <= fetchOffset, `step ${step}: starts with the batch holding ${fetchOffset}`);
        for (const [offset, value] of records) t.is(value, model[offset], `step ${step}: offset ${offset}`);
      } else if (action < 9) {
        const before = logStart + random(model.length - logStart + 1);
        const result = await log.deleteRecordsBefore(before);
        logStart = Math.max(logStart, before);
        t.is(result.logStartOffset, logStart, `step ${step}: log start`);
      } else {
        await log.close();
        log = await open(logStart);
        reopenCount++;
        t.is(log.recovery.truncatedBytes, 0, `step ${step}: a clean close leaves nothing to cut`);
      }
      t.is(log.logEndOffset, model.length, `step ${step}: log end`);
      t.is(log.logStartOffset, logStart, `step ${step}: log start`);
    }
    t.true(rollCount > 0 && reopenCount > 0, `the walk rolled (${rollCount}) and reopened (${reopenCount})`);
    await log.close();
  });
}
