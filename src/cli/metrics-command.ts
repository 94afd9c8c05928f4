/**
 * The CLI's `metalog metrics serve <dir> [--port N] [--host H]`: opens the store in this process and
 * serves its metrics over HTTP (serve-metrics.ts) until SIGINT or SIGTERM, then closes the server and
 * the store.
 *
 * Why it opens the store itself: a store's metrics live in the memory of the process that has it open,
 * and the directory lock keeps every other process out, so no separate process can read a live store's
 * metrics. A store open elsewhere is refused (exit 1) with a message that says so; its owner serves its
 * metrics with `serveMetrics`.
 *
 * Called by: src/cli/main.ts, which declares the command's options and owns the exit code; this module
 * owns the command's run.
 */
import type { AddressInfo } from 'node:net';
import { MetaLog } from '../api/metalog.js';
import { hasCode } from '../errors.js';
import { serveMetrics } from '../api/serve-metrics.js';
import { untilSignal } from './cli-support.js';

/** The port `metrics serve` listens on without --port (the usual port of a Prometheus exporter). */
export const METRICS_PORT_DEFAULT = 9464;
/** The address `metrics serve` binds without --host: this machine only. */
export const METRICS_HOST_DEFAULT = '127.0.0.1';

/** The options of `metrics serve`. */
export interface MetricsServeOptions {
  dir: string;
  port: number;
  host: string;
}

/**
 * Opens the store, serves its metrics until SIGINT or SIGTERM, then closes the server and the store.
 * Resolves to the exit code: 0 after a clean stop, 1 when another process has the store open. Other
 * failures (a corrupt log, a port in use) reject, and the CLI reports them like any command's.
 */
export async function serveMetricsUntilSignal(options: MetricsServeOptions): Promise<number> {
  let log: MetaLog;
  try {
    log = await MetaLog.open({ dir: options.dir });
  } catch (error) {
    if (!hasCode(error, 'STORE_LOCKED')) throw error;
    process.stderr.write(
      `metalog metrics serve: ${error.code}: ${error.message}. Only the process that has a store open can serve its metrics ` +
        `(the broker embeds serveMetrics or merges log.metricsRegistry()); this command serves a store that is not open.\n`,
    );
    return 1;
  }
  try {
    const server = await serveMetrics(log, { port: options.port, host: options.host });
    // Listening for the signals before saying where it serves: a signal sent on that line is not lost.
    const stopped = untilSignal();
    const { port } = server.address() as AddressInfo;
    const host = options.host.includes(':') ? `[${options.host}]` : options.host;
    process.stdout.write(`serving the metrics of ${options.dir} at http://${host}:${port}/metrics (SIGINT or SIGTERM stops)\n`);
    const signal = await stopped;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    });
    process.stdout.write(`${signal}: stopped serving; closing the store\n`);
  } finally {
    await log.close();
  }
  return 0;
}
