/**
 * The broker's settings: Kafka's names, defaults, bounds, the properties file, and the README's tables of
 * settings and served APIs kept equal to the code.
 */
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BROKER_SETTINGS, BrokerSettingError, readPropertiesFile, resolveBrokerSettings } from '../../../../src/kafka/broker/broker-settings.js';
import { SERVED_APIS } from '../../../../src/kafka/codec/api-table.js';
import { tmpDir } from '../../../helpers/tmp.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../..');
const WHOLE_README = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
/** README's section on the broker (the store's own config table has a `durability` row too). */
const README = WHOLE_README.slice(WHOLE_README.indexOf('\n## The Kafka broker'), WHOLE_README.indexOf('\n## ', WHOLE_README.indexOf('\n## The Kafka broker') + 1));

test('defaults fill every setting; later sources win', (t) => {
  const settings = resolveBrokerSettings({ port: '1234', 'num.partitions': '3' }, { port: '0' });
  t.is(settings.port, 0);
  t.is(settings['num.partitions'], 3);
  t.is(settings['auto.create.topics.enable'], true);
  t.is(settings.durability, 'fsync');
  t.true(Object.isFrozen(settings));
});

test('an unknown key, a value out of bounds or of the wrong kind names the key', (t) => {
  const refused = (source: Record<string, string>, pattern: RegExp) => t.regex(t.throws(() => resolveBrokerSettings(source), { instanceOf: BrokerSettingError }).message, pattern);
  refused({ 'num.partition': '3' }, /unknown setting num\.partition/);
  refused({ port: '70000' }, /port must be an integer from 0 to 65535/);
  refused({ port: '12ab' }, /port must be an integer/);
  refused({ 'auto.create.topics.enable': 'yes' }, /auto\.create\.topics\.enable must be true or false/);
  refused({ durability: 'sometimes' }, /durability must be one of fsync, interval, none/);
  refused({ 'group.min.session.timeout.ms': '9000', 'group.max.session.timeout.ms': '8000' }, /must not exceed/);
  refused({ constructor: '1' }, /unknown setting constructor/);
});

test('a properties file: key=value and key: value lines, comments and blank lines skipped; a bad line names its number', (t) => {
  const dir = tmpDir(t);
  const file = path.join(dir, 'broker.properties');
  fs.writeFileSync(file, '# a comment\n\nnum.partitions=4\n! another\nhost : 0.0.0.0\n');
  t.deepEqual(readPropertiesFile(file), { 'num.partitions': '4', host: '0.0.0.0' });
  fs.writeFileSync(file, 'num.partitions=4\njust-a-word\n');
  t.regex(t.throws(() => readPropertiesFile(file), { instanceOf: BrokerSettingError }).message, /broker\.properties:2: expected key=value/);
  t.regex(t.throws(() => readPropertiesFile(path.join(dir, 'missing')), { instanceOf: BrokerSettingError }).message, /cannot read properties file/);
});

test("README's settings table lists every setting with its default", (t) => {
  for (const [name, setting] of Object.entries(BROKER_SETTINGS)) {
    t.true(README.includes(`| \`${name}\` |`), `${name} is missing from README`);
    const row = README.split('\n').find((line) => line.startsWith(`| \`${name}\` |`))!;
    t.true(row.includes(`| ${String(setting.defaultValue)} |`), `README's default for ${name}: ${row}`);
  }
});

test("README's table of served APIs matches the codec's", (t) => {
  for (const api of SERVED_APIS) {
    const versions = api.minVersion === api.maxVersion ? `${api.minVersion}` : `${api.minVersion}–${api.maxVersion}`;
    t.true(README.includes(`| ${api.name} | ${api.apiKey} | ${versions} |`), `${api.name} ${versions} is missing from README`);
  }
});
