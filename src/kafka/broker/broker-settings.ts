/**
 * The broker's settings, named as Kafka names them, each declared once: type, default, bounds, doc.
 * They come from a properties file (`key=value` lines, `#` comments) and flags; a later source wins.
 * An unknown key or a value out of bounds is an error naming the key, before anything starts.
 */
import fs from 'node:fs';

interface IntegerSetting {
  readonly kind: 'integer';
  readonly defaultValue: number;
  readonly min: number;
  readonly max: number;
  readonly doc: string;
}

interface BooleanSetting {
  readonly kind: 'boolean';
  readonly defaultValue: boolean;
  readonly doc: string;
}

interface TextSetting {
  readonly kind: 'text';
  readonly defaultValue: string;
  readonly values?: readonly string[];
  readonly doc: string;
}

type Setting = IntegerSetting | BooleanSetting | TextSetting;

const INT32_MAX = 2 ** 31 - 1;

/** Every setting the broker reads. */
export const BROKER_SETTINGS = {
  'node.id': { kind: 'integer', defaultValue: 1, min: 0, max: INT32_MAX, doc: 'This broker\'s id (Kafka\'s node.id / broker.id).' },
  'log.dir': { kind: 'text', defaultValue: './data', doc: 'Data directory: metadata/ holds the store, logs/ the partition logs.' },
  host: { kind: 'text', defaultValue: '127.0.0.1', doc: 'Address to listen on; Metadata advertises it.' },
  port: { kind: 'integer', defaultValue: 9092, min: 0, max: 65535, doc: 'Port to listen on (0: any free port).' },
  'auto.create.topics.enable': { kind: 'boolean', defaultValue: true, doc: 'A Metadata request naming an unknown topic creates it.' },
  'num.partitions': { kind: 'integer', defaultValue: 1, min: 1, max: 100_000, doc: 'Partitions of a topic created without a count.' },
  'default.replication.factor': { kind: 'integer', defaultValue: 1, min: 1, max: 1, doc: 'Replication factor of a topic created without one (one node: 1).' },
  'group.initial.rebalance.delay.ms': { kind: 'integer', defaultValue: 3000, min: 0, max: 300_000, doc: 'How long the first rebalance of an empty group waits for more members.' },
  'group.min.session.timeout.ms': { kind: 'integer', defaultValue: 6000, min: 1, max: INT32_MAX, doc: 'Smallest session timeout a member may ask for.' },
  'group.max.session.timeout.ms': { kind: 'integer', defaultValue: 1_800_000, min: 1, max: INT32_MAX, doc: 'Largest session timeout a member may ask for.' },
  'offsets.retention.minutes': { kind: 'integer', defaultValue: 10_080, min: 1, max: 2 ** 31 - 1, doc: 'How long the offsets of an empty group are kept.' },
  'socket.request.max.bytes': { kind: 'integer', defaultValue: 104_857_600, min: 1024, max: INT32_MAX, doc: 'Largest request frame; a larger one closes its connection.' },
  'connections.max.idle.ms': { kind: 'integer', defaultValue: 600_000, min: 1000, max: INT32_MAX, doc: 'A connection that sends nothing this long is closed (so is one that stops mid-request).' },
  'message.max.bytes': { kind: 'integer', defaultValue: 1_048_588, min: 0, max: INT32_MAX, doc: 'Largest record batch, unless a topic sets max.message.bytes.' },
  'log.segment.bytes': { kind: 'integer', defaultValue: 1_073_741_824, min: 14, max: INT32_MAX, doc: 'Segment size of a partition log, unless a topic sets segment.bytes.' },
  'log.retention.check.interval.ms': { kind: 'integer', defaultValue: 300_000, min: 1, max: INT32_MAX, doc: 'How often retention (retention.ms, retention.bytes) is applied.' },
  durability: { kind: 'text', defaultValue: 'fsync', values: ['fsync', 'interval', 'none'], doc: 'fsync: a write (metadata or acks=-1 records) is answered once on disk; interval: synced every flush.interval.ms; none: left to the OS.' },
  'flush.interval.ms': { kind: 'integer', defaultValue: 10, min: 1, max: 60_000, doc: 'With durability interval: the longest a written byte waits for fdatasync.' },
} as const satisfies Record<string, Setting>;

export type BrokerSettingName = keyof typeof BROKER_SETTINGS;

type ValueOf<S> = S extends IntegerSetting ? number : S extends BooleanSetting ? boolean : string;

/** Resolved settings: every key, filled. */
export type BrokerSettings = { readonly [K in BrokerSettingName]: ValueOf<(typeof BROKER_SETTINGS)[K]> };

/** A setting that cannot be used: the message names the key and the rule. */
export class BrokerSettingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BrokerSettingError';
  }
}

function parseValue(name: BrokerSettingName, text: string): number | boolean | string {
  const setting: Setting = BROKER_SETTINGS[name];
  const trimmed = text.trim();
  switch (setting.kind) {
    case 'integer': {
      const value = /^-?\d+$/.test(trimmed) ? Number(trimmed) : NaN;
      if (!Number.isSafeInteger(value) || value < setting.min || value > setting.max) {
        throw new BrokerSettingError(`${name} must be an integer from ${setting.min} to ${setting.max}, got "${text}"`);
      }
      return value;
    }
    case 'boolean':
      if (trimmed !== 'true' && trimmed !== 'false') throw new BrokerSettingError(`${name} must be true or false, got "${text}"`);
      return trimmed === 'true';
    case 'text':
      if (setting.values !== undefined && !setting.values.includes(trimmed)) {
        throw new BrokerSettingError(`${name} must be one of ${setting.values.join(', ')}, got "${text}"`);
      }
      if (trimmed.length === 0) throw new BrokerSettingError(`${name} must not be empty`);
      return trimmed;
  }
}

/** Reads `key=value` lines of a properties file (blank lines and `#`/`!` comments skipped). */
export function readPropertiesFile(file: string): Record<string, string> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new BrokerSettingError(`cannot read properties file ${file}: ${(error as Error).message}`);
  }
  const values: Record<string, string> = {};
  for (const [index, rawLine] of text.split(/\r?\n/).entries()) {
    const line = rawLine.trim();
    if (line.length === 0 || line.startsWith('#') || line.startsWith('!')) continue;
    const equals = line.search(/[=:]/);
    if (equals <= 0) throw new BrokerSettingError(`${file}:${index + 1}: expected key=value`);
    values[line.slice(0, equals).trim()] = line.slice(equals + 1).trim();
  }
  return values;
}

/** Fills every setting from the given `key → text` sources, later ones winning; checks each. */
export function resolveBrokerSettings(...sources: Readonly<Record<string, string>>[]): BrokerSettings {
  const resolved: Record<string, number | boolean | string> = {};
  for (const [name, setting] of Object.entries(BROKER_SETTINGS)) resolved[name] = setting.defaultValue;
  for (const source of sources) {
    for (const [name, text] of Object.entries(source)) {
      if (!Object.hasOwn(BROKER_SETTINGS, name)) throw new BrokerSettingError(`unknown setting ${name} (known: ${Object.keys(BROKER_SETTINGS).join(', ')})`);
      resolved[name] = parseValue(name as BrokerSettingName, text);
    }
  }
  const settings = resolved as BrokerSettings;
  if (settings['group.min.session.timeout.ms'] > settings['group.max.session.timeout.ms']) {
    throw new BrokerSettingError('group.min.session.timeout.ms must not exceed group.max.session.timeout.ms');
  }
  return Object.freeze(settings);
}
