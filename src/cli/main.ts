#!/usr/bin/env node
/**
 * The `metalog` command line: operator tools over a store directory, declared with commander, so
 * `metalog --help` and `metalog <command> --help` list every command and option, and an unknown
 * command or option, a missing argument or a bad value is a usage error.
 *
 * Exit codes (the contract scripts rely on): 0 ok; 1 damage found or the command failed (`CODE: message`
 * on stderr); 2 usage error. `--json` prints one JSON object where a command has a result.
 *
 * The commands live beside this file: log-commands.ts (inspect, verify, repair, dump, history, state),
 * operations.ts (snapshot, compact, backup, restore, diff), metrics-command.ts (metrics serve). This file
 * only declares them and maps what they return or throw to an exit code.
 */
import { Command, CommanderError, Option } from 'commander';
import type { EntityRef } from '../history/history.js';
import { CONFIG_OPTIONS } from '../config.js';
import { storageFor } from '../wal/storage.js';
import { collect, collectEventType, EXIT, failureMessage, parseInteger, parseOffset, parsePort, parseTime, requireStore } from './cli-support.js';
import { dumpCommand, historyCommand, inspectOrVerify, repairCommand, stateCommand } from './log-commands.js';
import { METRICS_HOST_DEFAULT, METRICS_PORT_DEFAULT, serveMetricsUntilSignal } from './metrics-command.js';
import { brokerCommand, type BrokerCommandOptions } from './broker-command.js';
import { backupCommand, diffCommand, restoreCommand, snapshotCommand } from './operations.js';

/** The store options (MetaLog.open's config), listed after the commands in `metalog --help`. */
const STORE_OPTIONS_HELP = `
Store options (the config of MetaLog.open; see README "Configuration"):
${Object.entries(CONFIG_OPTIONS)
  .map(([name, spec]) => `  ${name.padEnd(32)}${spec.doc}`)
  .join('\n')}
`;

/** The entity `history` is about, from its options; a usage error unless exactly one is named. */
function entityOf(options: { topic?: string; group?: string; broker?: number; transactionalId?: string }): EntityRef {
  const named: EntityRef[] = [];
  if (options.topic !== undefined) named.push({ topic: options.topic });
  if (options.group !== undefined) named.push({ group: options.group });
  if (options.broker !== undefined) named.push({ broker: options.broker });
  if (options.transactionalId !== undefined) named.push({ transactionalId: options.transactionalId });
  if (named.length !== 1) throw new CommanderError(EXIT.USAGE, 'metalog.entity', 'error: name exactly one entity (--topic, --group, --broker or --transactional-id)');
  return named[0];
}

/** Builds the program; each action stores its exit code in `exit`. */
function buildProgram(exit: { code: number }): Command {
  const storage = storageFor();
  const program = new Command('metalog')
    .description('Operator tools for a chronik-metalog store directory.')
    .showHelpAfterError('(run with --help for usage)')
    .allowExcessArguments(false)
    .exitOverride()
    .addHelpText('after', STORE_OPTIONS_HELP);
  const json = new Option('--json', 'print one JSON object');
  const run = (work: () => number | Promise<number>) => async (): Promise<void> => {
    exit.code = await work();
  };

  program.command('inspect').description('list segments with their offsets, records and bytes (read-only; safe while the store is open)')
    .argument('<dir>', 'the store directory').addOption(json)
    .action((dir: string, options: { json?: boolean }) => run(() => inspectOrVerify(dir, options.json === true, 'inspect', storage))());
  program.command('verify').description("check every checksum, replay every event, check each snapshot's checksums and digest against the WAL; exit 1 on damage (read-only)")
    .argument('<dir>', 'the store directory').addOption(json)
    .action((dir: string, options: { json?: boolean }) => run(() => inspectOrVerify(dir, options.json === true, 'verify', storage))());
  program.command('repair').description('cut a corrupt log at its first damage, keeping a copy of what is cut (the store must not be open)')
    .argument('<dir>', 'the store directory').addOption(json)
    .action((dir: string, options: { json?: boolean }) => run(() => repairCommand(dir, options.json === true))());
  program.command('dump').description('print events as JSON lines ({ offset, timestampMs, type, value }; bytes as base64); read-only, safe while open')
    .argument('<dir>', 'the store directory')
    .option('--type <type>', 'only events of this type (repeatable)', collectEventType, [])
    .option('--from <offset>', 'first offset', parseOffset, 0)
    .option('--to <offset>', 'last offset (inclusive)', parseOffset, Number.MAX_SAFE_INTEGER)
    .action((dir: string, options: { type: string[]; from: number; to: number }) => run(() => dumpCommand(dir, { types: options.type, from: options.from, to: options.to }, storage))());
  program.command('history').description('the events that changed one entity, oldest first, as JSON lines (read-only, safe while open)')
    .argument('<dir>', 'the store directory')
    .option('--topic <name>', 'a topic')
    .option('--group <id>', 'a consumer group')
    .option('--broker <id>', 'a broker', parseInteger)
    .option('--transactional-id <id>', 'a transactional id')
    .option('--type <type>', 'only events of this type (repeatable)', collectEventType, [])
    .action((dir: string, options: { topic?: string; group?: string; broker?: number; transactionalId?: string; type: string[] }) =>
      run(() => historyCommand(dir, entityOf(options), options.type, storage))());
  program.command('state').description('the state folded from the log up to an offset (default: its end): counts, or with --json all of it; read-only')
    .argument('<dir>', 'the store directory')
    .option('--at <offset>', 'the offset to fold through (inclusive)', parseOffset)
    .addOption(json)
    .action((dir: string, options: { at?: number; json?: boolean }) => run(() => stateCommand(dir, options.at ?? null, options.json === true, storage))());
  program.command('diff').description('what changed between two offsets: entities added, removed, changed (read-only)')
    .argument('<dir>', 'the store directory')
    .argument('<from>', 'the earlier offset', parseOffset)
    .argument('<to>', 'the later offset', parseOffset)
    .addOption(json)
    .action((dir: string, from: number, to: number, options: { json?: boolean }) => run(() => {
      requireStore(dir, storage);
      return diffCommand(dir, from, to, options.json === true, storage);
    })());
  program.command('snapshot').description('open the store, write a snapshot, delete older snapshots and WAL segments per retention (refused while another process has it open)')
    .argument('<dir>', 'the store directory').addOption(json)
    .action((dir: string, options: { json?: boolean }) => run(() => {
      requireStore(dir, storage);
      return snapshotCommand(dir, options.json === true, storage);
    })());
  program.command('compact').description('snapshot, then delete the WAL segments it covers that are older or beyond the given retention')
    .argument('<dir>', 'the store directory')
    .option('--retention-ms <ms>', 'keep segments sealed less than this long ago', parseInteger, 0)
    .option('--retention-bytes <bytes>', 'keep at most about this many WAL bytes (-1: no limit)', parseInteger, -1)
    .addOption(json)
    .action((dir: string, options: { retentionMs: number; retentionBytes: number; json?: boolean }) => run(() => {
      requireStore(dir, storage);
      return snapshotCommand(dir, options.json === true, storage, { historyRetentionMs: options.retentionMs, historyRetentionBytes: options.retentionBytes });
    })());
  program.command('backup').description("copy the store's snapshots and WAL to an empty folder and verify the copy (safe while the store is open)")
    .argument('<dir>', 'the store directory')
    .argument('<dest>', 'an empty or missing folder')
    .addOption(json)
    .action((dir: string, dest: string, options: { json?: boolean }) => run(() => {
      requireStore(dir, storage);
      return backupCommand(dir, dest, options.json === true, storage);
    })());
  program.command('restore').description('make a new store in an empty folder with the state of a store or backup at a point of its history (default: all of it)')
    .argument('<src>', 'the store or backup to restore from')
    .argument('<dir>', 'an empty or missing folder for the new store')
    .addOption(new Option('--to <offset>', 'the last offset to keep').argParser(parseOffset).conflicts('toTime'))
    .addOption(new Option('--to-time <time>', 'keep every event committed by then (ms since the epoch or an ISO date)').argParser(parseTime))
    .addOption(json)
    .action((src: string, dir: string, options: { to?: number; toTime?: number; json?: boolean }) => run(() => {
      requireStore(src, storage);
      return restoreCommand(src, dir, { toOffset: options.to, toTime: options.toTime }, options.json === true, storage);
    })());
  const metrics = program.command('metrics').description("the store's metrics");
  metrics.command('serve').description('open the store and serve its metrics at http://HOST:PORT/metrics until SIGINT or SIGTERM (refused while another process has it open)')
    .argument('<dir>', 'the store directory')
    .option('--port <port>', 'TCP port (0 picks a free one)', parsePort, METRICS_PORT_DEFAULT)
    .option('--host <host>', 'address to listen on', METRICS_HOST_DEFAULT)
    .action((dir: string, options: { port: number; host: string }) => run(() => {
      // Opening a mistyped folder would make a new, empty store there.
      requireStore(dir, storage);
      return serveMetricsUntilSignal({ dir, port: options.port, host: options.host });
    })());
  program.command('broker').description('run the Kafka broker on a store (data in --dir, ./data by default) until SIGINT or SIGTERM')
    .option('--dir <dir>', 'data directory (log.dir): metadata/ holds the store, logs/ the partition logs')
    .option('--host <host>', 'address to listen on and advertise (host)')
    .option('--port <port>', 'TCP port (port; 0 picks a free one)', parsePort)
    .option('--config <file>', 'a properties file of broker settings (Kafka names: num.partitions=3, ...)')
    .option('--override <key=value>', 'one broker setting (repeatable; wins over --config)', collect, [])
    .action((options: BrokerCommandOptions) => run(() => brokerCommand(options))());
  return program;
}

/** Runs `metalog` with `args`; resolves with the exit code. */
async function main(args: string[]): Promise<number> {
  const exit = { code: EXIT.OK as number };
  const program = buildProgram(exit);
  if (args.length === 0) {
    // No command at all: say what there is, as a usage error.
    process.stdout.write(program.helpInformation() + STORE_OPTIONS_HELP);
    return EXIT.USAGE;
  }
  try {
    await program.parseAsync(args, { from: 'user' });
    return exit.code;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help is a success; help shown for a missing subcommand, and every other commander error, is a
      // usage error. Commander printed its own message; ours (a code outside its namespace) we print.
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return EXIT.OK;
      if (error.code === 'commander.help') return error.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
      if (!error.code.startsWith('commander.')) process.stderr.write(`${error.message}\n`);
      return EXIT.USAGE;
    }
    process.stderr.write(`metalog ${args[0]}: ${failureMessage(error)}\n`);
    return EXIT.FAILED;
  }
}

void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
