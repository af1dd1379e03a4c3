import { type Subprocess, spawn } from 'bun';

/** A private redis-server on a free port, for tests that must change how Redis behaves. */
export interface PrivateRedis {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/** Starts one on `port` (a free one picked at random when absent), without persistence. */
export async function startPrivateRedis(
  args: string[] = [],
  port = 20_000 + Math.floor(Math.random() * 20_000),
): Promise<PrivateRedis> {
  const child: Subprocess = spawn(
    [
      'redis-server',
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      ...args,
    ],
    { stdout: 'ignore', stderr: 'ignore' },
  );
  const end = Date.now() + 10_000;
  while (Date.now() < end) {
    const reply = Bun.spawnSync(['redis-cli', '-p', String(port), 'ping'])
      .stdout.toString()
      .trim();
    if (reply === 'PONG') {
      return {
        url: `redis://127.0.0.1:${port}`,
        port,
        stop: async () => {
          child.kill('SIGKILL');
          await child.exited;
        },
      };
    }
    await Bun.sleep(50);
  }
  child.kill('SIGKILL');
  throw new Error(`redis-server did not answer on port ${port}`);
}
