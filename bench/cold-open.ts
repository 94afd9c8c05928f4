/**
 * One cold open, in a fresh process (what a broker restart is): opens the store in argv[2], reads one
 * topic and one committed offset, checks them, and prints the times as one JSON line. Used by
 * cold-start.ts, so the open is measured without the benchmark's own heap and warm code around it.
 */
import { MetaLog } from '../src/api/metalog.js';

const [dir, topic, group, offsetTopic, partitionText, expectedText] = process.argv.slice(2);
const started = performance.now();
const log = await MetaLog.open({ dir, snapshotEveryEvents: 0, snapshotIntervalMs: 0 });
const opened = performance.now();
const found = log.getTopic(topic);
const committed = log.fetchOffset(group, offsetTopic, Number(partitionText));
const read = performance.now();
const correct = found !== undefined && committed?.offset === Number(expectedText);
process.stdout.write(`${JSON.stringify({
  openMs: opened - started,
  firstReadMs: read - opened,
  totalMs: read - started,
  correct,
  snapshotOffset: log.recovery.snapshot?.lastOffset ?? null,
  restoreMs: log.recovery.snapshot?.restoreMs ?? 0,
  replayedEvents: log.recovery.replayedEvents,
})}\n`);
await log.close();
