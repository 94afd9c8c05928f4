/**
 * A small client of etcd's v3 API, through the JSON gateway every etcd member serves on its client URL
 * (`POST /v3/kv/range`, `/v3/kv/txn`, `/v3/lease/grant`, `/v3/watch`, ...), over node:http: no gRPC
 * stack, no native code, nothing running that this module did not start.
 *
 * Why our own: the replicated log needs exact answers to "was this append applied?", and the npm client
 * (etcd3 1.1.2) hides them: its retries may send a transaction twice, a call has no deadline unless one
 * is set, and close() leaves a lease's keep-alive running. Here:
 * - every call has a deadline (`deadlineMs`), and nothing is retried behind the caller's back, except a
 *   call that no member received (the connection was refused), which is tried on the next endpoint;
 * - a write whose outcome cannot be known (the connection broke or the deadline passed after the request
 *   was sent, or etcd answered "request timed out" / "leader changed") fails with kind `ambiguous`: the
 *   caller reads back to learn what happened;
 * - a lease is kept alive only by the caller's own `leaseKeepAlive` calls, and `close()` ends every watch
 *   and every open connection.
 *
 * Keys and values are bytes (base64 in the gateway's JSON). Revisions are numbers (etcd's are int64 but
 * count writes, far below 2^53); lease ids stay decimal strings, as they use all 64 bits.
 */
import http from 'node:http';

/** Why a call failed. */
export type EtcdErrorKind =
  /** No member answered (refused, unreachable, or every endpoint failed before the request was sent). */
  | 'unavailable'
  /** A write may or may not have been applied: read back. */
  | 'ambiguous'
  /** A read (or a wait) ran past its deadline; nothing was changed by it. */
  | 'deadline'
  /** The revision asked for was compacted away. */
  | 'compacted'
  /** The lease does not exist (expired or revoked). */
  | 'lease-not-found'
  /** etcd refused the request as such (too large, malformed): sending it again fails again. */
  | 'rejected';

/** A failed etcd call: `kind` is what a caller branches on; `grpcCode` and the message are etcd's. */
export class EtcdError extends Error {
  constructor(
    readonly kind: EtcdErrorKind,
    message: string,
    readonly grpcCode: number | null = null,
  ) {
    super(message);
    this.name = 'EtcdError';
  }
}

/** A key's value and its revisions, as a range returns it. */
export interface KeyValue {
  key: Buffer;
  value: Buffer;
  createRevision: number;
  modRevision: number;
  version: number;
  /** The lease the key is attached to ('0': none). */
  lease: string;
}

export interface RangeOptions {
  /** End of the range, exclusive (absent: the single key). */
  rangeEnd?: Buffer;
  /** Read the store as of this revision (0: the newest). */
  revision?: number;
  limit?: number;
  /** Newest key first (sorted by key). */
  descending?: boolean;
  keysOnly?: boolean;
}

export interface RangeResult {
  /**
   * The store's newest revision when the range was served. A range read at an older `revision` still
   * names the newest here: a caller that tails after such a read starts from the revision it asked for.
   */
  revision: number;
  kvs: KeyValue[];
  /** Keys in the range (may exceed `kvs.length` when limited). */
  count: number;
  more: boolean;
}

/** One comparison of a transaction. */
export type Compare =
  | { key: Buffer; target: 'CREATE'; createRevision: number }
  | { key: Buffer; target: 'MOD'; modRevision: number }
  | { key: Buffer; target: 'VALUE'; value: Buffer }
  | { key: Buffer; target: 'LEASE'; lease: string };

/** One operation of a transaction's branch. */
export type TxnOp =
  | { put: { key: Buffer; value: Buffer; lease?: string } }
  | { range: { key: Buffer; rangeEnd?: Buffer; limit?: number; descending?: boolean } }
  | { deleteRange: { key: Buffer; rangeEnd?: Buffer } };

export interface TxnRequest {
  compare: Compare[];
  success: TxnOp[];
  failure: TxnOp[];
}

/** What a branch's operation returned: a range's key-values, or nothing. */
export interface TxnResponse {
  succeeded: boolean;
  /** The store's revision after the transaction (its own, when it wrote). */
  revision: number;
  /** One entry per operation of the branch taken: the key-values a range read, else empty. */
  ranges: KeyValue[][];
}

/** One change a watch saw. */
export interface WatchEvent {
  type: 'PUT' | 'DELETE';
  kv: KeyValue;
}

export interface WatchOptions {
  key: Buffer;
  rangeEnd?: Buffer;
  /** First revision to report (0: from now on). */
  startRevision: number;
  /** Called with each batch of events, in revision order. */
  onEvents: (events: WatchEvent[], revision: number) => void;
  /**
   * Called once when the watch ends for any reason but `cancel()`: the stream broke, a member stopped,
   * or its start revision was compacted (kind `compacted`; etcd itself only says "canceled").
   */
  onEnd: (error: EtcdError) => void;
}

/** A running watch; `cancel()` ends it without calling `onEnd`. */
export interface Watch {
  cancel(): void;
}

export interface EtcdClientOptions {
  /** Client URLs of the members (http://host:port). */
  endpoints: readonly string[];
  /** Deadline of every unary call. */
  deadlineMs: number;
}

/** The JSON shapes of the gateway's answers (proto3: fields at their default value are left out). */
interface JsonKeyValue {
  key?: string;
  value?: string;
  create_revision?: string;
  mod_revision?: string;
  version?: string;
  lease?: string;
}
interface JsonHeader {
  revision?: string;
}
interface JsonError {
  error?: string;
  message?: string;
  code?: number;
}

/** gRPC status codes etcd answers with. */
const GRPC = { INVALID_ARGUMENT: 3, NOT_FOUND: 5, FAILED_PRECONDITION: 9, OUT_OF_RANGE: 11, UNAVAILABLE: 14, DEADLINE_EXCEEDED: 4 } as const;

/** Answers of etcd after which a write may have been applied (the proposal was made, its fate unknown). */
const AMBIGUOUS_MESSAGES = ['request timed out', 'leader changed', 'timed out'];

const b64 = (bytes: Buffer): string => bytes.toString('base64');
const unb64 = (text: string | undefined): Buffer => Buffer.from(text ?? '', 'base64');
const num = (text: string | undefined): number => (text === undefined ? 0 : Number(text));

function keyValueOf(json: JsonKeyValue): KeyValue {
  return {
    key: unb64(json.key),
    value: unb64(json.value),
    createRevision: num(json.create_revision),
    modRevision: num(json.mod_revision),
    version: num(json.version),
    lease: json.lease ?? '0',
  };
}

function compareJson(compare: Compare): object {
  const base = { key: b64(compare.key), result: 'EQUAL', target: compare.target };
  switch (compare.target) {
    case 'CREATE':
      return { ...base, create_revision: String(compare.createRevision) };
    case 'MOD':
      return { ...base, mod_revision: String(compare.modRevision) };
    case 'VALUE':
      return { ...base, value: b64(compare.value) };
    case 'LEASE':
      return { ...base, lease: compare.lease };
  }
}

function opJson(op: TxnOp): object {
  if ('put' in op) {
    const { key, value, lease } = op.put;
    return { request_put: { key: b64(key), value: b64(value), ...(lease === undefined ? {} : { lease }) } };
  }
  if ('range' in op) {
    const { key, rangeEnd, limit, descending } = op.range;
    return {
      request_range: {
        key: b64(key),
        ...(rangeEnd === undefined ? {} : { range_end: b64(rangeEnd) }),
        ...(limit === undefined ? {} : { limit: String(limit) }),
        ...(descending === true ? { sort_order: 'DESCEND', sort_target: 'KEY' } : {}),
      },
    };
  }
  const { key, rangeEnd } = op.deleteRange;
  return { request_delete_range: { key: b64(key), ...(rangeEnd === undefined ? {} : { range_end: b64(rangeEnd) }) } };
}

/** The error an etcd JSON error answer means, for a read (`write` false) or a write. */
function errorOf(json: JsonError, write: boolean): EtcdError {
  const message = json.message ?? json.error ?? 'etcd error';
  const code = json.code ?? null;
  if (code === GRPC.OUT_OF_RANGE) return new EtcdError('compacted', message, code);
  if (code === GRPC.NOT_FOUND && message.includes('lease')) return new EtcdError('lease-not-found', message, code);
  if (code === GRPC.INVALID_ARGUMENT || code === GRPC.FAILED_PRECONDITION) return new EtcdError('rejected', message, code);
  if (write && (code !== GRPC.UNAVAILABLE || AMBIGUOUS_MESSAGES.some((text) => message.includes(text)))) {
    return new EtcdError('ambiguous', message, code);
  }
  return new EtcdError(code === GRPC.DEADLINE_EXCEEDED ? 'deadline' : 'unavailable', message, code);
}

/** An HTTP exchange's outcome before its body is understood. */
type Exchange = { status: number; body: string } | { failure: 'refused' | 'broken' | 'deadline'; message: string };

export class EtcdClient {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  private readonly watches = new Set<http.ClientRequest>();
  /** The endpoint calls go to first; moves on when one refuses a connection. */
  private preferred = 0;
  private closed = false;

  constructor(private readonly options: EtcdClientOptions) {
    if (options.endpoints.length === 0) throw new EtcdError('rejected', 'no etcd endpoint given');
  }

  async range(key: Buffer, options: RangeOptions = {}): Promise<RangeResult> {
    const json = (await this.call('/v3/kv/range', {
      key: b64(key),
      ...(options.rangeEnd === undefined ? {} : { range_end: b64(options.rangeEnd) }),
      ...(options.revision === undefined || options.revision === 0 ? {} : { revision: String(options.revision) }),
      ...(options.limit === undefined ? {} : { limit: String(options.limit) }),
      ...(options.descending === true ? { sort_order: 'DESCEND', sort_target: 'KEY' } : {}),
      ...(options.keysOnly === true ? { keys_only: true } : {}),
    }, false)) as { header?: JsonHeader; kvs?: JsonKeyValue[]; count?: string; more?: boolean };
    return { revision: num(json.header?.revision), kvs: (json.kvs ?? []).map(keyValueOf), count: num(json.count), more: json.more === true };
  }

  async txn(request: TxnRequest): Promise<TxnResponse> {
    const json = (await this.call('/v3/kv/txn', {
      compare: request.compare.map(compareJson),
      success: request.success.map(opJson),
      failure: request.failure.map(opJson),
    }, true)) as { header?: JsonHeader; succeeded?: boolean; responses?: { response_range?: { kvs?: JsonKeyValue[] } }[] };
    return {
      succeeded: json.succeeded === true,
      revision: num(json.header?.revision),
      ranges: (json.responses ?? []).map((response) => (response.response_range?.kvs ?? []).map(keyValueOf)),
    };
  }

  /** Compacts the store's history below `revision` (physical: waits until it is done). */
  async compact(revision: number): Promise<void> {
    await this.call('/v3/kv/compaction', { revision: String(revision), physical: true }, true);
  }

  /** A new lease of `ttlSeconds`; its id. */
  async leaseGrant(ttlSeconds: number): Promise<{ id: string; ttlSeconds: number }> {
    const json = (await this.call('/v3/lease/grant', { TTL: String(ttlSeconds) }, true)) as { ID?: string; TTL?: string; error?: string };
    if (json.ID === undefined || json.error !== undefined) throw new EtcdError('unavailable', `lease grant failed: ${json.error ?? 'no id'}`);
    return { id: json.ID, ttlSeconds: num(json.TTL) };
  }

  /** Renews a lease once; its remaining TTL in seconds. Throws `lease-not-found` once it is gone. */
  async leaseKeepAlive(id: string): Promise<number> {
    const json = (await this.call('/v3/lease/keepalive', { ID: id }, false)) as { result?: { TTL?: string }; error?: JsonError };
    if (json.error !== undefined) throw errorOf(json.error, false);
    const ttlSeconds = num(json.result?.TTL);
    // etcd answers an expired or unknown lease's keep-alive with a TTL of 0, not with an error.
    if (ttlSeconds <= 0) throw new EtcdError('lease-not-found', `lease ${id} has expired`);
    return ttlSeconds;
  }

  /** Ends a lease now: every key attached to it is deleted. A lease already gone is not an error. */
  async leaseRevoke(id: string): Promise<void> {
    try {
      await this.call('/v3/lease/revoke', { ID: id }, true);
    } catch (error) {
      if (error instanceof EtcdError && error.kind === 'lease-not-found') return;
      throw error;
    }
  }

  /**
   * Watches `[key, rangeEnd)` from `startRevision`: events arrive in revision order through `onEvents`
   * until `cancel()`, or until the stream ends, which `onEnd` reports (a caller re-reads and watches
   * again from the revision it has).
   */
  watch(options: WatchOptions): Watch {
    let ended = false;
    const end = (error: EtcdError): void => {
      if (ended) return;
      ended = true;
      this.watches.delete(request);
      request.destroy();
      options.onEnd(error);
    };
    const body = JSON.stringify({
      create_request: {
        key: b64(options.key),
        ...(options.rangeEnd === undefined ? {} : { range_end: b64(options.rangeEnd) }),
        ...(options.startRevision > 0 ? { start_revision: String(options.startRevision) } : {}),
      },
    });
    const url = new URL('/v3/watch', this.options.endpoints[this.preferred]);
    const request = http.request(url, { method: 'POST', agent: false, headers: { 'content-type': 'application/json' } });
    this.watches.add(request);
    request.on('error', (error) => end(new EtcdError('unavailable', `watch: ${error.message}`)));
    request.on('response', (response) => {
      let pending = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        pending += chunk;
        // The gateway writes one JSON object per message, each ended by a newline.
        for (let newline = pending.indexOf('\n'); newline >= 0 && !ended; newline = pending.indexOf('\n')) {
          const line = pending.slice(0, newline).trim();
          pending = pending.slice(newline + 1);
          if (line.length > 0) this.watchMessage(line, options, end);
        }
      });
      response.on('end', () => end(new EtcdError('unavailable', 'watch stream ended')));
      response.on('error', (error) => end(new EtcdError('unavailable', `watch: ${error.message}`)));
    });
    request.end(body);
    return {
      cancel: () => {
        ended = true;
        this.watches.delete(request);
        request.destroy();
      },
    };
  }

  private watchMessage(line: string, options: WatchOptions, end: (error: EtcdError) => void): void {
    let message: {
      result?: { header?: JsonHeader; created?: boolean; canceled?: boolean; compact_revision?: string; cancel_reason?: string; events?: { type?: string; kv?: JsonKeyValue }[] };
      error?: JsonError;
    };
    try {
      message = JSON.parse(line) as typeof message;
    } catch {
      end(new EtcdError('unavailable', `watch: an answer that is not JSON: ${line.slice(0, 80)}`));
      return;
    }
    if (message.error !== undefined) {
      end(errorOf(message.error, false));
      return;
    }
    const result = message.result ?? {};
    if (result.canceled === true) {
      // A watch from a compacted revision is canceled with only its compact revision as the reason.
      if (num(result.compact_revision) > 0) end(new EtcdError('compacted', `watch start revision compacted (oldest kept: ${result.compact_revision})`, GRPC.OUT_OF_RANGE));
      else end(new EtcdError('unavailable', `watch canceled: ${result.cancel_reason ?? 'no reason given'}`));
      return;
    }
    const events = (result.events ?? []).map((event): WatchEvent => ({ type: event.type === 'DELETE' ? 'DELETE' : 'PUT', kv: keyValueOf(event.kv ?? {}) }));
    if (events.length > 0) options.onEvents(events, num(result.header?.revision));
  }

  /** Ends every watch and every idle connection; later calls fail as `unavailable`. */
  close(): void {
    this.closed = true;
    for (const request of this.watches) request.destroy();
    this.watches.clear();
    this.agent.destroy();
  }

  /**
   * POSTs `body` to `path` on the preferred endpoint, moving to the next one only when a connection is
   * refused (nothing was sent). `write` says whether a failure after sending leaves the outcome unknown.
   */
  private async call(path: string, body: object, write: boolean): Promise<unknown> {
    if (this.closed) throw new EtcdError('unavailable', 'the etcd client is closed');
    const text = JSON.stringify(body);
    const { endpoints } = this.options;
    let lastRefusal = '';
    for (let tried = 0; tried < endpoints.length; tried++) {
      const endpoint = endpoints[(this.preferred + tried) % endpoints.length];
      const exchange = await this.exchange(endpoint, path, text);
      if ('failure' in exchange) {
        if (exchange.failure === 'refused') {
          lastRefusal = `${endpoint}: ${exchange.message}`;
          continue;
        }
        if (write) throw new EtcdError('ambiguous', `${path} on ${endpoint}: ${exchange.message}`);
        throw new EtcdError(exchange.failure === 'deadline' ? 'deadline' : 'unavailable', `${path} on ${endpoint}: ${exchange.message}`);
      }
      this.preferred = (this.preferred + tried) % endpoints.length;
      let json: unknown;
      try {
        json = JSON.parse(exchange.body);
      } catch {
        throw new EtcdError(write ? 'ambiguous' : 'unavailable', `${path}: an answer that is not JSON (HTTP ${exchange.status})`);
      }
      if (exchange.status !== 200 || (json as JsonError).code !== undefined) throw errorOf(json as JsonError, write);
      return json;
    }
    throw new EtcdError('unavailable', `no etcd member answered: ${lastRefusal}`);
  }

  private exchange(endpoint: string, path: string, body: string): Promise<Exchange> {
    return new Promise((resolve) => {
      let settled = false;
      let sent = false;
      const settle = (outcome: Exchange): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(outcome);
      };
      const request = http.request(new URL(path, endpoint), {
        method: 'POST',
        agent: this.agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      });
      const timer = setTimeout(() => {
        settle({ failure: 'deadline', message: `no answer within ${this.options.deadlineMs} ms` });
        request.destroy();
      }, this.options.deadlineMs);
      request.on('socket', (socket) => {
        // A reused socket is connected already: the request is on its way as soon as it is written.
        if (!socket.connecting) sent = true;
        else socket.once('connect', () => (sent = true));
      });
      request.on('error', (error: NodeJS.ErrnoException) => {
        const refused = !sent && (error.code === 'ECONNREFUSED' || error.code === 'EHOSTUNREACH' || error.code === 'ENETUNREACH');
        settle({ failure: refused ? 'refused' : 'broken', message: error.message });
      });
      request.on('response', (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => settle({ status: response.statusCode ?? 0, body: text }));
        response.on('error', (error) => settle({ failure: 'broken', message: error.message }));
      });
      request.end(body);
    });
  }
}
