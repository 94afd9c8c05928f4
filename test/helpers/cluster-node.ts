/**
 * The parent's side of a cluster node running in its own process (cluster-node-child.ts): start it on a
 * directory, send it requests, and kill, pause or restart it by its PID. A request in flight when the
 * process dies fails with outcome `unknown`: the write may or may not be in the log.
 */
import { fork, type ChildProcess } from 'node:child_process';
import type { LogConfigInput } from '../../src/config.js';

const CHILD = new URL('./cluster-node-child.js', import.meta.url);

/** A request's failure: the store's error code, or `unknown` when the process died first. */
export class NodeRequestError extends Error {
  constructor(
    readonly code: string,
    readonly details: Record<string, unknown>,
    message: string,
  ) {
    super(message);
    this.name = 'NodeRequestError';
  }
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: NodeRequestError) => void;
}

export class ClusterNode {
  private child: ChildProcess | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  /** The process's stderr, for a failing test's message. */
  stderr = '';

  constructor(
    readonly nodeId: string,
    readonly dir: string,
    private readonly log: LogConfigInput,
  ) {}

  get running(): boolean {
    return this.child !== null;
  }

  /** Starts the process and waits until its store is open. */
  async start(): Promise<void> {
    if (this.child !== null) throw new Error(`${this.nodeId} is running`);
    const child = fork(CHILD, [this.dir, JSON.stringify(this.log)], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    this.child = child;
    child.stderr?.on('data', (chunk: Buffer) => (this.stderr = (this.stderr + chunk.toString()).slice(-8000)));
    await new Promise<void>((resolve, reject) => {
      const onMessage = (message: { ready?: boolean }): void => {
        if (message.ready !== true) return;
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve();
      };
      const onExit = (): void => reject(new Error(`${this.nodeId} exited before it was ready: ${this.stderr}`));
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
    child.on('message', (message: { id?: number; ok?: boolean; value?: unknown; code?: string; details?: Record<string, unknown>; message?: string }) => {
      if (message.id === undefined) return;
      const call = this.pending.get(message.id);
      if (call === undefined) return;
      this.pending.delete(message.id);
      if (message.ok === true) call.resolve(message.value);
      else call.reject(new NodeRequestError(message.code ?? 'INTERNAL_ERROR', message.details ?? {}, message.message ?? ''));
    });
    child.once('exit', () => {
      if (this.child === child) this.child = null;
      for (const call of this.pending.values()) call.reject(new NodeRequestError('unknown', {}, `${this.nodeId} exited with the request in flight`));
      this.pending.clear();
    });
  }

  request<T>(op: string, args: Record<string, unknown> = {}): Promise<T> {
    const child = this.child;
    if (child === null) return Promise.reject(new NodeRequestError('NODE_DOWN', {}, `${this.nodeId} is not running`));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      child.send({ id, op, ...args }, (error) => {
        if (error === null || !this.pending.has(id)) return;
        this.pending.delete(id);
        reject(new NodeRequestError('unknown', {}, `${this.nodeId}: send failed: ${error.message}`));
      });
    });
  }

  /** Sends `signal` by PID; after SIGKILL, waits until the process has exited. */
  async signal(signal: 'SIGKILL' | 'SIGSTOP' | 'SIGCONT'): Promise<void> {
    const child = this.child;
    if (child === null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    if (signal === 'SIGKILL') await exited;
  }

  /** Closes the store and waits for the process to end (SIGKILL if it does not answer). */
  async stop(): Promise<void> {
    const child = this.child;
    if (child === null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGCONT');
    try {
      await this.request('close');
    } catch {
      // Dead or stuck: the kill below ends it.
    }
    child.kill('SIGKILL');
    await exited;
  }
}
