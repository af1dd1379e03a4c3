import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConfigInput } from '../../src/config.ts';
import { Child } from './child.ts';
import { brokers, type RunTopics, redisPrefix, redisUrl } from './resources.ts';

export interface TokenlineRun {
  topics: RunTopics;
  groupId: string;
  queueName: string;
  replicaUrls: string[];
  slots: number;
  /** Anything else of the configuration; defaults otherwise. */
  extra?: ConfigInput;
}

/**
 * Tokenline as the operator runs it, `bun src/main.ts run` with TOKENLINE_CONFIG naming a
 * file written here, in its own process: its CPU and memory are read from /proc, its
 * gauges from its HTTP API. With `workers.inProcess: false` the replica workers run beside
 * it as `bun src/main.ts worker`, a process of their own.
 */
export class TokenlineProcess {
  readonly config: ConfigInput;
  readonly child: Child;
  /** The replica workers' process, when they do not run inside the service. */
  readonly workers: Child | null;
  readonly url: string;
  readonly #dir: string;

  private constructor(fields: {
    config: ConfigInput;
    child: Child;
    workers: Child | null;
    url: string;
    dir: string;
  }) {
    this.config = fields.config;
    this.child = fields.child;
    this.workers = fields.workers;
    this.url = fields.url;
    this.#dir = fields.dir;
  }

  static async start(run: TokenlineRun): Promise<TokenlineProcess> {
    const config = tokenlineConfig(run);
    const dir = mkdtempSync(join(tmpdir(), 'tokenline-bench-'));
    const path = join(dir, 'config.json');
    writeFileSync(path, JSON.stringify(config, null, 2));
    const env = { TOKENLINE_CONFIG: path };
    const workers =
      config.workers?.inProcess === false
        ? new Child('tokenline workers', [...profileFlags(), 'src/main.ts', 'worker'], env)
        : null;
    await workers?.waitFor(/workers for/, 60_000);
    const child = new Child('tokenline', [...profileFlags(), 'src/main.ts', 'run'], env);
    const match = await child.waitFor(/HTTP API on (\S+)/, 60_000);
    const url = (match[1] as string).replace(/\/$/, '');

    return new TokenlineProcess({ config, child, workers, url, dir });
  }

  get pid(): number {
    return this.child.pid;
  }

  /** Prometheus text of GET /metrics, parsed into `name{labels}` → value. */
  async metrics(): Promise<Map<string, number>> {
    const text = await (await fetch(`${this.url}/metrics`)).text();
    const values = new Map<string, number>();
    for (const line of text.split('\n')) {
      if (line.startsWith('#') || line.trim() === '') continue;
      const cut = line.lastIndexOf(' ');
      values.set(line.slice(0, cut), Number(line.slice(cut + 1)));
    }
    return values;
  }

  /** GET /actors: the supervisor, the partition actors and the breakers, summarised. */
  async actors(): Promise<ActorView[]> {
    const body = (await (await fetch(`${this.url}/actors`)).json()) as { actors: ActorView[] };
    return body.actors;
  }

  async stop(): Promise<void> {
    await this.child.stop(30_000);
    await this.workers?.stop(30_000);
    rmSync(this.#dir, { recursive: true, force: true });
  }
}

export interface ActorView {
  id: string;
  kind: string;
  activeStates: string[];
  context: Record<string, unknown>;
}

/** The configuration the bench runs Tokenline with: defaults, but for what names the run. */
export function tokenlineConfig(run: TokenlineRun): ConfigInput {
  const extra = run.extra ?? {};
  return {
    ...extra,
    kafka: { brokers, groupId: run.groupId, ...extra.kafka },
    redis: { url: redisUrl, prefix: redisPrefix },
    topics: { ...run.topics },
    queue: { name: run.queueName, ...extra.queue },
    replicas: run.replicaUrls.map((url) => ({ url, slots: run.slots })),
    http: { host: '127.0.0.1', port: 0 },
  };
}

/**
 * With BENCH_CPU_PROF=<directory>, the service (and its workers' process, when they run apart)
 * writes a CPU profile there when it exits
 * (Bun's --cpu-prof, plus its markdown summary): where a scenario's CPU went, by function.
 * BENCH_HEAP_PROF=<directory> does the same with a heap profile.
 */
function profileFlags(): string[] {
  const flags: string[] = [];
  const cpu = process.env.BENCH_CPU_PROF;
  if (cpu) flags.push('--cpu-prof', '--cpu-prof-md', `--cpu-prof-dir=${cpu}`);
  const heap = process.env.BENCH_HEAP_PROF;
  if (heap) flags.push('--heap-prof', '--heap-prof-md', `--heap-prof-dir=${heap}`);
  return flags;
}

/** Sum of a metric over all its label sets (`name` or `name{...}` keys). */
export function metricSum(metrics: Map<string, number>, name: string): number {
  let sum = 0;
  for (const [key, value] of metrics) {
    if (key === name || key.startsWith(`${name}{`)) sum += value;
  }
  return sum;
}
