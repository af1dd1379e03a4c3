import type { FaultSettings } from '../../src/replica/faults.ts';
import type { ReplicaStats } from '../../src/replica/replica-state.ts';
import { Child } from './child.ts';
import type { ReplicaChildOptions } from './replica-child.ts';

/** The built-in replicas of one run, served by one child process, reached over HTTP. */
export class Replicas {
  readonly options: ReplicaChildOptions;
  readonly urls: string[];
  readonly child: Child;

  private constructor(options: ReplicaChildOptions, urls: string[], child: Child) {
    this.options = options;
    this.urls = urls;
    this.child = child;
  }

  static async start(options: ReplicaChildOptions): Promise<Replicas> {
    // BENCH_REPLICA_CPU_PROF=<directory>: the replicas write a CPU profile there when they stop.
    const dir = process.env.BENCH_REPLICA_CPU_PROF;
    const flags = dir ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : [];
    const script = ['bench/support/replica-child.ts', JSON.stringify(options)];
    const child = new Child('replica', [...flags, ...script]);
    const line = await child.waitFor(/^\{"urls".*\}$/m, 60_000);
    const { urls } = JSON.parse(line[0]) as { urls: string[] };

    return new Replicas(options, urls, child);
  }

  /** Records per second the replicas can serve at most: slots / service time, summed. */
  get boundPerSecond(): number {
    const { count, slots, serviceTimeMs } = this.options;
    return serviceTimeMs > 0 ? (count * slots * 1000) / serviceTimeMs : Number.POSITIVE_INFINITY;
  }

  /** Replaces the injected faults of every replica. */
  async setFaults(settings: FaultSettings): Promise<void> {
    for (const url of this.urls) {
      const response = await fetch(`${url}/admin/faults`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(settings),
      });
      if (!response.ok) throw new Error(`PUT ${url}/admin/faults answered ${response.status}`);
    }
  }

  /** Each replica's counters (`GET /admin/stats`). */
  async stats(): Promise<ReplicaStats[]> {
    return Promise.all(
      this.urls.map(async (url) => {
        const response = await fetch(`${url}/admin/stats`);
        return (await response.json()) as ReplicaStats;
      }),
    );
  }

  /** Inference requests that reached a replica, answered or not: the model calls. */
  async modelCalls(): Promise<number> {
    const all = await this.stats();
    return all.reduce((sum, s) => sum + s.served + s.failed + s.rejected + s.aborted, 0);
  }

  stop(): Promise<void> {
    return this.child.stop();
  }
}
