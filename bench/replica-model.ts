#!/usr/bin/env bun
/**
 * The built-in replica's model alone: time per prediction over the held-out split of the
 * corpus, and its accuracy there. No HTTP, no slots, no service time.
 *
 *   bun bench/replica-model.ts [--rounds 5]
 *
 * Prints a table (a row per round; the first includes the JIT's warm-up) and writes it to
 * bench/out/replica-model.md.
 */
import { parseArgs } from 'node:util';
import { splitCorpus } from '../src/replica/corpus.ts';
import { defaultModel } from '../src/replica/default-model.ts';
import { tokenize } from '../src/replica/tokenize.ts';
import { writeReport } from './support/out-file.ts';

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: { rounds: { type: 'string', default: '5' } },
});
const rounds = Number(values.rounds);
const { model } = defaultModel();
const emails = splitCorpus().heldOut;

const lines = [
  `Model ${model.revision}, ${emails.length} held-out emails; µs per email, per round.`,
  '',
  '| round | tokenize (µs) | predict, tokenizing included (µs) | accuracy |',
  '| ---: | ---: | ---: | ---: |',
];
for (let round = 1; round <= rounds; round++) {
  let started = performance.now();
  for (const email of emails) tokenize(email.text);
  const tokenizeUs = ((performance.now() - started) * 1000) / emails.length;
  let correct = 0;
  started = performance.now();
  for (const email of emails) if (model.predict(email.text).label === email.label) correct++;
  const predictUs = ((performance.now() - started) * 1000) / emails.length;
  const accuracy = ((100 * correct) / emails.length).toFixed(2);
  lines.push(`| ${round} | ${tokenizeUs.toFixed(0)} | ${predictUs.toFixed(0)} | ${accuracy} % |`);
}
const table = lines.join('\n');
console.log(table);
writeReport('replica-model.md', `# Built-in replica's model alone\n\n${table}`);
