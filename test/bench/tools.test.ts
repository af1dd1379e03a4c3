import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

// The bench's single-purpose commands, each run the way the README gives it but with tiny
// sizes, so that they cannot rot: each exits 0, prints its table and writes the same table to
// its report file (in a temporary directory, not bench/out). Nothing here judges speed.
const outDir = mkdtempSync(join(tmpdir(), 'tokenline-bench-tools-'));

afterAll(() => rmSync(outDir, { recursive: true, force: true }));

async function runTool(args: string[]): Promise<string> {
  const child = Bun.spawn(['bun', ...args], {
    cwd: new URL('../..', import.meta.url).pathname,
    env: { ...process.env, BENCH_OUT_DIR: outDir },
    stdout: 'pipe',
    stderr: 'pipe',
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  expect(code, stderr).toBe(0);
  return stdout;
}

/** The report file holds the table the command printed. */
function expectReport(name: string, stdout: string, header: string): void {
  expect(stdout).toContain(header);
  const tableLine = stdout.split('\n').find((line) => line.startsWith(header)) as string;
  expect(readFileSync(join(outDir, name), 'utf8')).toContain(tableLine);
}

describe('the bench commands in a smoke run', () => {
  it('measures the actors alone', async () => {
    const stdout = await runTool(['bench/machines.ts', '--records', '600']);
    expectReport('machines.md', stdout, '| records | partitions | window |');
    expect(stdout).toMatch(/\| 600 \| 3 \| 256 \| \d+ \| \d+ \|/);
  });

  it("measures the built-in replica's model alone", async () => {
    const stdout = await runTool(['bench/replica-model.ts', '--rounds', '1']);
    expectReport('replica-model.md', stdout, '| round | tokenize (µs) |');
    expect(stdout).toMatch(/\| 1 \| \d+ \| \d+ \| \d+\.\d+ % \|/);
  });

  it('measures Redis round trips one at a time, in flight and pipelined', async () => {
    const stdout = await runTool(['bench/redis-round-trips.ts', '--commands', '200']);
    expectReport('redis-round-trips.md', stdout, '| sent | CPU of this process');
    for (const way of ['one at a time, each awaited', '64 in flight', 'pipelines of 100']) {
      expect(stdout).toMatch(new RegExp(`\\| ${way} \\| \\d+\\.\\d \\| \\d+\\.\\d \\|`));
    }
  });

  it('measures the inference queue alone', async () => {
    const stdout = await runTool([
      'bench/inference-queue.ts',
      '--records',
      '200',
      '--windows',
      '8',
      '--runs',
      '1',
    ]);
    expectReport('inference-queue.md', stdout, '| in flight | records/s | round trips/record |');
    expect(stdout).toMatch(/\n\| 8 \| \d+ \| \d+\.\d+ \|/);
  }, 60_000);
});
