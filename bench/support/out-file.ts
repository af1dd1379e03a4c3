import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Writes a bench command's report to bench/out/<name>, or to the directory BENCH_OUT_DIR
 * names (the tests' smoke runs use it, so as not to replace a report someone kept), and
 * returns the path written.
 */
export function writeReport(name: string, text: string): string {
  const dir = process.env.BENCH_OUT_DIR ?? new URL('../out/', import.meta.url).pathname;
  mkdirSync(dir, { recursive: true });
  const path = join(dir, name);
  writeFileSync(path, text.endsWith('\n') ? text : `${text}\n`);
  return path;
}
