/**
 * The layering of docs/architecture.md, checked against the code's own imports: each module imports
 * only from its own layer or below, nothing imports a thread entry (workers/) or the CLI, native-free/
 * imports nothing outside itself, and no modules import each other in a circle.
 *
 * How: every `import ... from '<relative path>'` (and `export ... from`) of the TypeScript sources is
 * read as text and resolved to a file; a dynamic `import()` counts too. Packages (avsc, piscina, node:*)
 * are not layers and are left out.
 */
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The source tree: dist/test/unit/ is three folders below the project root. */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** Layers from the bottom up; a module may import from its own layer or a lower one. */
const LAYERS: readonly (readonly string[])[] = [
  ['native-free/'],
  ['src/errors.ts', 'src/assert.ts', 'src/limits.ts', 'src/clock.ts', 'src/config.ts', 'src/crc32c.ts', 'src/lock.ts', 'src/recovery-report.ts', 'src/well-formed.ts'],
  ['src/codec/'],
  ['src/wal/', 'src/state/'],
  ['src/commands/', 'src/store-index/'],
  ['src/snapshot/'],
  ['src/history/', 'src/metrics/', 'src/writer/', 'src/backup/', 'src/cluster/'],
  ['src/reader/'],
  ['src/api/'],
  ['src/index.ts'],
  ['src/kafka/'],
  ['src/cli/'],
  ['workers/'],
];

function layerOf(file: string): number {
  const layer = LAYERS.findIndex((prefixes) => prefixes.some((prefix) => file === prefix || file.startsWith(prefix)));
  if (layer < 0) throw new Error(`${file} belongs to no layer of docs/architecture.md`);
  return layer;
}

function sourcesUnder(folder: string): string[] {
  const found: string[] = [];
  for (const entry of fs.readdirSync(path.join(ROOT, folder), { withFileTypes: true })) {
    const relative = `${folder}/${entry.name}`;
    if (entry.isDirectory()) found.push(...sourcesUnder(relative));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) found.push(relative);
  }
  return found;
}

const IMPORT = /(?:import|export)\s[^;]*?from\s+'(\.[^']+)'|import\(\s*'(\.[^']+)'\s*\)/g;

function importsOf(file: string): string[] {
  const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
  const targets: string[] = [];
  for (const match of text.matchAll(IMPORT)) {
    const specifier = match[1] ?? match[2];
    targets.push(path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier)).replace(/\.js$/, '.ts'));
  }
  return targets;
}

const files = ['native-free', 'src', 'workers'].flatMap(sourcesUnder);
const graph = new Map(files.map((file) => [file, importsOf(file)]));

test('every import resolves to a source file of the tree', (t) => {
  for (const [file, targets] of graph) for (const target of targets) t.true(graph.has(target), `${file} imports ${target}`);
});

test('imports run from a layer to its own or a lower one', (t) => {
  const upward: string[] = [];
  for (const [file, targets] of graph) {
    for (const target of targets) if (layerOf(target) > layerOf(file)) upward.push(`${file} -> ${target}`);
  }
  t.deepEqual(upward, []);
});

test('nothing imports a thread entry or the CLI but the CLI itself; native-free imports only itself', (t) => {
  for (const [file, targets] of graph) {
    for (const target of targets) {
      t.false(target.startsWith('workers/'), `${file} imports ${target}`);
      if (!file.startsWith('src/cli/')) t.false(target.startsWith('src/cli/'), `${file} imports ${target}`);
      if (file.startsWith('native-free/')) t.true(target.startsWith('native-free/'), `${file} imports ${target}`);
    }
  }
});

/** Every circle of imports in `imports` (file -> the files it imports), as "a -> b -> a". */
function circlesOf(imports: ReadonlyMap<string, readonly string[]>): string[] {
  const state = new Map<string, 'open' | 'done'>();
  const circles: string[] = [];
  const visit = (file: string, trail: string[]): void => {
    if (state.get(file) === 'done') return;
    if (state.get(file) === 'open') {
      circles.push([...trail.slice(trail.indexOf(file)), file].join(' -> '));
      return;
    }
    state.set(file, 'open');
    for (const target of imports.get(file) ?? []) visit(target, [...trail, file]);
    state.set(file, 'done');
  };
  for (const file of imports.keys()) visit(file, []);
  return circles;
}

test('no modules import each other in a circle', (t) => {
  t.deepEqual(circlesOf(graph), []);
});

test('the checker notices an upward import and a circle (canary)', (t) => {
  t.true(layerOf('src/api/metalog.ts') > layerOf('src/wal/storage.ts'));
  const text = "import { MetaLog } from '../api/metalog.js';\nexport { x } from './y.js';";
  t.deepEqual([...text.matchAll(IMPORT)].map((match) => match[1]), ['../api/metalog.js', './y.js']);
  const planted = new Map([['a.ts', ['b.ts']], ['b.ts', ['c.ts']], ['c.ts', ['a.ts']], ['d.ts', ['a.ts']]]);
  t.deepEqual(circlesOf(planted), ['a.ts -> b.ts -> c.ts -> a.ts']);
});

test('the broker (src/kafka/) reaches the store only through the package entry, as an outside broker would', (t) => {
  const reachingIn: string[] = [];
  for (const [file, targets] of graph) {
    if (!file.startsWith('src/kafka/')) continue;
    for (const target of targets) if (!target.startsWith('src/kafka/') && target !== 'src/index.ts') reachingIn.push(`${file} -> ${target}`);
  }
  t.deepEqual(reachingIn, []);
});
