/**
 * One client connection: frames in, requests handled one at a time in arrival order, responses out in
 * the same order (Kafka's rule: a client matches responses to requests by order as well as by
 * correlation id, and an idempotent producer's pipelined Produce requests must be appended in order).
 *
 * Decision table, per frame:
 * | frame                                              | action                                          |
 * |----------------------------------------------------|-------------------------------------------------|
 * | size < header or > socket.request.max.bytes        | log, close this connection                      |
 * | ApiVersions at a version above the served ones      | answer v0 with UNSUPPORTED_VERSION + the table  |
 * | unknown API key, or a version outside the range    | log, close this connection                      |
 * | body does not follow the layout (MalformedRequest) | log, close this connection                      |
 * | handler answers null (Produce with acks = 0)       | no response                                     |
 * | handler throws                                     | log, close this connection (a bug, not a client |
 * |                                                    | error: handlers answer refusals with codes)     |
 * | handler's answer cannot be encoded                 | log, close this connection (a bug, as above)    |
 *
 * Back-pressure: while `QUEUED_FRAMES_MAX` frames wait, the socket is paused, so a client that pipelines
 * faster than the broker answers is slowed instead of growing the queue.
 */
import type net from 'node:net';
import { apiCodecOf } from '../codec/api-table.js';
import { ApiVersions } from '../codec/apis/api-versions.js';
import { API_VERSIONS_KEY, readRequestHeader, writeResponseHeader, type RequestHeader } from '../codec/request-header.js';
import { MalformedRequest, WireReader } from '../codec/wire-reader.js';
import { WireWriter } from '../codec/wire-writer.js';
import { ErrorCode } from '../error-codes.js';
import { FrameSplitter } from './frame-splitter.js';
import { apiVersionsTable } from './api-versions-table.js';

/** Frames a connection may have waiting before its socket is paused. */
export const QUEUED_FRAMES_MAX = 64;

/** Who sent a request, for the handlers. */
export interface RequestContext {
  readonly header: RequestHeader;
  readonly clientHost: string;
  readonly connectionId: number;
}

/** Handles one decoded request; answers the response object, or null for no response. */
export type RequestHandler = (request: unknown, context: RequestContext) => Promise<unknown>;

/** The handler of each served API key. */
export type HandlerTable = ReadonlyMap<number, RequestHandler>;

export type LogLine = (message: string) => void;

export class Connection {
  private readonly splitter: FrameSplitter;
  private readonly queue: Buffer[] = [];
  private processing = false;
  private closed = false;

  constructor(
    private readonly socket: net.Socket,
    readonly connectionId: number,
    maxFrameBytes: number,
    private readonly handlers: HandlerTable,
    private readonly log: LogLine,
    private readonly onClose: (connection: Connection) => void,
  ) {
    this.splitter = new FrameSplitter(maxFrameBytes);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.received(chunk));
    socket.on('error', (error) => this.close(`socket error: ${error.message}`, false));
    socket.on('close', () => this.close(null, false));
  }

  private get peer(): string {
    return `${this.socket.remoteAddress ?? '?'}:${this.socket.remotePort ?? '?'}`;
  }

  private received(chunk: Buffer): void {
    if (this.closed) return;
    let frames: Buffer[];
    try {
      frames = this.splitter.push(chunk);
    } catch (error) {
      this.close((error as Error).message, true);
      return;
    }
    for (const frame of frames) this.queue.push(frame);
    if (this.queue.length >= QUEUED_FRAMES_MAX) this.socket.pause();
    if (!this.processing) void this.drain();
  }

  private async drain(): Promise<void> {
    this.processing = true;
    while (this.queue.length > 0 && !this.closed) {
      const frame = this.queue.shift()!;
      if (this.queue.length < QUEUED_FRAMES_MAX / 2 && this.socket.isPaused()) this.socket.resume();
      const response = await this.answer(frame);
      if (response === 'close' || this.closed) return;
      if (response !== null) this.write(response);
    }
    this.processing = false;
  }

  /** The framed response to one request, null for none, 'close' when the connection was closed. */
  /** Writes a response's chunks as one burst (corked, so they leave in as few packets as they fit). */
  private write(chunks: readonly Buffer[]): void {
    this.socket.cork();
    for (const chunk of chunks) this.socket.write(chunk);
    this.socket.uncork();
  }

  /** The framed response to one request (as chunks), null for none, 'close' when the connection was closed. */
  private async answer(frame: Buffer): Promise<Buffer[] | null | 'close'> {
    const reader = new WireReader(frame);
    let header: RequestHeader;
    try {
      header = readRequestHeader(reader);
    } catch (error) {
      this.close(`unreadable request header: ${(error as Error).message}`, true);
      return 'close';
    }
    const codec = apiCodecOf(header.apiKey);
    if (codec === undefined) {
      this.close(`unknown API key ${header.apiKey}`, true);
      return 'close';
    }
    if (header.apiVersion < codec.minVersion || header.apiVersion > codec.maxVersion) {
      if (header.apiKey === API_VERSIONS_KEY && header.apiVersion > codec.maxVersion) return unsupportedApiVersions(header.correlationId);
      this.close(`${codec.name} v${header.apiVersion} is not served (v${codec.minVersion}-v${codec.maxVersion})`, true);
      return 'close';
    }
    const flexible = header.apiVersion >= codec.flexibleFromVersion;
    let request: unknown;
    try {
      // Request header v2 ends with its own tagged fields; the body's (after its last field) belong to the
      // codec, which reads them as part of the body.
      if (flexible) reader.skipTaggedFields();
      request = codec.decodeRequest(reader, header.apiVersion);
      reader.expectEnd(`${codec.name} v${header.apiVersion}`);
    } catch (error) {
      const why = error instanceof MalformedRequest ? error.message : `decoder failed: ${(error as Error).stack ?? String(error)}`;
      this.close(`malformed ${codec.name} v${header.apiVersion} request: ${why}`, true);
      return 'close';
    }
    let response: unknown;
    try {
      response = await this.handlers.get(header.apiKey)!(request, { header, clientHost: this.socket.remoteAddress ?? '', connectionId: this.connectionId });
    } catch (error) {
      this.close(`${codec.name} v${header.apiVersion} failed: ${(error as Error).stack ?? String(error)}`, true);
      return 'close';
    }
    if (response === null) return null;
    // An answer the codec cannot encode (a value out of its field's range, a field missing) is a handler
    // bug like a throw: it closes this connection. Left to escape, it would reject `drain` unhandled,
    // leaving the connection stuck, and Node ends the process on an unhandled rejection.
    try {
      const writer = new WireWriter();
      writeResponseHeader(writer, header.correlationId, header.apiKey, flexible);
      codec.encodeResponse(writer, header.apiVersion, response);
      return writer.finishChunks();
    } catch (error) {
      this.close(`${codec.name} v${header.apiVersion} response could not be encoded: ${(error as Error).stack ?? String(error)}`, true);
      return 'close';
    }
  }

  /** Closes the connection; `reason` is logged when the broker chose to close it. */
  close(reason: string | null, logIt: boolean): void {
    if (this.closed) return;
    this.closed = true;
    this.queue.length = 0;
    if (logIt && reason !== null) this.log(`closing connection ${this.connectionId} from ${this.peer}: ${reason}`);
    this.socket.destroy();
    this.onClose(this);
  }
}

/** ApiVersions v0 with UNSUPPORTED_VERSION and the table: how Kafka answers a too-new ApiVersions. */
function unsupportedApiVersions(correlationId: number): Buffer[] {
  const writer = new WireWriter();
  writer.int32(correlationId);
  ApiVersions.encodeResponse(writer, 0, { errorCode: ErrorCode.UNSUPPORTED_VERSION, apiKeys: apiVersionsTable() });
  return writer.finishChunks();
}
