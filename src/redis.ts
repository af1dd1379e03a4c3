import { Redis } from 'ioredis';
import { errorCodes, TokenlineError } from './errors.ts';
import { withTimeout } from './timeout.ts';

/**
 * Connects to Redis and checks what BullMQ needs: an answer within `timeoutMs`, and
 * `maxmemory-policy noeviction` (an evicting Redis silently drops queued jobs).
 */
export async function connectRedis(url: string, timeoutMs: number): Promise<Redis> {
  // BullMQ's blocking commands need maxRetriesPerRequest: null on connections it uses.
  const redis = new Redis(url, {
    maxRetriesPerRequest: null,
    connectTimeout: timeoutMs,
    lazyConnect: true,
  });
  redis.on('error', () => undefined);
  try {
    await withTimeout(
      redis.connect(),
      timeoutMs,
      () => new Error(`did not answer within ${timeoutMs} ms`),
    );
    const reply = (await redis.config('GET', 'maxmemory-policy')) as string[];
    const policy = reply[1];
    if (policy !== 'noeviction') {
      throw new TokenlineError(
        errorCodes.config,
        `Redis at ${url} has maxmemory-policy ${policy}; BullMQ needs noeviction ` +
          '(CONFIG SET maxmemory-policy noeviction)',
      );
    }
    return redis;
  } catch (error) {
    redis.disconnect();
    if (error instanceof TokenlineError) throw error;
    throw new TokenlineError(
      errorCodes.unreachable,
      `Redis at ${url}: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
}
