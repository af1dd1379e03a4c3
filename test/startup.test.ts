import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'bun';
import { describe, expect, it } from 'vitest';
import { startReplica } from '../src/replica/server.ts';
import { redisUrl } from './support/services.ts';

/** Runs `bun src/main.ts <command>` with a config file (when given) to its exit. */
async function runMain(
  command: 'run' | 'worker',
  config: object | null,
  env: Record<string, string> = {},
): Promise<{ code: number; out: string; err: string }> {
  const path = join(mkdtempSync(join(tmpdir(), 'tokenline-test-')), 'config.json');
  if (config) writeFileSync(path, JSON.stringify(config));
  const child = spawn([process.execPath, 'src/main.ts', command], {
    env: { ...process.env, ...(config ? { TOKENLINE_CONFIG: path } : {}), ...env },
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
  });
  const [code, out, err] = await Promise.all([
    child.exited,
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
  ]);
  return { code, out, err };
}

describe('start-up', () => {
  it('stops at once, naming http.port, when the HTTP port is taken, before reaching for Kafka', async () => {
    const taken = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => new Response('mine') });
    try {
      // Nothing listens on this broker: were Kafka tried first, start-up would wait 20 s.
      const kafka = { brokers: ['127.0.0.1:1'], connectTimeoutMs: 20_000 };
      const started = Date.now();
      const { code, out, err } = await runMain(
        'run',
        { kafka },
        { TOKENLINE_HTTP_PORT: String(taken.port) },
      );
      expect(code).toBe(1);
      expect(err).toContain(`http.port: cannot listen on 127.0.0.1:${taken.port}`);
      expect(out).not.toContain('HTTP API on');
      expect(Date.now() - started).toBeLessThan(10_000);
      // The port's owner still answers.
      expect(await (await fetch(`http://127.0.0.1:${taken.port}/`)).text()).toBe('mine');
    } finally {
      await taken.stop(true);
    }
  });

  it('stops naming TOKENLINE_LOG_LEVEL when it is not a log level', async () => {
    const { code, err } = await runMain('run', null, { TOKENLINE_LOG_LEVEL: 'verbose' });
    expect(code).toBe(1);
    expect(err.trim()).toBe(
      'tokenline: invalid configuration: TOKENLINE_LOG_LEVEL: "verbose" is not one of ' +
        'trace, debug, info, warn, error, fatal, silent',
    );
  });

  it('stops the worker command naming model.name when the replica refuses the name', async () => {
    const replica = await startReplica({ port: 0, slots: 1, serviceTimeMs: 0 });
    try {
      const { code, out, err } = await runMain('worker', {
        redis: { url: redisUrl },
        model: { name: 'wrong-model' },
        replicas: [{ url: replica.url }],
      });
      expect(code).toBe(1);
      expect(err).toContain('invalid configuration: model.name: replica');
      expect(out).not.toContain('workers for');
    } finally {
      await replica.stop();
    }
  });
});
