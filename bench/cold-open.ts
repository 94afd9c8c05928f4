/**
 * One cold open, in a fresh process (what a broker restart is): imports the package entry, opens the
 * store in argv[2], reads one topic and one committed offset, checks them, and prints the times as one
 * JSON line. Run by cold-open-runner.ts (for cold-start.ts and recovery.ts), so the open is measured without the benchmark's own
 * heap and warm code around it.
 *
 * The split: `importMs` (the package entry and what it loads), then `openMs` = `threadStartMs` (from
 * the call until the writer thread begins its recovery: the opening thread's setup, the thread's start
 * and its module loading) + `replayMs` (the writer's recovery) + the rest (READY crossing back, the
 * handle's setup), then `firstReadMs`.
 */
const [dir, topic, group, offsetTopic, partitionText, expectedText] = process.argv.slice(2);
const started = performance.now();
const { MetaLog } = await import('../src/index.js');
const imported = performance.now();
const importCpu = process.cpuUsage();
const log = await MetaLog.open({ dir, snapshotEveryEvents: 0, snapshotIntervalMs: 0 });
const opened = performance.now();
const found = log.getTopic(topic);
const committed = log.fetchOffset(group, offsetTopic, Number(partitionText));
const read = performance.now();
const openCpu = process.cpuUsage(importCpu);
const correct = found !== undefined && committed?.offset === Number(expectedText);
process.stdout.write(`${JSON.stringify({
  importMs: imported - started,
  // CPU time of the whole process (all threads), before and after the import: steadier than the
  // elapsed times on a busy machine.
  importCpuMs: (importCpu.user + importCpu.system) / 1000,
  openCpuMs: (openCpu.user + openCpu.system) / 1000,
  openMs: opened - imported,
  threadStartMs: log.recovery.recoveryStartedAtMs - (performance.timeOrigin + imported),
  replayMs: log.recovery.durationMs - (log.recovery.snapshot?.restoreMs ?? 0),
  firstReadMs: read - opened,
  totalMs: read - imported,
  correct,
  snapshotOffset: log.recovery.snapshot?.lastOffset ?? null,
  restoreMs: log.recovery.snapshot?.restoreMs ?? 0,
  replayedEvents: log.recovery.replayedEvents,
})}\n`);
await log.close();
