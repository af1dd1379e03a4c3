import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { repoRoot } from './child.ts';
import {
  clockTicks,
  cpuMs,
  cpuTime,
  mainThreadSchedule,
  type ThreadSchedule,
} from './proc-stats.ts';
import { redisUrl } from './resources.ts';

/** CPU milliseconds by process name, plus the whole machine's busy and elapsed time. */
export interface CpuSnapshot {
  at: number;
  byProcess: Map<string, number>;
  /** Main threads watched for their event loop, by process name. */
  mainThreads: Map<string, ThreadSchedule>;
  /** Busy CPU time of all cores (everything but idle and iowait), ms. */
  machineBusyMs: number;
}

/**
 * A process's event loop over an interval, in shares of the interval: on a CPU, and runnable
 * but waiting for one (the machine was busy). Together near 1: the loop was saturated.
 */
export interface EventLoopShare {
  name: string;
  running: number;
  waiting: number;
}

export interface CpuShare {
  name: string;
  /** CPU time in the interval, ms. */
  ms: number;
  /** Share of one core over the interval. */
  cores: number;
}

/**
 * Where the machine's CPU went while a scenario measured: each process of the run (the
 * contender, the replica, the bench itself) and the broker and Redis it shares with
 * everyone, and the rest of the machine (other work on a shared host).
 */
export class CpuBudget {
  readonly #pids = new Map<string, number>();
  readonly #loops = new Map<string, number>();

  /** Watches a process; with `eventLoop`, its main thread's scheduling too. */
  watch(name: string, pid: number | null, eventLoop = false): this {
    if (pid === null) return this;
    this.#pids.set(name, pid);
    if (eventLoop) this.#loops.set(name, pid);
    return this;
  }

  /** Adds the local broker (from its pid file) and Redis (from INFO) when they can be found. */
  async watchInfrastructure(): Promise<this> {
    this.watch('kafka broker', kafkaPid());
    this.watch('redis', await redisPid());
    this.watch('bench driver', process.pid);
    return this;
  }

  snapshot(): CpuSnapshot {
    const byProcess = new Map<string, number>();
    for (const [name, pid] of this.#pids) {
      const time = cpuTime(pid);
      if (time) byProcess.set(name, cpuMs(time));
    }
    const mainThreads = new Map<string, ThreadSchedule>();
    for (const [name, pid] of this.#loops) {
      const schedule = mainThreadSchedule(pid);
      if (schedule) mainThreads.set(name, schedule);
    }
    return { at: performance.now(), byProcess, mainThreads, machineBusyMs: machineBusyMs() };
  }

  static eventLoops(from: CpuSnapshot, to: CpuSnapshot): EventLoopShare[] {
    const wallMs = to.at - from.at;
    return [...to.mainThreads].map(([name, end]) => {
      const start = from.mainThreads.get(name) ?? end;
      return {
        name,
        running: (end.runningMs - start.runningMs) / wallMs,
        waiting: (end.waitingMs - start.waitingMs) / wallMs,
      };
    });
  }

  /** CPU per process between two snapshots, then "rest of machine" for what is left. */
  static between(from: CpuSnapshot, to: CpuSnapshot): CpuShare[] {
    const wallMs = to.at - from.at;
    const shares: CpuShare[] = [];
    let ours = 0;
    for (const [name, end] of to.byProcess) {
      const ms = end - (from.byProcess.get(name) ?? end);
      ours += ms;
      shares.push({ name, ms, cores: ms / wallMs });
    }
    const rest = Math.max(0, to.machineBusyMs - from.machineBusyMs - ours);
    shares.push({ name: 'rest of machine', ms: rest, cores: rest / wallMs });
    return shares;
  }
}

function machineBusyMs(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const ticks = line.trim().split(/\s+/).slice(1).map(Number);
  const total = ticks.reduce((sum, t) => sum + t, 0);
  const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
  return ((total - idle) * 1000) / clockTicks();
}

function kafkaPid(): number | null {
  try {
    const pid = Number(readFileSync(`${repoRoot}.run/kafka/kafka.pid`, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

async function redisPid(): Promise<number | null> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    const info = await redis.info('server');
    const pid = Number(/^process_id:(\d+)/m.exec(info)?.[1]);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  } finally {
    redis.disconnect();
  }
}
