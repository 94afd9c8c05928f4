/**
 * `npm run bench:peers`: installs the peers into bench/peers/ (the npm script does) and runs their
 * workloads beside chronik-metalog (peers.ts). `--quick` for small sizes, `--json` for machines,
 * `--html FILE` for a page with the table and charts.
 */
import fs from 'node:fs';
import os from 'node:os';
import { escape, page } from './html-report.js';
import { peersHtmlSection, renderPeerTable, runPeers } from './peers.js';

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const heading = `${new Date().toISOString()} · ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'} · Node ${process.version}`;
  process.stderr.write(`[bench:peers] ${heading}\n`);
  const rows = await runPeers(quick);
  const htmlAt = process.argv.indexOf('--html');
  if (htmlAt >= 0) {
    const file = process.argv[htmlAt + 1];
    if (file === undefined || file.startsWith('--')) throw new Error('--html needs a file name');
    fs.writeFileSync(file, page('chronik-metalog and embedded peers', `<h1>chronik-metalog beside embedded peers</h1><p>${escape(heading)}</p>\n${peersHtmlSection(rows)}`));
  }
  if (process.argv.includes('--json')) process.stdout.write(`${JSON.stringify({ date: new Date().toISOString(), node: process.version, rows }, null, 2)}\n`);
  else process.stdout.write(`${renderPeerTable(rows)}\n(ratio: the peer's figure against chronik-metalog's in the same run; above 1 the peer is better)\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:peers failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
});
