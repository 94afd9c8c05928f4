/**
 * Runs kcat (librdkafka's command-line client, installed from Debian by .ci/run) without blocking the
 * event loop, so a broker in the test's own process keeps serving it.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import type { ExecutionContext } from 'ava';

export interface KcatResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `kcat args` to its end, `input` on its stdin. */
export function kcat(args: readonly string[], input?: string): Promise<KcatResult> {
  return new Promise((resolve, reject) => {
    const child = execFile('kcat', args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error !== null && typeof error.code !== 'number') {
        reject(new Error(`kcat could not run (${String(error.code)}): is it installed? .ci/run installs it from Debian`));
        return;
      }
      resolve({ code: error === null ? 0 : (error.code as number), stdout, stderr });
    });
    child.stdin!.end(input ?? '');
  });
}

/** A long-running kcat (a -G member), stopped by its PID on teardown; `lines` collects its stdout lines. */
export function kcatProcess(t: ExecutionContext, args: readonly string[], onLine: (line: string) => void): ChildProcess {
  const child = spawn('kcat', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  let partial = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString()).split('\n');
    partial = lines.pop()!;
    for (const line of lines) onLine(line);
  });
  child.stderr!.on('data', () => undefined);
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  return child;
}
