import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Subprocess, spawn } from 'bun';
import type { ConfigInput } from '../../src/config.ts';

/** The service as its own process, so tests can SIGKILL or SIGTERM it for real. */
export interface ServiceProcess {
  url: string;
  child: Subprocess<'ignore', 'pipe', 'pipe'>;
  output(): string;
  kill(signal: 'SIGKILL' | 'SIGTERM'): Promise<number>;
}

export async function startServiceProcess(config: ConfigInput): Promise<ServiceProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'tokenline-test-'));
  const path = join(dir, 'config.json');
  writeFileSync(path, JSON.stringify({ ...config, http: { ...config.http, port: 0 } }));
  const child = spawn([process.execPath, 'src/main.ts', 'run'], {
    env: { ...process.env, TOKENLINE_CONFIG: path, TOKENLINE_LOG_LEVEL: 'warn' },
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
  });
  let text = '';
  void collect(child.stdout, (chunk) => {
    text += chunk;
  });
  void collect(child.stderr, (chunk) => {
    text += chunk;
  });
  const end = Date.now() + 30_000;
  while (Date.now() < end) {
    const url = /HTTP API on (\S+)/.exec(text)?.[1];
    if (url) {
      return {
        url,
        child,
        output: () => text,
        kill: async (signal) => {
          child.kill(signal);
          return child.exited;
        },
      };
    }
    if (child.exitCode !== null) break;
    await Bun.sleep(50);
  }
  child.kill('SIGKILL');
  throw new Error(`service did not start:\n${text}`);
}

async function collect(stream: ReadableStream<Uint8Array>, sink: (chunk: string) => void) {
  const decoder = new TextDecoder();
  for await (const chunk of stream) sink(decoder.decode(chunk));
}
