/**
 * `npm run bench`: the load test. Runs each workload on a store in a temporary directory, one after the
 * other (never two at once: the machine's cores are shared), and prints a table with every figure beside
 * its same-run baseline. `--quick` uses small sizes; `--json` prints the rows as JSON instead.
 */
import fs from 'node:fs';
import os from 'node:os';
import { CRC32C_PATH } from '../src/crc32c.js';
import { benchCommitOffsets } from './commit-offsets.js';
import { benchDurabilitySweep } from './durability-sweep.js';
import { benchIdleCpu } from './idle-cpu.js';
import { benchHandoff } from './handoff.js';
import { benchWriteSteps } from './write-steps.js';
import { benchKafka } from './kafka.js';
import { benchMemory, MEMORY_WORKLOAD } from './memory.js';
import { benchCluster } from './cluster.js';
import { spawnSync } from 'node:child_process';
import { benchReadsAndMemory } from './reads-memory.js';
import { renderHtml, type BenchRun } from './html-report.js';
import { peersHtmlSection, renderPeerTable, runPeers, type PeerRow } from './peers.js';
import { renderTable, type BenchRow } from './lib.js';
import { benchRecovery } from './recovery.js';
import { benchColdStart } from './cold-start.js';
import { benchMetadataOps } from './metadata-ops.js';
import { benchRings } from './ring-throughput.js';

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const json = process.argv.includes('--json');
  // `--only reads` (or commits, steps, handoff, idle, sweep, metadata, rings, recovery, snapshots, kafka, cluster, memory) runs one group of workloads.
  const onlyAt = process.argv.indexOf('--only');
  const only = onlyAt >= 0 ? process.argv[onlyAt + 1] : undefined;
  const runs = (name: string): boolean => only === undefined || only === name;
  const rows: BenchRow[] = [];
  const progress = (message: string): void => {
    process.stderr.write(`[bench] ${message}\n`);
  };
  progress(`machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}, crc32c ${CRC32C_PATH}`);
  if (runs('commits')) progress('commitOffsets (fsync)…');
  if (runs('commits')) rows.push(...(await benchCommitOffsets(quick ? { inFlightCommits: 50_000, sequentialCommits: 2_000 } : { inFlightCommits: 300_000, sequentialCommits: 10_000 })));
  if (runs('steps')) progress('the write path step by step…');
  if (runs('steps')) rows.push(...(await benchWriteSteps(quick ? 0.2 : 1)));
  if (runs('handoff')) progress('hand-offs: the writer sleeping at once, or looking first…');
  if (runs('handoff')) rows.push(...(await benchHandoff(quick ? { inFlightCommits: 20_000, sequentialCommits: 1_000, spins: [50] } : { inFlightCommits: 100_000, sequentialCommits: 5_000, spins: [20, 50, 200] })));
  if (runs('idle')) progress('idle store CPU…');
  if (runs('idle')) rows.push(...(await benchIdleCpu(quick ? 2 : 10)));
  if (runs('sweep')) progress('durability sweep (fsync, interval 1/10/100 ms, none)…');
  if (runs('sweep')) rows.push(...(await benchDurabilitySweep(quick ? { inFlightCommits: 20_000, sequentialCommits: 1_000 } : { inFlightCommits: 100_000, sequentialCommits: 5_000 })));
  if (runs('metadata')) {
    progress('topics, lookups, commits, groups (fsync)…');
    rows.push(...(await benchMetadataOps(quick ? { topicCreates: 2_000, lookups: 1_000_000, commits: 20_000, groupUpserts: 2_000 } : { topicCreates: 10_000, lookups: 1_000_000, commits: 100_000, groupUpserts: 10_000 })));
  }
  if (runs('rings')) {
    progress('ring throughput between threads…');
    rows.push(...(await benchRings(quick ? 1_000_000 : 5_000_000)));
  }
  for (const events of !runs('recovery') ? [] : quick ? [1_000, 100_000] : [1_000, 100_000, 1_000_000]) {
    progress(`replay of ${events} events…`);
    rows.push(...(await benchRecovery(events)));
  }
  if (runs('snapshots')) {
    progress('snapshot: cold start and writes during a snapshot…');
    rows.push(...(await benchColdStart(quick ? { topics: 10_000, offsets: 100_000 } : { topics: 100_000, offsets: 1_000_000 })));
  }
  if (runs('kafka')) {
    const sizes = quick
      ? { commitRequests: 1_000, produceBytes: 16 * 2 ** 20, endToEndRecords: 200, groupSizes: [3, 10] }
      : { commitRequests: 20_000, produceBytes: 256 * 2 ** 20, endToEndRecords: 2_000, groupSizes: [3, 10, 50, 100] };
    rows.push(...(await benchKafka(sizes, progress)));
  }
  if (runs('cluster')) {
    // Needs etcd (Debian's etcd-server); without it the row is left out, saying so.
    if (spawnSync('etcd', ['--version']).status === 0) {
      rows.push(...(await benchCluster(quick ? { commits: 5_000, engineAppends: 200, lagSamples: 100, failovers: 1 } : { commits: 50_000, engineAppends: 1_000, lagSamples: 500, failovers: 3 }, progress)));
    } else {
      progress('cluster: left out: etcd is not installed (apt-get install etcd-server)');
    }
  }
  // In child processes of its own: this process's heap does not count.
  if (runs('memory')) rows.push(...(await benchMemory(quick ? { topics: 5_000, offsets: 12_000, lookups: 200_000 } : MEMORY_WORKLOAD, progress)));
  // Last: it leaves the largest heap behind, which would slow the workloads after it.
  if (runs('reads')) progress('point reads, reader pool, mixed load and memory…');
  if (runs('reads')) rows.push(...(await benchReadsAndMemory(quick ? { topics: 10_000, offsets: 120_000, lookups: 1_000_000 } : { topics: 100_000, offsets: 1_000_000, lookups: 5_000_000 })));
  // `--peers`: the embedded peers too (installed by `npm run bench:peers`), in the table and the page.
  let peerRows: PeerRow[] | null = null;
  if (process.argv.includes('--peers')) {
    progress('embedded peers (lmdb, better-sqlite3, classic-level)…');
    peerRows = await runPeers(quick);
  }
  const run: BenchRun = {
    date: new Date().toISOString(),
    node: process.version,
    cpus: os.cpus().length,
    crc32cPath: CRC32C_PATH,
    machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.platform()} ${os.release()}`,
    command: `node dist/bench/run.js ${process.argv.slice(2).join(' ')}`.trim(),
    rows,
    peersHtml: peerRows === null ? undefined : peersHtmlSection(peerRows),
  };
  // `--html FILE` also writes the run as a self-contained page.
  const htmlAt = process.argv.indexOf('--html');
  if (htmlAt >= 0) {
    const file = process.argv[htmlAt + 1];
    if (file === undefined || file.startsWith('--')) throw new Error('--html needs a file name');
    fs.writeFileSync(file, renderHtml(run));
    progress(`report written to ${file}`);
  }
  if (json) {
    process.stdout.write(`${JSON.stringify({ ...run, peersHtml: undefined, peers: peerRows ?? undefined }, null, 2)}\n`);
  } else {
    process.stdout.write(`${renderTable(rows)}\n`);
    if (peerRows !== null) process.stdout.write(`\n${renderPeerTable(peerRows)}\n`);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
});
