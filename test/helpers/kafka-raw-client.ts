/**
 * A bare TCP client for the server tests: writes any bytes, cuts what comes back into response frames,
 * and reports the connection's close. Everything waits on socket events; nothing sleeps.
 */
import net from 'node:net';
import { createRequire } from 'node:module';
import { KafkaServer } from '../../src/kafka/server/kafka-server.js';
import type { HandlerTable } from '../../src/kafka/server/connection.js';

const require = createRequire(import.meta.url);

export class RawClient {
  private received = Buffer.alloc(0);
  private readonly frames: Buffer[] = [];
  private waiting: ((frame: Buffer | null) => void) | null = null;
  private isClosed = false;
  /** Resolves when the socket closes, whoever closed it. */
  readonly closed: Promise<void>;
  /** Set when the socket reported an error (a reset, when the server closes with bytes unread). */
  socketError: Error | null = null;

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => this.data(chunk));
    socket.on('error', (error) => {
      this.socketError = error;
    });
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.isClosed = true;
        this.waiting?.(null);
        this.waiting = null;
        resolve();
      }),
    );
  }

  static connect(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new RawClient(socket));
      });
    });
  }

  private data(chunk: Buffer): void {
    this.received = Buffer.concat([this.received, chunk]);
    while (this.received.length >= 4 && this.received.length >= 4 + this.received.readInt32BE(0)) {
      const size = this.received.readInt32BE(0);
      this.frames.push(Buffer.from(this.received.subarray(4, 4 + size)));
      this.received = this.received.subarray(4 + size);
    }
    if (this.waiting !== null && this.frames.length > 0) {
      const resolve = this.waiting;
      this.waiting = null;
      resolve(this.frames.shift()!);
    }
  }

  send(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** The next response frame (without its size), or null if the connection closed first. */
  nextFrame(): Promise<Buffer | null> {
    if (this.frames.length > 0) return Promise.resolve(this.frames.shift()!);
    if (this.isClosed) return Promise.resolve(null);
    return new Promise((resolve) => {
      this.waiting = resolve;
    });
  }

  /** Frames received and not taken yet. */
  get framesWaiting(): number {
    return this.frames.length;
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** A server on 127.0.0.1 with an OS-chosen port, its log lines kept for the test to read. */
export async function startServer(handlers: HandlerTable, maxFrameBytes = 64 * 1024): Promise<{ server: KafkaServer; log: string[] }> {
  const log: string[] = [];
  const server = await KafkaServer.listen({ host: '127.0.0.1', port: 0, maxFrameBytes, handlers, log: (line) => log.push(line) });
  return { server, log };
}

const kafkajsFrame = require('kafkajs/src/protocol/request.js') as (options: { correlationId: number; clientId: string; request: unknown }) => Promise<{ readonly buffer: Buffer }>;

/** A whole request frame (size, header v1, body) as kafkajs writes it. */
export async function kafkajsRequestFrame(directory: string, version: number, args: unknown, correlationId: number): Promise<Buffer> {
  const api = require(`kafkajs/src/protocol/requests/${directory}/index.js`) as { protocol(options: { version: number }): (args: unknown) => { request: unknown } };
  const { request } = api.protocol({ version })(args);
  const frame = await kafkajsFrame({ correlationId, clientId: 'codec-tests', request });
  return Buffer.from(frame.buffer);
}

/** A frame around a hand-made request: size, header v1 (client id "raw"), body. */
export function rawRequestFrame(apiKey: number, apiVersion: number, correlationId: number, body: Buffer = Buffer.alloc(0)): Buffer {
  const header = Buffer.alloc(8 + 2 + 3);
  header.writeInt16BE(apiKey, 0);
  header.writeInt16BE(apiVersion, 2);
  header.writeInt32BE(correlationId, 4);
  header.writeInt16BE(3, 8);
  header.write('raw', 10, 'utf8');
  const size = Buffer.alloc(4);
  size.writeInt32BE(header.length + body.length, 0);
  return Buffer.concat([size, header, body]);
}

/** A seeded xorshift32 generator of unsigned 32-bit values: the same sequence for the same seed. */
export function xorshift32(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state;
  };
}

/** `count` seeded bytes: the same bytes on every run. */
export function seededBytes(seed: number, count: number): Buffer {
  const next = xorshift32(seed);
  const bytes = Buffer.alloc(count);
  for (let i = 0; i < count; i++) bytes[i] = next() & 0xff;
  return bytes;
}

let nextCorrelationId = 1;

/**
 * One request made by kafkajs's encoder for `directory` (e.g. 'joinGroup') at `version`, sent on `client`,
 * its response decoded by kafkajs's decoder (without `parse`, so error codes come back as values).
 */
export async function kafkajsCall<T = Record<string, unknown>>(client: RawClient, directory: string, version: number, args: unknown): Promise<T> {
  const api = require(`kafkajs/src/protocol/requests/${directory}/index.js`) as {
    protocol(options: { version: number }): (args: unknown) => { response: { decode(payload: Buffer): Promise<T> } };
  };
  const correlationId = nextCorrelationId++;
  client.send(await kafkajsRequestFrame(directory, version, args, correlationId));
  const frame = await client.nextFrame();
  if (frame === null) throw new Error(`the connection closed before answering ${directory} v${version}`);
  if (frame.readInt32BE(0) !== correlationId) throw new Error(`answer to correlation id ${frame.readInt32BE(0)}, expected ${correlationId}`);
  return api.protocol({ version })(args).response.decode(frame.subarray(4));
}
