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
/** Share of draws that are a burst of BURST_CALLS concurrent calls. */
const BURST_SHARE = 0.05;
const BURST_CALLS = 8;

/** Why an outcome breaks the property, or null when it keeps it. */
function violation(error: unknown): string | null {
  if (!(error instanceof MetaLogError)) return `threw ${error instanceof Error ? `${error.constructor.name}: ${error.message}` : describe(error)}`;
  if (!Object.hasOwn(ERROR_CODES, error.code)) return `a MetaLogError with the unknown code ${String(error.code)}`;
  if (error.code === 'INTERNAL_ERROR') return `INTERNAL_ERROR: ${error.message}`;
  return null;
}

/** Runs one call; what it broke, or null. */
async function runCall(context: FuzzContext, call: FuzzCall, args: unknown[]): Promise<{ ok: boolean; problem: string | null }> {
  try {
    await call.run(context, args);
    return { ok: true, problem: null };
  } catch (error) {
    const problem = violation(error);
    return { ok: false, problem: problem === null ? null : `${call.name}(${args.map((arg) => describe(arg)).join(', ')}) ${problem}` };
  }
}

/** The arguments of one draw: valid, or with one or two hostile changes. */
function drawArgs(context: FuzzContext, call: FuzzCall): unknown[] {
  const { fuzz } = context;
  const valid = call.args(context);
  if (fuzz.chance(VALID_SHARE)) return valid;
  const args = fuzz.chance(0.2) ? fuzz.mutate(fuzz.mutate(valid)) : fuzz.mutate(valid);
  return Array.isArray(args) ? args : [args];
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
  for (let index = 0; index < CALLS && failures.length < 10; ) {
    // Mostly one call at a time; now and then a burst in flight together, so hostile and valid commands
    // share the writer's batches. Arguments are drawn before any call of the burst runs.
    const burst = fuzz.chance(BURST_SHARE) ? BURST_CALLS : 1;
    const drawn = Array.from({ length: burst }, () => {
      const call = pickCall(fuzz, calls, totalWeight);
      return { call, args: drawArgs(context, call), index: index++ };
    });
    const results = await Promise.all(drawn.map(({ call, args }) => runCall(context, call, args)));
    results.forEach(({ ok, problem }, i) => {
      outcomes[ok ? 'ok' : 'refused']++;
      if (problem !== null) failures.push(`call ${drawn[i].index}: ${problem}`);
    });
    if (log.readOnlyError !== null) {
      failures.push(`calls ${drawn[0].index}..${index - 1} made the store read-only: ${log.readOnlyError.message}`);
      break;
    }
  }
  t.log(`${outcomes.ok} calls succeeded, ${outcomes.refused} were refused`);
  t.deepEqual(failures, [], `seed ${seed}`);
  t.true(outcomes.ok > CALLS / 10, 'enough valid calls succeeded to build a state');

  // The calls may have unregistered or fenced every broker (then no topic can be placed): one of its
  // own, with an id the calls never draw, makes sure a topic can be created.
  await log.registerBroker({ brokerId: 100, host: 'after.local', port: 9092, rack: null, brokerEpoch: 1 });
  const topic = await log.createTopic({ name: 'after-the-fuzz', partitions: 2 });
  t.is(log.getTopic('after-the-fuzz')?.topicId, topic.topicId, 'a valid write still works');
  const live = log.canonicalState();
  await closeAndVerify(log);
  // Every call once more on the closed handle: STORE_CLOSED (or a success for what needs no open
  // handle), never a TypeError. Valid arguments are made inside the call, as their makers read the store.
  const afterClose: string[] = [];
  for (const call of calls) {
    const closedCall: FuzzCall = { ...call, run: (ctx) => call.run(ctx, call.args(ctx)) };
    const { problem } = await runCall(context, closedCall, []);
    if (problem !== null) afterClose.push(problem);
  }
  t.deepEqual(afterClose, [], 'calls on a closed handle');
  const reopened = await openStore(t, config);
  t.is(reopened.canonicalState(), live, 'the reopened store serves the state served live');
  t.true(fs.existsSync(path.join(root, 'store', 'wal')));
});
