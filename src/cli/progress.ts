/**
 * A one-line progress bar on stderr for long CLI work (verify, backup, restore), drawn only when stderr
 * is a terminal: piped or captured output (scripts, CI, `--json` consumers) never sees it.
 */
const WIDTH = 30;
const LINE = 100;

export class Progress {
  private readonly enabled = process.stderr.isTTY === true;
  private lastDrawMs = 0;
  private drawn = false;

  constructor(private readonly label: string) {}

  /** Shows `done` of `total` (at most about 10 times a second, and always the last step). */
  update(done: number, total: number, detail = ''): void {
    if (!this.enabled || total <= 0) return;
    const now = Date.now();
    if (done < total && now - this.lastDrawMs < 100) return;
    this.lastDrawMs = now;
    this.drawn = true;
    const filled = Math.round((WIDTH * Math.min(done, total)) / total);
    process.stderr.write(`\r${`${this.label} [${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}] ${done}/${total} ${detail}`.padEnd(LINE).slice(0, LINE)}`);
  }

  /** Clears the line (if one was drawn). */
  finish(): void {
    if (this.drawn) process.stderr.write(`\r${' '.repeat(LINE)}\r`);
  }
}
