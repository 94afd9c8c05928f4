/**
 * BackedMap's rules (src/state/backed-map.ts): entries load from the source on first use; a deletion is
 * remembered while the source lags; a miss is not remembered (any caller could otherwise grow the map
 * with names that exist nowhere); `forget` drops what the source has caught up with, and only that.
 */
import test from 'ava';
import { BackedMap, type MapSource } from '../../../src/state/backed-map.js';

/** A source over a plain Map that counts its loads. */
function countingSource(entries: Map<string, { v: number }>): MapSource<string, { v: number }> & { loads: number } {
  const source = {
    loads: 0,
    load: (key: string) => {
      source.loads++;
      return entries.get(key);
    },
    loadAll: () => entries.entries(),
  };
  return source;
}

test('an entry loads once; a key the source lacks is asked again each time and never remembered', (t) => {
  const published = new Map([['a', { v: 1 }]]);
  const source = countingSource(published);
  const map = new BackedMap(source);
  t.is(map.get('a')?.v, 1);
  t.is(map.get('a')?.v, 1);
  t.is(source.loads, 1);
  for (let i = 0; i < 1000; i++) t.is(map.get(`missing-${i % 10}`), undefined);
  t.is(source.loads, 1001);
  t.false(map.decided('missing-1'), 'a miss leaves nothing behind');
});

test('a deletion is remembered until the source has caught up, then forgotten', (t) => {
  const published = new Map([['a', { v: 1 }]]);
  const map = new BackedMap(countingSource(published));
  t.true(map.delete('a'));
  t.is(map.get('a'), undefined, 'the lagging source is not asked');
  t.true(map.decided('a'));
  // The writer publishes the deletion.
  published.delete('a');
  map.forget('a', undefined);
  t.false(map.decided('a'));
  t.is(map.get('a'), undefined);
});

test('forget drops an entry only while it is the value the source was given', (t) => {
  const published = new Map<string, { v: number }>();
  const map = new BackedMap(countingSource(published));
  const first = { v: 1 };
  const second = { v: 2 };
  map.set('a', first);
  map.set('a', second);
  // The source is given the first value (an older batch is published) while the map holds a newer one.
  published.set('a', first);
  map.forget('a', first);
  t.is(map.get('a'), second, 'the change not yet published stays');
  published.set('a', second);
  map.forget('a', second);
  t.false(map.decided('a'), 'the published copy is dropped');
  t.is(map.get('a'), second, 'and read back from the source');
  // Re-created after a published deletion: the new entry is kept until it is published.
  map.delete('a');
  published.delete('a');
  map.set('a', first);
  map.forget('a', undefined);
  t.is(map.get('a'), first);
});

test('once every entry is loaded the map is plain, and forget changes nothing', (t) => {
  const published = new Map([['a', { v: 1 }], ['b', { v: 2 }]]);
  const map = new BackedMap(countingSource(published));
  t.is(map.size, 2);
  const a = map.get('a');
  map.forget('a', a);
  t.is(map.get('a'), a);
  t.false(map.backed);
});

test('a source that asks for it has its misses remembered until the key is set here', (t) => {
  const source = Object.assign(countingSource(new Map()), { rememberMisses: true });
  const map = new BackedMap(source);
  t.is(map.get('t'), undefined);
  t.is(map.get('t'), undefined);
  t.is(source.loads, 1, 'the scan a miss costs runs once');
  const value = { v: 7 };
  map.set('t', value);
  t.is(map.get('t'), value);
});

test('forgetLoaded drops what was only read from the source, never what was changed here', (t) => {
  const published = new Map([['a', { v: 1 }], ['b', { v: 2 }]]);
  const map = new BackedMap(countingSource(published));
  map.get('a');
  map.get('b');
  const changed = { v: 3 };
  map.set('b', changed);
  map.forgetLoaded();
  t.false(map.decided('a'), 'a was only read: the source has it');
  t.is(map.get('b'), changed, 'b was changed here and is not published yet');
});

