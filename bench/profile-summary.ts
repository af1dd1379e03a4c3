#!/usr/bin/env bun
/**
 * Where a CPU profile's time went, by package (or by file under src/), and the inclusive
 * time of chosen functions:
 *
 *   BENCH_CPU_PROF=/tmp/prof bun bench/run.ts --scenario orchestration
 *   bun bench/profile-summary.ts /tmp/prof/CPU.*.cpuprofile _stopProcedure resolveSpawn
 *
 * Native frames (JSON, Buffer, fetch) are charged to the nearest JavaScript caller, so that
 * `JSON.stringify` called by BullMQ counts as BullMQ's. Shares count samples, not the time
 * between them: the profiler samples only while JavaScript runs, so the gap before a sample
 * can be idle time or time the thread waited for a CPU, and weighting by it would charge
 * that to whatever ran next.
 */

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

async function main(): Promise<void> {
  const [file, ...functions] = process.argv.slice(2);
  if (!file) throw new Error('usage: bun bench/profile-summary.ts <file.cpuprofile> [function…]');
  const profile = (await Bun.file(file).json()) as Profile;
  const tree = new ProfileTree(profile);
  const total = tree.totalSamples;

  console.log('| share | package or file |\n| ---: | --- |');
  for (const [owner, samples] of tree.byOwner().slice(0, 25)) {
    console.log(`| ${percent(samples, total)} | ${owner} |`);
  }
  if (functions.length === 0) return;
  console.log('\n| inclusive share | function |\n| ---: | --- |');
  for (const [name, samples] of tree.inclusive(functions)) {
    console.log(`| ${percent(samples, total)} | ${name} |`);
  }
}

class ProfileTree {
  readonly #nodes = new Map<number, ProfileNode>();
  readonly #parent = new Map<number, number>();
  /** Samples in which each node was on top of the stack. */
  readonly #self = new Map<number, number>();

  constructor(profile: Profile) {
    for (const node of profile.nodes) {
      this.#nodes.set(node.id, node);
      for (const child of node.children ?? []) this.#parent.set(child, node.id);
    }
    for (const id of profile.samples) this.#self.set(id, (this.#self.get(id) ?? 0) + 1);
  }

  get totalSamples(): number {
    let sum = 0;
    for (const micros of this.#self.values()) sum += micros;
    return sum;
  }

  /** Samples by owning package, largest first. */
  byOwner(): Array<[string, number]> {
    const owners = new Map<string, number>();
    for (const [id, samples] of this.#self) {
      const owner = ownerOf(this.#nearestUrl(id));
      owners.set(owner, (owners.get(owner) ?? 0) + samples);
    }
    return [...owners].sort((a, b) => b[1] - a[1]);
  }

  /** Time with each named function anywhere on the stack (counted once per sample). */
  inclusive(names: string[]): Array<[string, number]> {
    const totals = new Map<string, number>(names.map((n) => [n, 0]));
    for (const [id, samples] of this.#self) {
      const seen = new Set<string>();
      for (let at: number | undefined = id; at !== undefined; at = this.#parent.get(at)) {
        const name = this.#nodes.get(at)?.callFrame.functionName ?? '';
        if (!totals.has(name) || seen.has(name)) continue;
        seen.add(name);
        totals.set(name, (totals.get(name) ?? 0) + samples);
      }
    }
    return [...totals].sort((a, b) => b[1] - a[1]);
  }

  #nearestUrl(id: number): string {
    for (let at: number | undefined = id; at !== undefined; at = this.#parent.get(at)) {
      const url = this.#nodes.get(at)?.callFrame.url;
      if (url) return url;
    }
    return '';
  }
}

function ownerOf(url: string): string {
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];
  if (pkg) return pkg;
  const source = url.split('/src/')[1];
  if (source) return `src/${source}`;
  return url || '(native, no JavaScript caller)';
}

function percent(part: number, whole: number): string {
  return `${((part / whole) * 100).toFixed(1)} %`;
}

main().catch((error: unknown) => {
  console.error(`profile-summary: ${(error as Error).message}`);
  process.exit(1);
});
