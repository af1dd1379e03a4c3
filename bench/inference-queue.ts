#!/usr/bin/env bun
/**
 * The inference buffer alone: records per second through gateway → BullMQ queue → replica
 * workers → a replica that answers at once, and what each record costs Redis.
 *
 *   bun bench/inference-queue.ts [--records 5000] [--windows 1000,64,8] [--runs 3]
 *                                [--slots 64] [--replicas 1] [--service-ms 0]
 *
 * Each window (records kept in flight, as partition actors would) is measured `runs` times;
 * the table shows the median run by records per second.
 * It runs against a private redis-server on a free port, so that Redis's own counters
 * (INFO stats, INFO commandstats) hold nothing but this run. A round trip is one request a
 * client sends and waits for: a command on its own, or a pipeline or transaction as a whole;
 * they are counted in the clients (every ioredis connection BullMQ and the gateway open).
 * Commands count every command Redis executed, those inside BullMQ's Lua scripts included.
 * Writes the table to bench/out/inference-queue.md too.
 */
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { parseConfig } from '../src/config.ts';
import type { InferenceRequest } from '../src/contracts/inference.ts';
import { InferenceGateway } from '../src/inference/gateway.ts';
import { WorkerPool } from '../src/inference/worker.ts';
import { setLogLevel } from '../src/log.ts';
import { startReplica } from '../src/replica/server.ts';
import { startPrivateRedis } from '../test/support/redis-server.ts';
import { writeReport } from './support/out-file.ts';

interface RedisCounters {
  /** Requests the clients sent, by command name ('pipeline' for a batch). */
  requests: Map<string, number>;
  commands: number;
  byCommand: Map<string, number>;
}

interface Measured {
  window: number;
  records: number;
  seconds: number;
  counters: RedisCounters;
}

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '5000' },
    windows: { type: 'string', default: '1000,64,8' },
    runs: { type: 'string', default: '3' },
    slots: { type: 'string', default: '64' },
    'service-ms': { type: 'string', default: '0' },
    replicas: { type: 'string', default: '1' },
  },
});
const records = Number(values.records);
const windows = values.windows.split(',').map(Number);
const runs = Number(values.runs);
const slots = Number(values.slots);
const serviceTimeMs = Number(values['service-ms']);
const replicaCount = Number(values.replicas);

setLogLevel('warn');
const requests = countRequests();
const redisServer = await startPrivateRedis();
const replicas = await Promise.all(
  Array.from({ length: replicaCount }, () =>
    startReplica({ port: 0, slots, serviceTimeMs, queueLimit: 10_000, requestLogLimit: 1_000 }),
  ),
);
const connection = { url: redisServer.url, maxRetriesPerRequest: null };
const redis = new Redis(redisServer.url, { maxRetriesPerRequest: null });
const queueName = 'bench';
const gateway = new InferenceGateway({
  connection,
  redis,
  prefix: 'bench',
  queueName,
  revision: 'bench',
  retainSeconds: 3_600,
  retainCount: 100_000,
});
const pool = new WorkerPool({
  connection,
  prefix: 'bench',
  queueName,
  replicas: replicas.map((r) => ({ url: r.url, slots })),
  model: parseConfig({}).model,
});

try {
  await gateway.start();
  await pool.start();
  await runRecords('warm', Math.min(records, 1_000), 100);
  const results: Measured[] = [];
  for (const window of windows) {
    const tries: Measured[] = [];
    for (let run = 0; run < runs; run++) {
      tries.push(await measure(`w${window}-r${run}`, records, window));
    }
    tries.sort((a, b) => a.records / a.seconds - b.records / b.seconds);
    results.push(tries[Math.floor(tries.length / 2)] as Measured);
  }
  const report = render(results);
  console.log(report);
  writeReport('inference-queue.md', report);
} finally {
  await pool.close(true);
  await gateway.close();
  redis.disconnect();
  for (const replica of replicas) await replica.stop();
  await redisServer.stop();
}

async function measure(prefix: string, count: number, window: number): Promise<Measured> {
  const before = await counters();
  const started = performance.now();
  await runRecords(prefix, count, window);
  const seconds = (performance.now() - started) / 1000;
  const after = await counters();

  return { window, records: count, seconds, counters: difference(after, before) };
}

/** Keeps `window` records in flight, as partition actors would, until `count` are done. */
async function runRecords(prefix: string, count: number, window: number): Promise<void> {
  let next = 0;
  const signal = new AbortController().signal;
  const lane = async () => {
    while (next < count) {
      const id = `${prefix}-${next++}`;
      const outcome = await gateway.infer(requestFor(id), signal);
      if (!outcome.ok) throw new Error(`${id} failed: ${outcome.error.message}`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(window, count) }, lane));
}

function requestFor(eventId: string): InferenceRequest {
  return {
    eventId,
    text: `Subject: invoice ${eventId}\n\nPlease find the invoice attached, due on Friday.`,
    deadline: Date.now() + 120_000,
    traceparent: undefined,
  };
}

async function counters(): Promise<RedisCounters> {
  const stats = parseInfo(await redis.info('stats'));
  const byCommand = new Map<string, number>();
  for (const [key, value] of parseInfo(await redis.info('commandstats'))) {
    const calls = /calls=(\d+)/.exec(value)?.[1];
    if (calls) byCommand.set(key.replace(/^cmdstat_/, ''), Number(calls));
  }

  return {
    requests: new Map(requests),
    commands: Number(stats.get('total_commands_processed') ?? 0),
    byCommand,
  };
}

/**
 * Counts what every ioredis client sends: a command sent alone is one request; the commands
 * of one pipeline (or MULTI/EXEC) share the pipeline's stream and count as one together.
 */
function countRequests(): Map<string, number> {
  const counts = new Map<string, number>();
  const seenBatches = new WeakSet<object>();
  const prototype = Redis.prototype as unknown as {
    sendCommand(this: Redis, command: { name: string }, stream?: object): unknown;
  };
  const send = prototype.sendCommand;
  prototype.sendCommand = function (this: Redis, command, stream) {
    const name = stream ? 'pipeline' : command.name.toLowerCase();
    if (!stream || !seenBatches.has(stream)) counts.set(name, (counts.get(name) ?? 0) + 1);
    if (stream) seenBatches.add(stream);
    return send.call(this, command, stream);
  };

  return counts;
}

function difference(after: RedisCounters, before: RedisCounters): RedisCounters {
  return {
    requests: subtract(after.requests, before.requests),
    commands: after.commands - before.commands,
    byCommand: subtract(after.byCommand, before.byCommand),
  };
}

function subtract(after: Map<string, number>, before: Map<string, number>): Map<string, number> {
  const delta = new Map<string, number>();
  for (const [name, count] of after) {
    const difference = count - (before.get(name) ?? 0);
    if (difference > 0) delta.set(name, difference);
  }

  return delta;
}

function parseInfo(text: string): Map<string, string> {
  const entries = text
    .split(/\r?\n/)
    .filter((line) => line.includes(':') && !line.startsWith('#'))
    .map((line) => {
      const at = line.indexOf(':');
      return [line.slice(0, at), line.slice(at + 1)] as [string, string];
    });

  return new Map(entries);
}

function render(results: Measured[]): string {
  const kinds = ['evalsha', 'pipeline', 'xread', 'bzpopmin'];
  const lines = [
    `# Inference queue: gateway → BullMQ → workers → replica (${serviceTimeMs} ms service time)`,
    '',
    `${records} records per run, median of ${runs} runs by records per second; ` +
      `${replicaCount} replica(s) × ${slots} slots; private redis-server; ` +
      `${new Date().toISOString().slice(0, 10)}.`,
    `Reproduce: \`bun bench/inference-queue.ts --records ${records} ` +
      `--windows ${windows.join(',')} --runs ${runs} --slots ${slots} --replicas ${replicaCount} ` +
      `--service-ms ${serviceTimeMs}\`.`,
    '',
    'Round trips are client requests (a command alone, or a pipeline as a whole), by kind:',
    "`evalsha` BullMQ scripts sent alone (the workers), `pipeline` the gateway's batches,",
    '`xread` reads of the event stream, `bzpopmin` workers waiting for new jobs.',
    '',
    `| in flight | records/s | round trips/record | ${kinds.join(' | ')} | other | Redis commands/record |`,
    `| --- | --- | --- | ${kinds.map(() => '---').join(' | ')} | --- | --- |`,
    ...results.map(row),
    '',
    `Commands Redis executed per record at ${results[0]?.window} in flight (inside Lua included):`,
    '',
    '| command | per record |',
    '| --- | --- |',
    ...topCommands(results[0]),
    '',
  ];

  return lines.join('\n');

  function row({ window, records: count, seconds, counters: c }: Measured): string {
    const per = (n: number) => (n / count).toFixed(2);
    const requests = new Map(c.requests);
    requests.delete('info');
    const known = kinds.map((kind) => requests.get(kind) ?? 0);
    const total = sum(requests);
    const other = total - known.reduce((a, b) => a + b, 0);
    const rate = (count / seconds).toFixed(0);
    const cells = [window, rate, per(total), ...known.map(per), per(other), per(c.commands)];

    return `| ${cells.join(' | ')} |`;
  }
}

function topCommands(measured: Measured | undefined): string[] {
  if (!measured) return [];
  return [...measured.counters.byCommand]
    .filter(([name]) => name !== 'info')
    .sort((a, b) => b[1] - a[1])
    .slice(0, 12)
    .map(([name, calls]) => `| ${name} | ${(calls / measured.records).toFixed(2)} |`);
}

function sum(counts: Map<string, number>): number {
  let total = 0;
  for (const count of counts.values()) total += count;

  return total;
}
