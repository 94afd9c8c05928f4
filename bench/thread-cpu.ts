/**
 * CPU time per thread of this process, from Linux's /proc/self/task/<tid>/stat (user + system clock
 * ticks): what a workload cost each thread, not only the process as a whole. The broker's thread is the
 * one whose id is the process id; the busiest other thread during a store workload is the writer (the
 * rest are V8's and libuv's helpers: garbage collection, the fdatasyncs of the thread pool).
 * Elsewhere than Linux it reports the process total only.
 */
import fs from 'node:fs';
import os from 'node:os';

/** Clock ticks per second of /proc's counters (USER_HZ: 100 on every Linux that Node runs on). */
const TICKS_PER_SECOND = 100;

/** CPU seconds of each thread, by thread id. */
export type ThreadCpu = Map<number, number>;

/** Reads every thread's CPU seconds so far (an empty map where /proc is not there). */
export function readThreadCpu(): ThreadCpu {
  const threads: ThreadCpu = new Map();
  if (os.platform() !== 'linux') return threads;
  for (const tid of fs.readdirSync('/proc/self/task')) {
    try {
      const stat = fs.readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      // Fields after the command name (which may hold spaces, so split after its closing parenthesis):
      // utime and stime are the 14th and 15th fields of the whole line.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      threads.set(Number(tid), (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND);
    } catch {
      // The thread ended between the listing and the read: it is not part of what follows.
    }
  }
  return threads;
}

/** CPU microseconds per operation between two readings: the caller's thread, the busiest other, the rest. */
export interface CpuPerOp {
  callerUs: number;
  writerUs: number;
  otherUs: number;
}

export function cpuPerOp(before: ThreadCpu, after: ThreadCpu, operations: number): CpuPerOp {
  const used = [...after].map(([tid, seconds]) => ({ tid, seconds: seconds - (before.get(tid) ?? 0) }));
  const caller = used.find(({ tid }) => tid === process.pid)?.seconds ?? 0;
  const others = used.filter(({ tid }) => tid !== process.pid).sort((a, b) => b.seconds - a.seconds);
  const writer = others[0]?.seconds ?? 0;
  const rest = others.slice(1).reduce((sum, { seconds }) => sum + seconds, 0);
  const perOp = (seconds: number): number => (seconds * 1e6) / operations;
  return { callerUs: perOp(caller), writerUs: perOp(writer), otherUs: perOp(rest) };
}

/** A note for a bench row: the CPU split of one workload. */
export function cpuNote(cpu: CpuPerOp): string {
  return `CPU µs/op: caller ${cpu.callerUs.toFixed(1)}, writer ${cpu.writerUs.toFixed(1)}, other threads ${cpu.otherUs.toFixed(1)}`;
}

/**
 * CPU nanoseconds the calling thread has run so far, from /proc/thread-self/schedstat (the scheduler's
 * own account, to the nanosecond); null where it is not there. Unlike process.cpuUsage it leaves out
 * V8's helper threads (concurrent marking, parallel scavenges), whose work depends as much on what else
 * the process holds as on the step measured.
 */
export function threadRunNanos(): number | null {
  try {
    return Number(fs.readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]);
  } catch {
    return null;
  }
}
