/**
 * The client side of the broker benchmark, made to cost the broker's cores as little as possible: each
 * request is encoded once (with kafkajs's encoders) into a frame, sent as it is on a plain socket with
 * only its correlation id patched, and responses are counted by their frame size without decoding,
 * except where a workload needs a field (the next fetch offset, a member id) or checks an answer.
 *
 * A `WireConnection` keeps one request in flight: the broker serves a connection one request at a time
 * (as Kafka does), so more would only queue in its socket.
 */
import net from 'node:net';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

interface KafkajsRequest {
  readonly apiKey: number;
  readonly apiVersion: number;
  encode(): Promise<unknown>;
}
interface KafkajsApi {
  protocol(version: { version: number }): (args: Record<string, unknown>) => { request: KafkajsRequest; response: { decode(payload: Buffer): Promise<unknown> } };
}
const frameRequest = require('kafkajs/src/protocol/request.js') as (args: { correlationId: number; clientId: string; request: KafkajsRequest }) => Promise<{ buffer: Buffer }>;

/** The kafkajs codec module of one API (its directory name under kafkajs/src/protocol/requests). */
function kafkajsApi(name: string): KafkajsApi {
  return require(`kafkajs/src/protocol/requests/${name}/index.js`) as KafkajsApi;
}

/** Byte position of the correlation id in a request frame: size (4), api key (2), api version (2). */
const CORRELATION_ID_POSITION = 8;
/** Bytes before a response body: size (4), correlation id (4) (response header v0). */
const RESPONSE_HEADER_BYTES = 8;

/** One request encoded once: its frame, and the decoder of its response for the few checks made. */
export interface EncodedRequest {
  readonly frame: Buffer;
  decode(response: Buffer): Promise<Record<string, unknown>>;
}

/** Encodes `args` as request `api` at `version` (kafkajs's argument names) into a frame. */
export async function encodeRequest(api: string, version: number, args: Record<string, unknown>): Promise<EncodedRequest> {
  const { request, response } = kafkajsApi(api).protocol({ version })(args);
  const framed = await frameRequest({ correlationId: 0, clientId: 'metalog-bench', request });
  return {
    frame: Buffer.from(framed.buffer),
    decode: async (frame) => (await response.decode(frame.subarray(RESPONSE_HEADER_BYTES))) as Record<string, unknown>,
  };
}

/** Where `marker` (8 bytes) sits in `frame`; for patching a field encoded with a marker value. */
export function positionOf(frame: Buffer, marker: Buffer): number {
  const position = frame.indexOf(marker);
  if (position < 0 || frame.indexOf(marker, position + 1) >= 0) throw new Error('the marker must occur exactly once in the frame');
  return position;
}

/**
 * A request whose member id is known only once the broker has answered (JoinGroup's rejoin, SyncGroup,
 * Heartbeat): encoded once with a marker member id, then made for any member id by splicing the id in
 * place of the marker and fixing the frame size, without encoding again.
 */
export class MemberFrameTemplate {
  private constructor(
    private readonly head: Buffer,
    private readonly tail: Buffer,
  ) {}

  /** `MEMBER_ID_MARKER` must be passed as the member id in `args`. */
  static async of(api: string, version: number, args: Record<string, unknown>): Promise<MemberFrameTemplate> {
    const { frame } = await encodeRequest(api, version, args);
    const marker = Buffer.from(MEMBER_ID_MARKER);
    const at = frame.indexOf(marker);
    if (at < 2 || frame.indexOf(marker, at + 1) >= 0) throw new Error('the member id marker must occur exactly once');
    return new MemberFrameTemplate(frame.subarray(0, at - 2), frame.subarray(at + marker.length));
  }

  /** The frame for `memberId`; `int32At` writes an INT32 field that precedes the member id (bytes from the frame start). */
  frameFor(memberId: string, int32At?: { position: number; value: number }): Buffer {
    const id = Buffer.from(memberId, 'utf8');
    const frame = Buffer.allocUnsafe(this.head.length + 2 + id.length + this.tail.length);
    this.head.copy(frame, 0);
    frame.writeInt16BE(id.length, this.head.length);
    id.copy(frame, this.head.length + 2);
    this.tail.copy(frame, this.head.length + 2 + id.length);
    frame.writeInt32BE(frame.length - 4, 0);
    if (int32At !== undefined) frame.writeInt32BE(int32At.value, int32At.position);
    return frame;
  }

  /** Where the member id's length starts: an INT32 just before it sits at `memberIdPosition - 4`. */
  get memberIdPosition(): number {
    return this.head.length;
  }
}

/** The member id a template is encoded with (never a real one: the broker's ids hold a UUID). */
export const MEMBER_ID_MARKER = 'member-id-marker-0123456789';

/** A socket that sends frames one at a time and hands back whole response frames. */
export class WireConnection {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private waiter: ((frame: Buffer) => void) | null = null;
  private failure: Error | null = null;
  private correlationId = 0;

  private constructor(private readonly socket: net.Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.received(chunk));
    socket.on('error', (error) => (this.failure = error));
    socket.on('close', () => (this.failure ??= new Error('the broker closed the connection')));
  }

  static connect(port: number): Promise<WireConnection> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: '127.0.0.1', port }, () => {
        socket.off('error', reject);
        resolve(new WireConnection(socket));
      });
      socket.once('error', reject);
    });
  }

  /** Sends `frame` (its correlation id patched in place) and resolves with the whole response frame. */
  request(frame: Buffer): Promise<Buffer> {
    if (this.failure !== null) return Promise.reject(this.failure);
    if (this.waiter !== null) throw new Error('one request in flight per connection');
    this.correlationId = (this.correlationId + 1) | 0;
    frame.writeInt32BE(this.correlationId, CORRELATION_ID_POSITION);
    const answered = new Promise<Buffer>((resolve) => (this.waiter = resolve));
    this.socket.write(frame);
    return answered;
  }

  close(): void {
    this.socket.destroy();
  }

  private received(chunk: Buffer): void {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    // Only the 4-byte size is read; the body is handed over as it is.
    while (this.pendingBytes >= 4) {
      const head = this.pending[0].length >= 4 ? this.pending[0] : Buffer.concat(this.pending);
      const frameBytes = 4 + head.readInt32BE(0);
      if (this.pendingBytes < frameBytes) return;
      const all = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending);
      const frame = all.subarray(0, frameBytes);
      const rest = all.subarray(frameBytes);
      this.pending = rest.length > 0 ? [rest] : [];
      this.pendingBytes = rest.length;
      const waiter = this.waiter;
      this.waiter = null;
      if (waiter === null) {
        this.failure = new Error('a response nobody asked for');
        return;
      }
      if (frame.readInt32BE(4) !== this.correlationId) this.failure = new Error('a response to another request');
      waiter(frame);
    }
  }
}

/** Opens `count` connections to the broker on `port`. */
export function connectAll(port: number, count: number): Promise<WireConnection[]> {
  return Promise.all(Array.from({ length: count }, () => WireConnection.connect(port)));
}

/**
 * The records of a Fetch v4 response, partition by partition: for each, the error code and the offset
 * after its last whole record batch (-1 when no whole batch came). Reads only lengths and offsets.
 */
export function fetchV4Progress(frame: Buffer): { errorCode: number; nextOffset: number; recordBytes: number }[] {
  let at = RESPONSE_HEADER_BYTES + 4; // after the throttle time
  const result: { errorCode: number; nextOffset: number; recordBytes: number }[] = [];
  const topicCount = frame.readInt32BE(at);
  at += 4;
  for (let topic = 0; topic < topicCount; topic++) {
    at += 2 + frame.readInt16BE(at); // topic name
    const partitionCount = frame.readInt32BE(at);
    at += 4;
    for (let partition = 0; partition < partitionCount; partition++) {
      const errorCode = frame.readInt16BE(at + 4);
      at += 4 + 2 + 8 + 8; // partition, error code, high watermark, last stable offset
      const aborted = frame.readInt32BE(at);
      at += 4 + Math.max(0, aborted) * 16;
      const recordBytes = frame.readInt32BE(at);
      at += 4;
      let nextOffset = -1;
      // Record batch: base offset (8), batch length (4), then 12 bytes to last offset delta (4).
      for (let batch = at; recordBytes > 0 && batch + 12 <= at + recordBytes; ) {
        const end = batch + 12 + frame.readInt32BE(batch + 8);
        if (end > at + recordBytes) break;
        nextOffset = Number(frame.readBigInt64BE(batch)) + frame.readInt32BE(batch + 23) + 1;
        batch = end;
      }
      at += Math.max(0, recordBytes);
      result.push({ errorCode, nextOffset, recordBytes: Math.max(0, recordBytes) });
    }
  }
  return result;
}
