/**
 * Hostile values for the API fuzz test: a seeded source of the values a careless or malicious caller
 * passes (wrong types, NaN, ±Infinity, -0, 2^53, huge and empty strings, NUL, lone surrogates,
 * prototype keys, 100,000-entry arrays, unknown fields, functions, Symbols, nested objects) and a
 * mutation that plants one of them somewhere inside a valid argument list, so a call gets past its first
 * checks and reaches the deeper ones.
 *
 * No leaf is an absolute path or climbs out of the working directory ('/', '..'): a path argument that
 * happens to be valid is created under the fuzz test's own folder, which it makes its working directory.
 */
import { createRandom } from './ring-streams.js';

/** A seeded generator with the helpers the fuzz test draws from. */
export class Fuzz {
  private readonly next: () => number;

  constructor(seed: number) {
    this.next = createRandom(seed);
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return this.next() % n;
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() / 2 ** 32 < p;
  }

  pick<T>(list: readonly T[]): T {
    return list[this.int(list.length)];
  }

  /** A hostile leaf value (see LEAVES). */
  hostile(): unknown {
    return this.pick(LEAVES)();
  }

  /**
   * `value` with one hostile change planted at a random depth: a leaf replaced, a field added (unknown,
   * or a prototype key) or removed, an element appended. Containers are copied, never changed in place.
   */
  mutate(value: unknown, depth = 0): unknown {
    if (depth > 3 || this.chance(0.3)) return this.hostile();
    if (Array.isArray(value)) {
      if (value.length === 0 || value.length > 1000 || this.chance(0.15)) return this.chance(0.5) ? [...value.slice(0, 1000), this.hostile()] : this.hostile();
      const copy = [...value];
      const index = this.int(copy.length);
      copy[index] = this.mutate(copy[index], depth + 1);
      return copy;
    }
    if (isPlainObject(value)) {
      const copy: Record<string, unknown> = { ...value };
      const keys = Object.keys(copy);
      if (keys.length === 0 || this.chance(0.2)) {
        // An own property even for "__proto__" (defineProperty, as JSON.parse makes it).
        Object.defineProperty(copy, this.pick(FIELD_NAMES), { value: this.hostile(), enumerable: true, configurable: true, writable: true });
        return copy;
      }
      const key = this.pick(keys);
      if (this.chance(0.15)) delete copy[key];
      else copy[key] = this.mutate(copy[key], depth + 1);
      return copy;
    }
    return this.hostile();
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;
}

/** Field names planted into objects: unknown ones, prototype keys, and real ones in the wrong place. */
const FIELD_NAMES = ['unknownField', '__proto__', 'constructor', 'hasOwnProperty', 'valueOf', 'toString', 'name', 'groupId', 'from', 'types', 'limit', 'retention.ms'];

const HUGE_STRING = 'x'.repeat(1 << 20);
const HUNDRED_THOUSAND = Array.from({ length: 100_000 }, (_, i) => (i % 2 === 0 ? 't0' : { topic: 't0', partition: 0, offset: i }));
const DEEP = { a: { b: { c: { d: [1, { e: null, f: [[[]]] }] } } } };

/** Makers of hostile leaves (a function each, so every call gets a fresh object). */
const LEAVES: readonly (() => unknown)[] = [
  () => undefined,
  () => null,
  () => true,
  () => false,
  () => 0,
  () => -0,
  () => 1,
  () => -1,
  () => 1.5,
  () => Number.NaN,
  () => Number.POSITIVE_INFINITY,
  () => Number.NEGATIVE_INFINITY,
  () => 2 ** 53,
  () => -(2 ** 53),
  () => 2 ** 31,
  () => 2 ** 32,
  () => Number.MAX_VALUE,
  () => Number.MIN_VALUE,
  () => 10n,
  () => '',
  () => ' ',
  () => 'a',
  () => 't0',
  () => 'g0',
  () => 'x0',
  () => HUGE_STRING,
  () => 'a\u0000b',
  () => '\u0000',
  () => '\uD800',
  () => 'x\uDBFF',
  () => '\uDC00y',
  () => 'g0\uD800',
  () => 'g0\uFFFD',
  () => '\u{1F600}',
  () => '__proto__',
  () => 'constructor',
  () => 'hasOwnProperty',
  () => 'valueOf',
  () => 'x'.repeat(300),
  // At the length limits, in characters that take two, three and four UTF-8 bytes.
  () => 'a'.repeat(249),
  () => 'a'.repeat(250),
  () => '\u00e9'.repeat(1024),
  () => '\u20ac'.repeat(1024),
  () => '\u20ac'.repeat(1025),
  () => '\u{1F600}'.repeat(512),
  () => 'Empty',
  () => 'TopicCreated',
  () => 'ONLINE',
  () => 'compact',
  () => () => 1,
  () => Symbol('fuzz'),
  () => [],
  () => HUNDRED_THOUSAND,
  () => [null],
  () => [undefined],
  () => [Symbol('in an array')],
  () => [() => 2],
  () => ['\uD800'],
  () => [[1, 2], [3]],
  () => ({}),
  () => Object.create(null),
  () => JSON.parse('{"__proto__": {"polluted": 1}}'),
  () => ({ constructor: 'x', hasOwnProperty: 1, valueOf: null }),
  () => ({ unknownField: 1 }),
  () => ({ fn: () => 3, sym: Symbol('field') }),
  () => DEEP,
  () => new Uint8Array(3),
  () => new Date(0),
  () => new Map([['a', 1]]),
];

/** Printable form of a fuzz argument, for a failure message (no huge strings, no 100,000 elements). */
export function describe(value: unknown, depth = 0): string {
  if (typeof value === 'symbol') return value.toString();
  if (typeof value === 'function') return '[function]';
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'string') return value.length > 40 ? `"${value.slice(0, 20)}..." (${value.length} chars)` : JSON.stringify(value);
  if (typeof value === 'number') return Object.is(value, -0) ? '-0' : String(value);
  if (typeof value !== 'object' || value === null) return String(value);
  if (depth > 3) return '{...}';
  if (Array.isArray(value)) {
    const shown = value.slice(0, 4).map((each) => describe(each, depth + 1));
    return `[${shown.join(', ')}${value.length > 4 ? `, ... (${value.length} elements)` : ''}]`;
  }
  if (value instanceof Uint8Array) return `Uint8Array(${value.length})`;
  const entries = Object.keys(value).slice(0, 8).map((key) => `${JSON.stringify(key)}: ${describe((value as Record<string, unknown>)[key], depth + 1)}`);
  return `{${entries.join(', ')}}`;
}
