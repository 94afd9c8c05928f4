/**
 * Fuzz of the whole public API: thousands of seeded calls, each a valid call or a valid call with one
 * hostile value planted in it (test/helpers/hostile-values.ts), over every write, every read, open,
 * backup, restore, repair, watch and every reader pool query, mixed so the state is not trivial
 * (topics, brokers, groups with members, committed offsets, transactions).
 *
 * The property, for every call: it succeeds, or it throws or rejects a MetaLogError whose code is in
 * ERROR_CODES and is not INTERNAL_ERROR (a hostile argument is the caller's error, never the store's);
 * and the store never turns read-only. Afterwards a valid write still works, the served state equals
 * the fold of the WAL (closeAndVerify), and a reopened store serves the same state.
 *
 * How: calls run one at a time, in seed order, with no timer; a call that never settles fails by ava's
 * timeout. The seed is printed (t.log); SEED=<n> replays a run, FUZZ_CALLS=<n> changes its length.
 */
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { ERROR_CODES, MetaLogError } from '../../src/errors.js';
import { describe, Fuzz } from '../helpers/hostile-values.js';
import { closeAndVerify, openStore } from '../helpers/store.js';
import { tmpDir } from '../helpers/tmp.js';
import { callTable, type FuzzCall, type FuzzContext } from './api-fuzz-calls.js';

const seed = process.env.SEED === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(process.env.SEED);
const CALLS = Number(process.env.FUZZ_CALLS ?? 2500);
/** Share of calls left valid (the rest carry one hostile value). */
const VALID_SHARE = 0.35;

/** Why an outcome breaks the property, or null when it keeps it. */
function violation(error: unknown): string | null {
  if (!(error instanceof MetaLogError)) return `threw ${error instanceof Error ? `${error.constructor.name}: ${error.message}` : describe(error)}`;
  if (!Object.hasOwn(ERROR_CODES, error.code)) return `a MetaLogError with the unknown code ${String(error.code)}`;
  if (error.code === 'INTERNAL_ERROR') return `INTERNAL_ERROR: ${error.message}`;
  return null;
}

/** Picks a call by weight. */
function pickCall(fuzz: Fuzz, calls: readonly FuzzCall[], totalWeight: number): FuzzCall {
  let ticket = fuzz.int(totalWeight);
  for (const call of calls) {
    ticket -= call.weight;
    if (ticket < 0) return call;
  }
  return calls[calls.length - 1];
}

test('every public call succeeds or fails with a coded MetaLogError, and the state stays the fold of the log', async (t) => {
  t.log(`seed ${seed} (replay with SEED=${seed})`);
  const root = tmpDir(t, 'metalog-fuzz-');
  // Path arguments that happen to be valid relative paths land in the fuzz folder.
  const cwd = process.cwd();
  process.chdir(root);
  t.teardown(() => process.chdir(cwd));
  const config = { dir: path.join(root, 'store'), durability: 'none', readerThreads: 1 } as const;
  const log = await openStore(t, config);
  const fuzz = new Fuzz(seed);
  const context: FuzzContext = { log, fuzz, root, made: { backups: [], restores: [] }, counter: 0 };
  const calls = callTable();
  const totalWeight = calls.reduce((sum, call) => sum + call.weight, 0);
  const failures: string[] = [];
  const outcomes = { ok: 0, refused: 0 };
  for (let index = 0; index < CALLS && failures.length < 10; index++) {
    const call = pickCall(fuzz, calls, totalWeight);
    const valid = call.args(context);
    const args = fuzz.chance(VALID_SHARE) ? valid : (fuzz.mutate(valid) as unknown[]);
    const argList = Array.isArray(args) ? args : [args];
    try {
      await call.run(context, argList);
      outcomes.ok++;
    } catch (error) {
      outcomes.refused++;
      const problem = violation(error);
      if (problem !== null) failures.push(`call ${index}: ${call.name}(${argList.map((arg) => describe(arg)).join(', ')}) ${problem}`);
    }
    if (log.readOnlyError !== null) {
      failures.push(`call ${index}: ${call.name}(${argList.map((arg) => describe(arg)).join(', ')}) made the store read-only: ${log.readOnlyError.message}`);
      break;
    }
  }
  t.log(`${outcomes.ok} calls succeeded, ${outcomes.refused} were refused`);
  t.deepEqual(failures, [], `seed ${seed}`);
  t.true(outcomes.ok > CALLS / 10, 'enough valid calls succeeded to build a state');

  const topic = await log.createTopic({ name: 'after-the-fuzz', partitions: 2 });
  t.is(log.getTopic('after-the-fuzz')?.topicId, topic.topicId, 'a valid write still works');
  const live = log.canonicalState();
  await closeAndVerify(log);
  const reopened = await openStore(t, config);
  t.is(reopened.canonicalState(), live, 'the reopened store serves the state served live');
  t.true(fs.existsSync(path.join(root, 'store', 'wal')));
});
