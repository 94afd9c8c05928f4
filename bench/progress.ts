/**
 * Progress of the load test on stderr (cli-progress): one bar per measured loop, so a 10-minute run
 * shows where it is. Bars draw only on a terminal; elsewhere (CI logs, pipes) each loop prints one line
 * when it starts. Stdout stays the table (or the JSON) alone.
 *
 * Loops report in steps (`drive` every 256 calls, lookup loops per chunk), so the bar costs nothing
 * measurable next to what it measures.
 */
import cliProgress from 'cli-progress';

let bar: cliProgress.SingleBar | null = null;
let lastValue = 0;

/** Starts a bar for a loop of `total` steps; ends any bar still open. */
export function startProgress(label: string, total: number): void {
  stopProgress();
  if (!process.stderr.isTTY) {
    process.stderr.write(`[bench]   ${label} (${total.toLocaleString('en-US')})\n`);
    return;
  }
  bar = new cliProgress.SingleBar(
    { stream: process.stderr, format: `  ${label.padEnd(48).slice(0, 48)} [{bar}] {percentage}% {value}/{total} {eta_formatted}`, fps: 5, hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  lastValue = 0;
  bar.start(total, 0);
}

/** Moves the open bar to `value` (steps done so far). */
export function updateProgress(value: number): void {
  if (bar === null || value === lastValue) return;
  lastValue = value;
  bar.update(value);
}

/** Ends the open bar, if any. */
export function stopProgress(): void {
  if (bar === null) return;
  bar.stop();
  bar = null;
}
