/** Topic config rules and DescribeConfigs: Kafka's defaults, each valid under its own rule, described in order. */
import test from 'ava';
import { describeTopicConfigs, TOPIC_CONFIG_DEFAULTS, validateTopicConfigs } from '../../../src/commands/topic-configs.js';
import { MetaLogError } from '../../../src/errors.js';

test('every default is a valid value of its key, Long.MAX_VALUE included', (t) => {
  t.deepEqual(validateTopicConfigs({ ...TOPIC_CONFIG_DEFAULTS }), { ...TOPIC_CONFIG_DEFAULTS });
  t.is(TOPIC_CONFIG_DEFAULTS['flush.ms'], '9223372036854775807');
  t.is(TOPIC_CONFIG_DEFAULTS['retention.ms'], '604800000');
  t.is(TOPIC_CONFIG_DEFAULTS['cleanup.policy'], 'delete');
  t.true(Object.isFrozen(TOPIC_CONFIG_DEFAULTS));
});

test('longs are checked as BigInts at both ends of the int64 range', (t) => {
  t.notThrows(() => validateTopicConfigs({ 'retention.bytes': '9223372036854775807', 'segment.jitter.ms': '9223372036854775807' }));
  t.notThrows(() => validateTopicConfigs({ 'retention.ms': '-1' }));
  for (const value of ['9223372036854775808', '99999999999999999999999', '-2', '1.0', '+1']) {
    const error = t.throws(() => validateTopicConfigs({ 'retention.ms': value }), { instanceOf: MetaLogError }) as MetaLogError;
    t.is(error.code, 'INVALID_CONFIG', value);
  }
});

test('describeTopicConfigs: every known key, sorted, own values first, unknown keys left out', (t) => {
  const described = describeTopicConfigs({ 'retention.ms': '1000', 'not.a.key': 'x' });
  t.deepEqual(described.map((entry) => entry.name), Object.keys(TOPIC_CONFIG_DEFAULTS).sort());
  t.deepEqual(described.find((entry) => entry.name === 'retention.ms'), { name: 'retention.ms', value: '1000', isDefault: false, readOnly: false, sensitive: false });
  t.true(described.filter((entry) => entry.name !== 'retention.ms').every((entry) => entry.isDefault && entry.value === TOPIC_CONFIG_DEFAULTS[entry.name]));
  for (const bad of [null, 'x', [], 3]) {
    t.is((t.throws(() => describeTopicConfigs(bad as never)) as MetaLogError).code, 'INVALID_REQUEST');
  }
});
