/**
 * Brokers for end-to-end tests: in this process (`startBroker`) or as a child process running the CLI
 * (`spawnBroker`, for SIGKILL). Each listens on 127.0.0.1 on a free port, keeps its data in a
 * temporary directory, and is stopped on teardown; a child is stopped by its own PID.
 */
import type { ExecutionContext } from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel, type KafkaConfig } from 'kafkajs';
import { KafkaBroker } from '../../src/kafka/broker/broker.js';
import { resolveBrokerSettings } from '../../src/kafka/broker/broker-settings.js';
import { tmpDir } from './tmp.js';

/** Settings that keep tests quick: a short initial rebalance delay and short session timeouts allowed. */
export const TEST_BROKER_SETTINGS: Readonly<Record<string, string>> = {
  host: '127.0.0.1',
  port: '0',
  'group.initial.rebalance.delay.ms': '100',
  'group.min.session.timeout.ms': '500',
};

export interface TestBroker {
  broker: KafkaBroker;
  dir: string;
  address: string;
  /** A kafkajs client for this broker (logs silenced). */
  kafka(config?: Partial<KafkaConfig>): Kafka;
  /** Closes this broker (also done on teardown); resolves once closed. */
  stop(): Promise<void>;
}

function kafkaFor(address: string, config: Partial<KafkaConfig> = {}): Kafka {
  return new Kafka({ clientId: 'metalog-test', brokers: [address], logLevel: logLevel.NOTHING, retry: { retries: 5, initialRetryTime: 50 }, ...config });
}

/** A broker in this process on `dir` (a fresh temporary one by default). */
export async function startBroker(t: ExecutionContext, settings: Record<string, string> = {}, dir = tmpDir(t, 'metalog-broker-')): Promise<TestBroker> {
  const lines: string[] = [];
  const broker = await KafkaBroker.start({
    settings: resolveBrokerSettings(TEST_BROKER_SETTINGS, { 'log.dir': dir }, settings),
    log: (line) => lines.push(line),
  });
  let stopped: Promise<void> | null = null;
  const stop = (): Promise<void> => (stopped ??= broker.close());
  t.teardown(stop);
  const address = `127.0.0.1:${broker.port}`;
  return { broker, dir, address, kafka: (config) => kafkaFor(address, config), stop };
}

const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/cli/main.js');

export interface ChildBroker {
  child: ChildProcess;
  address: string;
  kafka(config?: Partial<KafkaConfig>): Kafka;
  /** Resolves when the process has exited. */
  exited: Promise<number | null>;
}

/** The broker CLI in a child process on `dir`; resolves once it says where it listens. */
export function spawnBroker(t: ExecutionContext, dir: string, settings: Record<string, string> = {}): Promise<ChildBroker> {
  const overrides = Object.entries({ ...TEST_BROKER_SETTINGS, ...settings }).flatMap(([key, value]) => ['--override', `${key}=${value}`]);
  const child = spawn(process.execPath, [CLI, 'broker', '--dir', dir, ...overrides], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    let stdout = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const listening = /listening on ([\d.]+):(\d+)/.exec(stdout);
      if (listening !== null) {
        const address = `${listening[1]}:${listening[2]}`;
        resolve({ child, address, kafka: (config) => kafkaFor(address, config), exited });
      }
    });
    void exited.then((code) => reject(new Error(`broker exited (${code}) before listening: ${stderr}`)));
  });
}
