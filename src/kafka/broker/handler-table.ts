/**
 * Binds every served API key to its handler. A key served by the codec but missing here is a startup
 * error (checked in buildHandlerTable), so ApiVersions never advertises an API nobody answers.
 */
import { SERVED_APIS } from '../codec/api-table.js';
import type { HandlerTable, RequestContext, RequestHandler } from '../server/connection.js';

/** A handler typed by its request; the table stores it by key. */
export type TypedHandler<Request> = (request: Request, context: RequestContext) => Promise<unknown>;

export function buildHandlerTable(handlers: ReadonlyMap<number, TypedHandler<never>>): HandlerTable {
  const missing = SERVED_APIS.filter((api) => !handlers.has(api.apiKey)).map((api) => api.name);
  if (missing.length > 0) throw new Error(`no handler for ${missing.join(', ')}`);
  return handlers as unknown as ReadonlyMap<number, RequestHandler>;
}
