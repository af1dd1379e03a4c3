import { describe, expect, it } from 'vitest';

describe('replica entry point', () => {
  it('prints where it listens, serves, and exits cleanly on SIGTERM', async () => {
    const child = Bun.spawn(
      [process.execPath, 'src/replica/main.ts', '--port', '0', '--slots', '3'],
      { stdout: 'pipe', stderr: 'inherit' },
    );
    const { value } = await child.stdout.getReader().read();
    const line = new TextDecoder().decode(value);
    expect(line).toMatch(
      /^replica listening on http:\/\/127\.0\.0\.1:\d+ \(model spam-nb rev [0-9a-f]{12}, slots 3\)/,
    );

    const url = /http:\/\/[\d.:]+/.exec(line)?.[0];
    expect((await fetch(`${url}/health`)).status).toBe(200);
    child.kill('SIGTERM');
    expect(await child.exited).toBe(0);
  });
});
