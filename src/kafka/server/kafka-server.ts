/**
 * The TCP listener: accepts connections, gives each its own {@link Connection}, and closes them all on
 * `close()`. One connection's bad frame closes that connection only.
 */
import net from 'node:net';
import { Connection, type HandlerTable, type LogLine } from './connection.js';

export interface KafkaServerOptions {
  readonly host: string;
  readonly port: number;
  /** socket.request.max.bytes: the largest request frame accepted. */
  readonly maxFrameBytes: number;
  /** connections.max.idle.ms: a connection silent this long is closed (0: never). */
  readonly idleTimeoutMs?: number;
  readonly handlers: HandlerTable;
  readonly log: LogLine;
}

export class KafkaServer {
  private readonly server: net.Server;
  private readonly connections = new Set<Connection>();
  private nextConnectionId = 1;

  private constructor(private readonly options: KafkaServerOptions) {
    this.server = net.createServer((socket) => {
      const connection = new Connection(socket, this.nextConnectionId++, options.maxFrameBytes, options.handlers, options.log, (closed) =>
        this.connections.delete(closed),
      );
      this.connections.add(connection);
      if ((options.idleTimeoutMs ?? 0) > 0) socket.setTimeout(options.idleTimeoutMs!, () => connection.close(`idle for ${options.idleTimeoutMs} ms`, true));
    });
  }

  /** Starts listening; resolves with the server once it accepts connections. */
  static listen(options: KafkaServerOptions): Promise<KafkaServer> {
    const kafkaServer = new KafkaServer(options);
    return new Promise((resolve, reject) => {
      kafkaServer.server.once('error', reject);
      kafkaServer.server.listen(options.port, options.host, () => {
        kafkaServer.server.off('error', reject);
        resolve(kafkaServer);
      });
    });
  }

  /** The port it listens on (the one chosen by the OS when asked for port 0). */
  get port(): number {
    const address = this.server.address();
    return typeof address === 'object' && address !== null ? address.port : this.options.port;
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /** Stops accepting, closes every connection, resolves when the listener is closed. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      for (const connection of [...this.connections]) connection.close(null, false);
    });
  }
}
