import { readFileSync } from 'node:fs';

/** CPU time of a process so far, user and system, in milliseconds. */
export interface CpuTime {
  userMs: number;
  systemMs: number;
}

export interface MemorySample {
  at: number;
  /** Resident set size now, bytes. */
  rss: number;
  /** Peak resident set size since the process started (VmHWM), bytes. */
  peak: number;
}

let ticksPerSecond: number | null = null;

/** Clock ticks per second of /proc's CPU times (getconf CLK_TCK; 100 on Linux nearly always). */
export function clockTicks(): number {
  if (ticksPerSecond !== null) return ticksPerSecond;
  const answer = Bun.spawnSync(['getconf', 'CLK_TCK']).stdout.toString().trim();
  const parsed = Number(answer);
  ticksPerSecond = Number.isInteger(parsed) && parsed > 0 ? parsed : 100;
  return ticksPerSecond;
}

/** utime and stime of a process from /proc/<pid>/stat; null once the process is gone. */
export function cpuTime(pid: number): CpuTime | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name (field 2) may hold spaces; the fields after its ')' are plain numbers.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const tick = 1000 / clockTicks();
  // Fields 14 and 15 of the stat line; fields[0] here is field 3 (state).
  return { userMs: Number(fields[11]) * tick, systemMs: Number(fields[12]) * tick };
}

export function cpuMs(time: CpuTime): number {
  return time.userMs + time.systemMs;
}

/**
 * Scheduling of a process's main thread (where a Bun program's event loop runs), from
 * /proc/<pid>/schedstat: time on a CPU and time runnable but waiting for one, in ms.
 */
export interface ThreadSchedule {
  runningMs: number;
  waitingMs: number;
}

export function mainThreadSchedule(pid: number): ThreadSchedule | null {
  try {
    const [running, waiting] = readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ');
    return { runningMs: Number(running) / 1e6, waitingMs: Number(waiting) / 1e6 };
  } catch {
    return null;
  }
}

/** VmRSS and VmHWM from /proc/<pid>/status; null once the process is gone. */
export function memory(pid: number): MemorySample | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const kib = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1]);
  return { at: Date.now(), rss: kib('VmRSS') * 1024, peak: kib('VmHWM') * 1024 };
}

/** Samples a process's memory every `intervalMs` until stopped. */
export class MemorySampler {
  readonly samples: MemorySample[] = [];
  readonly #timer: ReturnType<typeof setInterval>;

  constructor(pid: number, intervalMs: number) {
    const take = () => {
      const sample = memory(pid);
      if (sample) this.samples.push(sample);
    };
    take();
    this.#timer = setInterval(take, intervalMs);
  }

  stop(): MemorySample[] {
    clearInterval(this.#timer);
    return this.samples;
  }

  /** Highest VmHWM seen: the peak RSS over the whole life of the process. */
  get peak(): number {
    return Math.max(0, ...this.samples.map((s) => s.peak));
  }
}

/** Machine load averages (1, 5, 15 minutes) from /proc/loadavg. */
export function loadAverage(): [number, number, number] {
  const [one, five, fifteen] = readFileSync('/proc/loadavg', 'utf8').split(' ').map(Number);
  return [one ?? 0, five ?? 0, fifteen ?? 0];
}
