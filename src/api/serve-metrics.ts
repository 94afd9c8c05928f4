/**
 * `serveMetrics(log, { port, host })`: a small HTTP server that answers `GET /metrics` with the store's
 * metrics, for a broker that embeds the store and has no metrics endpoint of its own. A broker that has
 * one merges `await log.metricsRegistry()` into its registry instead.
 *
 * Owns: the endpoint's HTTP behaviour: `GET` (or `HEAD`) `/metrics` → 200 with prom-client's content
 * type; another path → 404; another method → 405; the store closed (or the scrape failed) → 503 with
 * the error's code. Each answer reads the metrics then, like any scrape.
 *
 * Called by: a broker, and the CLI's `metalog metrics serve` (metrics-command.ts). The caller closes
 * the server (`server.close()`) before or after the store; the server never closes the store.
 */
import http from 'node:http';
import type { MetaLog } from './metalog.js';
import { MetaLogError } from '../errors.js';

/** Where `serveMetrics` listens. */
export interface ServeMetricsOptions {
  /** TCP port; 0 picks a free one (read it from `server.address()`). */
  port: number;
  /** Address to bind; default 127.0.0.1 (this machine only: pass '0.0.0.0' or '::' for a scraper elsewhere). */
  host?: string;
}

/**
 * Starts an HTTP server for `log`'s metrics and resolves once it listens. Rejects with the listen error
 * (EADDRINUSE, EACCES, ...).
 */
export async function serveMetrics(log: MetaLog, options: ServeMetricsOptions): Promise<http.Server> {
  const registry = await log.metricsRegistry();
  const server = http.createServer((request, response) => {
    void answer(log, registry.contentType, request, response);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}

async function answer(log: MetaLog, contentType: string, request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
  const pathname = new URL(request.url ?? '/', 'http://metrics.invalid').pathname;
  if (pathname !== '/metrics') {
    response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found: metrics are at /metrics\n');
    return;
  }
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('method not allowed\n');
    return;
  }
  let text: string;
  try {
    text = await log.metrics();
  } catch (error) {
    const reason = error instanceof MetaLogError ? `${error.code}: ${error.message}` : String((error as Error)?.message ?? error);
    response.writeHead(503, { 'content-type': 'text/plain; charset=utf-8' }).end(`${reason}\n`);
    return;
  }
  response.writeHead(200, { 'content-type': contentType });
  response.end(request.method === 'HEAD' ? undefined : text);
}
