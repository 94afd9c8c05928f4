/**
 * A real etcd cluster for tests (and the cluster bench): `members` etcd processes on loopback, each with
 * its own data folder, started from Debian's etcd-server (installed by .ci/run) and stopped by their own
 * PIDs. Members can be killed, paused (SIGSTOP) and restarted to test what the log does when the engine
 * loses a member or its leader.
 */
import type { TestFn } from 'ava';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EtcdClient } from '../../src/cluster/etcd-client.js';
import { freeLoopbackPorts } from './free-port.js';

export interface EtcdMember {
  name: string;
  clientUrl: string;
  peerUrl: string;
  dataDir: string;
  process: ChildProcess | null;
  /**
   * A shell that waits on a pipe from this process and kills the member when the pipe closes: if the
   * test process dies without its teardown (a timeout, a crash), the member does not outlive it.
   */
  watchdog: ChildProcess | null;
  /** The member's log (stderr and stdout), for a failing test's message. */
  logFile: string;
}

/** Pause between two asks whether a starting member serves (a poll for a condition, bounded by the deadline below). */
const SERVING_POLL_MS = 100;
/** How long a cluster may take to answer after its start (a loaded 2-core machine starts etcd in 1–3 s). */
const START_DEADLINE_MS = 60_000;

export class EtcdCluster {
  private constructor(
    readonly members: EtcdMember[],
    private readonly root: string,
    private readonly initialCluster: string,
  ) {}

  /** Starts `memberCount` members and waits until every one answers a read. */
  static async start(memberCount = 3): Promise<EtcdCluster> {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'metalog-etcd-'));
    const ports = await freeLoopbackPorts(memberCount * 2);
    const members = Array.from({ length: memberCount }, (_, i): EtcdMember => ({
      name: `member-${i}`,
      clientUrl: `http://127.0.0.1:${ports[2 * i]}`,
      peerUrl: `http://127.0.0.1:${ports[2 * i + 1]}`,
      dataDir: path.join(root, `member-${i}`),
      process: null,
      watchdog: null,
      logFile: path.join(root, `member-${i}.log`),
    }));
    const initialCluster = members.map((member) => `${member.name}=${member.peerUrl}`).join(',');
    const cluster = new EtcdCluster(members, root, initialCluster);
    try {
      for (let i = 0; i < memberCount; i++) cluster.launch(i, 'new');
      for (let i = 0; i < memberCount; i++) await cluster.waitUntilServing(i);
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  get endpoints(): string[] {
    return this.members.map((member) => member.clientUrl);
  }

  private launch(index: number, state: 'new' | 'existing'): void {
    const member = this.members[index];
    const log = fs.openSync(member.logFile, 'a');
    const child = spawn(
      'etcd',
      [
        '--name', member.name,
        '--data-dir', member.dataDir,
        '--listen-client-urls', member.clientUrl,
        '--advertise-client-urls', member.clientUrl,
        '--listen-peer-urls', member.peerUrl,
        '--initial-advertise-peer-urls', member.peerUrl,
        '--initial-cluster', this.initialCluster,
        '--initial-cluster-state', state,
        '--initial-cluster-token', path.basename(this.root),
        '--logger', 'zap',
        '--log-level', 'warn',
      ],
      { stdio: ['ignore', log, log] },
    );
    fs.closeSync(log);
    child.once('error', (error) => fs.appendFileSync(member.logFile, `spawn failed: ${error.message}\n`));
    member.process = child;
    if (child.pid !== undefined) {
      const watchdog = spawn('sh', ['-c', `read _; kill -9 ${child.pid}`], { stdio: ['pipe', 'ignore', 'ignore'] });
      watchdog.unref();
      (watchdog.stdin as unknown as { unref(): void } | null)?.unref();
      member.watchdog = watchdog;
    }
  }

  /** Waits until member `index` answers a read (bounded by START_DEADLINE_MS). */
  async waitUntilServing(index: number): Promise<void> {
    const member = this.members[index];
    const client = new EtcdClient({ endpoints: [member.clientUrl], deadlineMs: 2_000 });
    const deadline = Date.now() + START_DEADLINE_MS;
    try {
      for (;;) {
        if (member.process === null || member.process.exitCode !== null || member.process.signalCode !== null) {
          throw new Error(`etcd ${member.name} exited: is etcd-server installed (.ci/run installs it)? Its log:\n${this.logOf(index)}`);
        }
        try {
          await client.range(Buffer.from('health'));
          return;
        } catch {
          if (Date.now() > deadline) throw new Error(`etcd ${member.name} did not answer within ${START_DEADLINE_MS} ms. Its log:\n${this.logOf(index)}`);
          await new Promise((resolve) => setTimeout(resolve, SERVING_POLL_MS));
        }
      }
    } finally {
      client.close();
    }
  }

  logOf(index: number): string {
    try {
      return fs.readFileSync(this.members[index].logFile, 'utf8').slice(-4000);
    } catch {
      return '(no log)';
    }
  }

  /** Sends `signal` to member `index` by its PID; after SIGKILL, waits until it has exited. */
  async signal(index: number, signal: 'SIGKILL' | 'SIGSTOP' | 'SIGCONT'): Promise<void> {
    const member = this.members[index];
    const child = member.process;
    if (child === null || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    if (signal === 'SIGKILL') {
      // The watchdog goes first (killed, it kills nothing): the member's PID is not reused under it.
      member.watchdog?.kill('SIGKILL');
      member.watchdog = null;
    }
    child.kill(signal);
    if (signal === 'SIGKILL') {
      await exited;
      member.process = null;
    }
  }

  /** Starts a killed member again on its data folder and waits until it serves. */
  async restart(index: number): Promise<void> {
    if (this.members[index].process !== null) throw new Error(`etcd member ${index} is running`);
    this.launch(index, 'existing');
    await this.waitUntilServing(index);
  }

  /** The index of the member that is raft leader now (asked of the members that answer). */
  async leaderIndex(): Promise<number> {
    for (let i = 0; i < this.members.length; i++) {
      if (this.members[i].process === null) continue;
      const status = await fetchStatus(this.members[i].clientUrl).catch(() => null);
      if (status === null) continue;
      const leader = this.members.findIndex((member) => status.leaderClientUrls.includes(member.clientUrl));
      if (leader >= 0) return leader;
    }
    throw new Error('no etcd member knows a leader');
  }

  /**
   * CPU seconds (user + system) the running members have used since they started, from /proc (Linux):
   * what the bench charges the engine per write.
   */
  cpuSeconds(): number {
    let ticks = 0;
    for (const member of this.members) {
      const pid = member.process?.pid;
      if (pid === undefined) continue;
      // Fields 14 and 15 of /proc/<pid>/stat, counted after the command name's closing parenthesis.
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    }
    return ticks / clockTicksPerSecond();
  }

  /** Kills every member by PID (SIGCONT first, so a paused one can die) and removes the data folders. */
  async stop(): Promise<void> {
    for (let i = 0; i < this.members.length; i++) {
      await this.signal(i, 'SIGCONT');
      await this.signal(i, 'SIGKILL');
    }
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}

let ticksPerSecond: number | null = null;

/** The kernel's clock ticks per second (getconf CLK_TCK), the unit of /proc/<pid>/stat's CPU times. */
function clockTicksPerSecond(): number {
  if (ticksPerSecond === null) {
    const answer = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
    ticksPerSecond = answer.status === 0 ? Number(answer.stdout.trim()) : 100;
  }
  return ticksPerSecond;
}

/** The raft leader's client URLs, from one member's status and member list. */
async function fetchStatus(clientUrl: string): Promise<{ leaderClientUrls: string[] }> {
  const post = async (route: string): Promise<unknown> => {
    const response = await fetch(new URL(route, clientUrl), { method: 'POST', body: '{}', signal: AbortSignal.timeout(2_000) });
    return response.json();
  };
  const status = (await post('/v3/maintenance/status')) as { leader?: string };
  const list = (await post('/v3/cluster/member/list')) as { members?: { ID?: string; clientURLs?: string[] }[] };
  const leader = (list.members ?? []).find((member) => member.ID !== undefined && member.ID === status.leader);
  return { leaderClientUrls: leader?.clientURLs ?? [] };
}

/** What `etcdForTests` gives a test file: the shared cluster, and key prefixes that keep tests apart. */
export interface SharedEtcd {
  readonly cluster: EtcdCluster;
  /** A key prefix no other test of the run uses (tests of one file run at once on the same cluster). */
  prefix(name: string): string;
}

/** One 3-member cluster for the tests of a file: started before them, stopped after them, even when they fail. */
export function etcdForTests(test: TestFn): SharedEtcd {
  let cluster: EtcdCluster | null = null;
  let prefixes = 0;
  test.before(async () => {
    cluster = await EtcdCluster.start(3);
  });
  test.after.always(async () => {
    await cluster?.stop();
  });
  return {
    get cluster(): EtcdCluster {
      if (cluster === null) throw new Error('the etcd cluster is started before the tests');
      return cluster;
    },
    prefix: (name) => `${name}-${process.pid}-${prefixes++}`,
  };
}
