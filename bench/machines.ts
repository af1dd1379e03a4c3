#!/usr/bin/env bun
/**
 * The actors alone: partition actors under one parent, fed from memory, with inference,
 * produce and commit answered at once. No Kafka, no Redis: what the machines themselves cost
 * per record, to compare changes to src/actors quickly.
 *
 *   bun bench/machines.ts [--records 60000] [--partitions 3] [--window 256]
 *
 * Prints records/s and CPU per record of this process, and writes the table to
 * bench/out/machines.md.
 */
import { parseArgs } from 'node:util';
import { createActor, setup, spawnChild } from 'xstate';
import { type PartitionInput, partitionMachine } from '../src/actors/partition.ts';
import type { PartitionPorts } from '../src/actors/ports.ts';
import type { InferenceOutcome } from '../src/contracts/inference.ts';
import type { SourceRecord } from '../src/contracts/source-record.ts';
import { writeReport } from './support/out-file.ts';

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    records: { type: 'string', default: '60000' },
    partitions: { type: 'string', default: '3' },
    window: { type: 'string', default: '256' },
  },
});
const total = Number(values.records);
const partitions = Number(values.partitions);
const window = Number(values.window);
const perPartition = Math.ceil(total / partitions);

const answer: InferenceOutcome = {
  ok: true,
  result: {
    output: { label: 'ham' },
    model: 'spam-nb',
    revision: 'bench',
    usage: { promptTokens: 12, completionTokens: 0 },
    queueMs: 0,
    serviceMs: 0,
    replica: 'r0',
  },
};

let settled = 0;
let finish: () => void = () => undefined;
const finished = new Promise<void>((resolve) => {
  finish = resolve;
});

function record(partition: number, offset: number): SourceRecord {
  const text = `email ${offset} of partition ${partition}: nothing to see here`;
  return {
    topic: 'bench',
    partition,
    offset: BigInt(offset),
    timestamp: BigInt(Date.now()),
    leaderEpoch: 0,
    key: Buffer.from(`key-${offset % 1000}`),
    value: Buffer.from(JSON.stringify({ id: `p${partition}-${offset}`, text })),
    headers: new Map(),
  };
}

/** Answers waiting a turn of the event loop, so that they arrive in batches as from Redis. */
let answers: Array<() => void> = [];
function later(resolve: () => void): void {
  answers.push(resolve);
  if (answers.length === 1) {
    setImmediate(() => {
      const due = answers;
      answers = [];
      for (const run of due) run();
    });
  }
}

function ports(partition: number): PartitionPorts {
  return {
    startOffset: async () => 0n,
    async fetch(_topic, _partition, offset) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      const from = Number(offset);
      const to = Math.min(perPartition, from + 500);
      const records: SourceRecord[] = [];
      for (let o = from; o < to; o++) records.push(record(partition, o));
      return { records, nextOffset: BigInt(to), highWatermark: BigInt(perPartition) };
    },
    commit: async () => undefined,
    queueAboveHighWater: () => false,
    queueBelowLowWater: () => true,
    infer: () => new Promise<InferenceOutcome>((resolve) => later(() => resolve(answer))),
    produce: () =>
      new Promise<void>((resolve) =>
        later(() => {
          settled++;
          resolve();
          if (settled === perPartition * partitions) finish();
        }),
      ),
    now: () => Date.now(),
    random: Math.random,
    retry: { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 1_000 },
    retryBudget: { recordAttempt: () => undefined, tryRetry: () => true },
    outputTopic: 'bench.results',
    deadLetterTopic: 'bench.dlq',
    modelRevision: 'bench',
    maxValueBytes: 1_000_000,
    produceRetryMs: 500,
  };
}

const parent = setup({ actors: { partition: partitionMachine } }).createMachine({
  entry: Array.from({ length: partitions }, (_, partition) =>
    spawnChild('partition', {
      id: `partition-${partition}`,
      input: {
        topic: 'bench',
        partition,
        options: {
          ordering: 'key',
          window,
          commitIntervalMs: 200,
          commitBatch: 500,
          drainTimeoutMs: 5_000,
          onDeadLetter: 'continue',
        },
        task: {
          valueFormat: 'json',
          textField: 'text',
          idField: 'id',
          maxValueBytes: 1_048_576,
          defaultTtlMs: 60_000,
        },
        ports: ports(partition),
      } satisfies PartitionInput,
    }),
  ),
});

const cpuBefore = process.cpuUsage();
const started = performance.now();
const actor = createActor(parent).start();
await finished;
const seconds = (performance.now() - started) / 1000;
const cpu = process.cpuUsage(cpuBefore);
actor.stop();
const records = perPartition * partitions;
const cpuMs = (cpu.user + cpu.system) / 1000;
const table = [
  '| records | partitions | window | records/s | CPU (µs/record) |',
  '| ---: | ---: | ---: | ---: | ---: |',
  `| ${records} | ${partitions} | ${window} | ${Math.round(records / seconds)} | ${Math.round((cpuMs * 1000) / records)} |`,
].join('\n');
console.log(table);
writeReport('machines.md', table);
process.exit(0);
