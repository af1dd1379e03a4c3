#!/usr/bin/env bun
/**
 * What one Redis command costs this process in CPU, by how many go to Redis per round trip:
 * one at a time (each awaited), 64 in flight at once, and pipelines of 100. Each command is a
 * SET of a 2 KB value, about the size of an inference job's data. The local Redis of the tests.
 *
 *   bun bench/redis-round-trips.ts [--commands 20000]
 *
 * Prints a table and writes it to bench/out/redis-round-trips.md. The gap between the first
 * and last rows is what a socket write and read cost per round trip on this machine: the cost
 * a pipeline pays once for many commands, and a job per record pays per record.
 */
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { writeReport } from './support/out-file.ts';

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: { commands: { type: 'string', default: '20000' } },
});
const commands = Number(values.commands);
const key = `tokenline-bench:round-trips:${process.pid}`;
const value = 'x'.repeat(2_000);
const redis = new Redis(process.env.TOKENLINE_REDIS_URL ?? 'redis://127.0.0.1:6379');

async function oneAtATime(): Promise<void> {
  for (let i = 0; i < commands; i++) await redis.set(key, value);
}

async function inFlight(concurrency: number): Promise<void> {
  let issued = 0;
  const lane = async () => {
    while (issued++ < commands) await redis.set(key, value);
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
}

async function pipelined(size: number): Promise<void> {
  for (let i = 0; i < commands; i += size) {
    const pipeline = redis.pipeline();
    for (let j = 0; j < size; j++) pipeline.set(key, value);
    await pipeline.exec();
  }
}

async function measure(run: () => Promise<void>): Promise<{ cpuUs: number; wallUs: number }> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  await run();
  const used = process.cpuUsage(cpu);
  return {
    cpuUs: (used.user + used.system) / commands,
    wallUs: ((performance.now() - started) * 1000) / commands,
  };
}

const lines = [
  `${commands.toLocaleString('en-US')} SET commands of 2,000 bytes each, per way of sending them.`,
  '',
  '| sent | CPU of this process (µs per command) | wall time (µs per command) |',
  '| --- | ---: | ---: |',
];
const ways: Array<[string, () => Promise<void>]> = [
  ['one at a time, each awaited', oneAtATime],
  ['64 in flight', () => inFlight(64)],
  ['pipelines of 100', () => pipelined(100)],
];
try {
  // One short pass first, so that the JIT's warm-up does not land in the first row.
  await measure(() => pipelined(100));
  for (const [label, run] of ways) {
    const { cpuUs, wallUs } = await measure(run);
    lines.push(`| ${label} | ${cpuUs.toFixed(1)} | ${wallUs.toFixed(1)} |`);
  }
} finally {
  await redis.del(key);
  redis.disconnect();
}

const table = lines.join('\n');
console.log(table);
writeReport('redis-round-trips.md', table);
