#!/usr/bin/env bun
/**
 * Tokenline's benchmark suite, on the local broker and Redis with the built-in replica:
 *
 *   bun bench/run.ts                       every scenario, full size (about twenty minutes)
 *   bun bench/run.ts --scenario capacity   one scenario (repeat the flag for more)
 *   bun bench/run.ts --smoke               tiny sizes: proves the code runs, nothing more
 *
 * Prints each scenario's tables and writes the whole report to bench/out/<timestamp>.md (and
 * its figures to a .json beside it); a full run of every scenario also replaces
 * bench/RESULTS.md.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { scenarios } from './scenarios/index.ts';
import type { BenchContext } from './scenarios/scenario.ts';
import { runReport } from './support/bench-report.ts';
import { readEnvelope } from './support/envelope.ts';
import { loadAverage } from './support/proc-stats.ts';
import { type ScenarioResult, scenarioMarkdown } from './support/report.ts';

const benchDir = new URL('./', import.meta.url).pathname;

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      scenario: { type: 'string', multiple: true },
      smoke: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const chosen = pick(values.scenario ?? []);
  const smoke = values.smoke ?? false;
  const envelope = await readEnvelope();
  const context: BenchContext = {
    smoke,
    log: (line) => console.error(`[bench ${clock()}] ${line}`),
    shared: new Map(),
  };

  const results: ScenarioResult[] = [];
  for (const scenario of chosen) {
    context.log(`scenario ${scenario.name} starts`);
    const result = await scenario.run(context);
    results.push(result);
    console.log(`\n${scenarioMarkdown(result)}\n`);
  }
  envelope.loadAfter = loadAverage();

  // A run that picked some capacity runs (BENCH_CAPACITY_RUNS) is not a full one either.
  const complete = chosen.length === scenarios.length && !process.env.BENCH_CAPACITY_RUNS;
  const markdown = runReport({ envelope, results, smoke, partial: !complete });
  const json = JSON.stringify({ envelope, smoke, results }, null, 2);
  const path = write(markdown, json, complete && !smoke);
  context.log(`report written to ${path}`);
}

function pick(names: string[]) {
  if (names.length === 0) return scenarios;
  return names.map((name) => {
    const found = scenarios.find((s) => s.name === name);
    if (!found) {
      const known = scenarios.map((s) => s.name).join(', ');
      throw new Error(`unknown scenario "${name}" (known: ${known})`);
    }
    return found;
  });
}

/** bench/out/<timestamp>.md and .json; bench/RESULTS.md too for a full run of everything. */
function write(markdown: string, json: string, latestFullRun: boolean): string {
  mkdirSync(`${benchDir}out`, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const path = `${benchDir}out/${stamp}.md`;
  writeFileSync(path, markdown);
  writeFileSync(`${benchDir}out/${stamp}.json`, json);
  if (latestFullRun) writeFileSync(`${benchDir}RESULTS.md`, markdown);
  return path;
}

function clock(): string {
  return new Date().toISOString().slice(11, 19);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`bench: ${(error as Error).stack ?? String(error)}`);
    process.exit(1);
  },
);
