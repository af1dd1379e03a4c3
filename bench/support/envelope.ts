import { readdirSync, readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname } from 'node:path';
import { Redis } from 'ioredis';
import { parseConfig, workerConcurrency } from '../../src/config.ts';
import { repoRoot } from './child.ts';
import { loadAverage } from './proc-stats.ts';
import { redisUrl } from './resources.ts';
import { tokenlineConfig } from './tokenline.ts';

/** Everything a reader needs to rerun or judge the figures: software, machine, load. */
export interface Envelope {
  startedAt: string;
  bun: string;
  packages: Record<string, string>;
  kafka: string;
  redis: string;
  cores: number;
  cpuModel: string;
  memoryGiB: number;
  commit: string;
  /** Uncommitted changes in the tree the run used, by path. */
  dirty: string[];
  loadBefore: [number, number, number];
  loadAfter: [number, number, number] | null;
  /** Tokenline's configuration as it parses what the bench writes, by section. */
  configuration: Record<string, string>;
}

export async function readEnvelope(): Promise<Envelope> {
  const processors = cpus();
  return {
    startedAt: new Date().toISOString(),
    bun: Bun.version,
    packages: packageVersions(),
    kafka: kafkaVersion(),
    redis: await redisVersion(),
    cores: processors.length,
    cpuModel: processors[0]?.model ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    commit: git(['rev-parse', '--short=12', 'HEAD']),
    dirty: git(['status', '--porcelain', '--', 'src', 'package.json', 'bun.lock'])
      .split('\n')
      .filter((line) => line.trim() !== ''),
    loadBefore: loadAverage(),
    loadAfter: null,
    configuration: benchConfiguration(),
  };
}

/**
 * The sections of the configuration every full run starts Tokenline with, as `parseConfig`
 * resolves them, leaving out what each run names (brokers, client id, topics, group, queue,
 * Redis, the replicas' URLs and slots, the HTTP port); a scenario's own settings are in its
 * setup lines.
 */
function benchConfiguration(): Record<string, string> {
  const config = parseConfig(
    tokenlineConfig({
      topics: { input: 'run', output: 'run.results', deadLetter: 'run.dlq' },
      groupId: 'run',
      queueName: 'run',
      replicaUrls: ['http://127.0.0.1:1'],
      slots: 64,
    }),
  );
  const { name: _queueName, ...queue } = config.queue;
  const { promptTemplate: _prompt, ...model } = config.model;
  const { brokers: _brokers, clientId: _clientId, groupId: _groupId, ...kafka } = config.kafka;
  const line = (section: object) =>
    Object.entries(section)
      .map(([key, value]) => `${key} ${value}`)
      .join(', ');
  const replica = config.replicas[0];
  return {
    kafka: line(kafka),
    task: line(config.task),
    model: line(model),
    partition: line(config.partition),
    retry: line(config.retry),
    queue: line(queue),
    breaker: line(config.breaker),
    supervisor: line(config.supervisor),
    workers: `${line(config.workers)}, requests per replica of 64 slots ${replica ? workerConcurrency(replica) : 'n/a'} (slots + headroom)`,
  };
}

/** Installed versions (node_modules) of every dependency package.json names. */
function packageVersions(): Record<string, string> {
  const manifest = JSON.parse(readFileSync(`${repoRoot}package.json`, 'utf8')) as {
    dependencies?: Record<string, string>;
    devDependencies?: Record<string, string>;
  };
  const names = Object.keys({ ...manifest.dependencies, ...manifest.devDependencies }).sort();
  const versions: Record<string, string> = {};
  for (const name of names) {
    try {
      const installed = readFileSync(`${repoRoot}node_modules/${name}/package.json`, 'utf8');
      versions[name] = (JSON.parse(installed) as { version: string }).version;
    } catch {
      versions[name] = 'not installed';
    }
  }
  return versions;
}

/**
 * The running broker's version, read from the jars on its class path: the broker does not
 * report its version over the protocol.
 */
function kafkaVersion(): string {
  try {
    const pid = readFileSync(`${repoRoot}.run/kafka/kafka.pid`, 'utf8').trim();
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    const classPath = args[args.indexOf('-cp') + 1] ?? '';
    const jar = readdirSync(dirname(classPath)).find((f) => /^kafka-server-[\d.]+\.jar$/.test(f));
    return jar?.replace(/^kafka-server-|\.jar$/g, '') ?? 'unknown';
  } catch {
    return 'unknown (no broker pid file)';
  }
}

async function redisVersion(): Promise<string> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    const info = await redis.info('server');
    return /^redis_version:(\S+)/m.exec(info)?.[1] ?? 'unknown';
  } finally {
    redis.disconnect();
  }
}

function git(args: string[]): string {
  const result = Bun.spawnSync(['git', ...args], { cwd: repoRoot });
  return result.stdout.toString().trim();
}
