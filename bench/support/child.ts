import { type Subprocess, spawn } from 'bun';
import { type CpuTime, cpuTime } from './proc-stats.ts';

/** Where child processes run from: the repository root, so `src/main.ts` resolves. */
export const repoRoot = new URL('../../', import.meta.url).pathname;

/** A Bun child process of the bench: its output kept, its CPU readable, stopped by its pid. */
export class Child {
  readonly name: string;
  readonly #process: Subprocess<'ignore', 'pipe', 'pipe'>;
  #text = '';

  constructor(name: string, args: string[], env: Record<string, string> = {}) {
    this.name = name;
    this.#process = spawn([process.execPath, ...args], {
      cwd: repoRoot,
      env: { ...process.env, TOKENLINE_LOG_LEVEL: 'warn', ...env },
      stdin: 'ignore',
      stdout: 'pipe',
      stderr: 'pipe',
    });
    void this.#collect(this.#process.stdout);
    void this.#collect(this.#process.stderr);
  }

  get pid(): number {
    return this.#process.pid;
  }

  get output(): string {
    return this.#text;
  }

  get exited(): boolean {
    return this.#process.exitCode !== null || this.#process.signalCode !== null;
  }

  cpu(): CpuTime | null {
    return cpuTime(this.pid);
  }

  /** Waits for the first match of `pattern` in the output; fails when the child exits first. */
  async waitFor(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      const match = pattern.exec(this.#text);
      if (match) return match;
      if (this.exited) break;
      await Bun.sleep(25);
    }
    await this.stop();
    throw new Error(`${this.name} did not print ${pattern} in time:\n${this.#text.slice(-2000)}`);
  }

  /** SIGTERM, then SIGKILL if it is still running after `graceMs`. */
  async stop(graceMs = 15_000): Promise<void> {
    if (this.exited) return;
    this.#process.kill('SIGTERM');
    const timer = setTimeout(() => this.#process.kill('SIGKILL'), graceMs);
    await this.#process.exited;
    clearTimeout(timer);
  }

  async #collect(stream: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      this.#text += decoder.decode(chunk);
      // Only the latest output matters for errors; a chatty child must not grow the bench.
      if (this.#text.length > 200_000) this.#text = this.#text.slice(-100_000);
    }
  }
}
