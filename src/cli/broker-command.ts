/**
 * `metalog broker` (and `npm start`): runs the Kafka broker on a store until SIGINT or SIGTERM, then
 * stops it cleanly (connections closed, partition logs flushed, store closed).
 *
 * Settings are Kafka's names (src/kafka/broker/broker-settings.ts): from `--config FILE` (a properties
 * file), then `--override key=value` (repeatable), then the flags `--dir`, `--host`, `--port`, which win.
 * The first line on stdout says where it listens, so a script (or a test) can wait for it.
 */
import { CommanderError } from 'commander';
import { KafkaBroker } from '../kafka/broker/broker.js';
import { BrokerSettingError, readPropertiesFile, resolveBrokerSettings } from '../kafka/broker/broker-settings.js';
import { EXIT, untilSignal } from './cli-support.js';

export interface BrokerCommandOptions {
  dir?: string;
  host?: string;
  port?: number;
  config?: string;
  override: string[];
}

/** The settings sources of the command line, in the order they apply. */
export function brokerSettingsOf(options: BrokerCommandOptions): ReturnType<typeof resolveBrokerSettings> {
  const fromFile = options.config === undefined ? {} : readPropertiesFile(options.config);
  const overrides: Record<string, string> = {};
  for (const pair of options.override) {
    const equals = pair.indexOf('=');
    overrides[equals < 0 ? pair : pair.slice(0, equals)] = equals < 0 ? '' : pair.slice(equals + 1);
  }
  const flags: Record<string, string> = {};
  if (options.dir !== undefined) flags['log.dir'] = options.dir;
  if (options.host !== undefined) flags.host = options.host;
  if (options.port !== undefined) flags.port = String(options.port);
  return resolveBrokerSettings(fromFile, overrides, flags);
}

/** Runs the broker until a signal; resolves to the exit code. */
export async function brokerCommand(options: BrokerCommandOptions): Promise<number> {
  let settings: ReturnType<typeof resolveBrokerSettings>;
  try {
    settings = brokerSettingsOf(options);
  } catch (error) {
    // A setting that cannot be used is a usage error (exit 2), like a bad flag.
    if (error instanceof BrokerSettingError) throw new CommanderError(EXIT.USAGE, 'metalog.settings', `error: ${error.message}`);
    throw error;
  }
  const stopped = untilSignal();
  const broker = await KafkaBroker.start({ settings, log: (line) => process.stderr.write(`${new Date().toISOString()} ${line}\n`) });
  process.stdout.write(`broker ${settings['node.id']} of cluster ${broker.clusterId} listening on ${settings.host}:${broker.port} (data in ${settings['log.dir']})\n`);
  const signal = await stopped;
  process.stdout.write(`${signal}: stopping\n`);
  await broker.close();
  process.stdout.write('stopped\n');
  return 0;
}
