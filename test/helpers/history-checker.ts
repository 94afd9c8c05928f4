/**
 * A checker over the recorded history of a cluster test: every write call (invoke, then ok / fail /
 * unknown) and every read a node served, against the log the nodes ended with. Writes are told apart by
 * their values (each write sets its key to a value no other write uses), so each log entry names the
 * call that made it. Times are the driver's own logical clock (a counter it bumps at every invoke and
 * every answer), not the wall clock.
 *
 * What it proves, as a list of violations (empty: the history is correct):
 * - every acknowledged write is in the log, exactly once;
 * - no write that failed definitely (the store said it was not written) is in the log; one whose outcome
 *   is unknown is there at most once;
 * - nothing is in the log that no call wrote;
 * - the log keeps real-time order: a write acknowledged before another was invoked comes before it;
 * - no node served a value the log does not hold, and no node went back: the values one node served for a
 *   key follow the log's order.
 */

export interface WriteCall {
  key: string;
  value: number;
  /** The logical time the call was sent. */
  invokedAt: number;
  /** The logical time its answer came (null: it never came; the node died with it in flight). */
  completedAt: number | null;
  /** ok: acknowledged; fail: the store said it was not written; unknown: it may or may not be. */
  outcome: 'ok' | 'fail' | 'unknown';
}

export interface ReadCall {
  node: string;
  key: string;
  /** The value the node served (null: none yet). */
  value: number | null;
  /** The logical time of the answer: reads of one node are checked in this order. */
  at: number;
}

export interface LogEntry {
  key: string;
  value: number;
}

export function checkHistory(writes: readonly WriteCall[], reads: readonly ReadCall[], log: readonly LogEntry[]): string[] {
  const violations: string[] = [];
  const id = (key: string, value: number): string => `${key}=${value}`;
  const calls = new Map<string, WriteCall>();
  for (const call of writes) {
    if (calls.has(id(call.key, call.value))) violations.push(`two calls wrote ${id(call.key, call.value)}: the history does not tell writes apart`);
    calls.set(id(call.key, call.value), call);
  }
  const position = new Map<string, number>();
  log.forEach((entry, index) => {
    const name = id(entry.key, entry.value);
    if (!calls.has(name)) violations.push(`the log holds ${name} at ${index}, which no call wrote`);
    if (position.has(name)) violations.push(`the log holds ${name} twice (at ${position.get(name)} and ${index})`);
    else position.set(name, index);
  });
  for (const call of writes) {
    const name = id(call.key, call.value);
    if (call.outcome === 'ok' && !position.has(name)) violations.push(`acknowledged write ${name} is not in the log`);
    if (call.outcome === 'fail' && position.has(name)) violations.push(`write ${name} failed, yet the log holds it at ${position.get(name)}`);
  }
  // Real-time order: walking the log backwards, the earliest acknowledgement among the entries after
  // this one must not precede this one's invocation.
  let earliestLaterAck = Infinity;
  let earliestLaterName = '';
  for (let index = log.length - 1; index >= 0; index--) {
    const name = id(log[index].key, log[index].value);
    const call = calls.get(name);
    if (call === undefined) continue;
    if (earliestLaterAck < call.invokedAt) {
      violations.push(`${earliestLaterName} was acknowledged before ${name} was invoked, yet the log has it after`);
    }
    if (call.outcome === 'ok' && call.completedAt !== null && call.completedAt < earliestLaterAck) {
      earliestLaterAck = call.completedAt;
      earliestLaterName = name;
    }
  }
  // Reads: each value served is in the log, and a node's values for a key never go back in it.
  const lastServed = new Map<string, { at: number; position: number; value: number }>();
  for (const read of [...reads].sort((a, b) => a.at - b.at)) {
    if (read.value === null) continue;
    const name = id(read.key, read.value);
    const at = position.get(name);
    if (at === undefined) {
      violations.push(`node ${read.node} served ${name}, which the log does not hold`);
      continue;
    }
    const previous = lastServed.get(`${read.node}/${read.key}`);
    if (previous !== undefined && previous.position > at) {
      violations.push(`node ${read.node} served ${id(read.key, previous.value)} and later ${name}, which comes before it in the log`);
    }
    lastServed.set(`${read.node}/${read.key}`, { at: read.at, position: at, value: read.value });
  }
  return violations;
}
