import { describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config.ts';
import { TokenlineError } from '../src/errors.ts';
import { Service } from '../src/service.ts';
import { startPrivateRedis } from './support/redis-server.ts';
import { brokers, createTestTopics, deleteTestTopics, uniqueName } from './support/services.ts';

async function startError(service: Service): Promise<TokenlineError> {
  const error = await service.start().then(
    () => undefined,
    (e: unknown) => e,
  );
  await service.stop();
  if (!(error instanceof TokenlineError))
    throw new Error(`expected a TokenlineError, got ${error}`);
  return error;
}

describe('service start-up', () => {
  it('names an unreachable broker within the connect timeout', async () => {
    const started = Date.now();
    const service = new Service(
      parseConfig({ kafka: { brokers: ['127.0.0.1:1'], connectTimeoutMs: 2_000 } }),
    );
    const error = await startError(service);
    expect(error.code).toBe('TL_UNREACHABLE');
    expect(error.message).toMatch(/Kafka at 127\.0\.0\.1:1/);
    expect(Date.now() - started).toBeLessThan(8_000);
  });

  it('names the topics that do not exist', async () => {
    const service = new Service(
      parseConfig({ kafka: { brokers }, topics: { input: uniqueName('absent') } }),
    );
    const error = await startError(service);
    expect(error.code).toBe('TL_CONFIG');
    expect(error.message).toMatch(/topics missing on the broker: absent-/);
  });

  it('names an unreachable Redis within the connect timeout', async () => {
    const name = uniqueName('noredis');
    const topics = await createTestTopics(name, 1);
    try {
      const started = Date.now();
      const service = new Service(
        parseConfig({
          kafka: { brokers, connectTimeoutMs: 2_000 },
          redis: { url: 'redis://127.0.0.1:1' },
          topics,
        }),
      );
      const error = await startError(service);
      expect(error.code).toBe('TL_UNREACHABLE');
      expect(error.message).toMatch(/Redis at redis:\/\/127\.0\.0\.1:1/);
      expect(Date.now() - started).toBeLessThan(8_000);
    } finally {
      await deleteTestTopics(topics);
    }
  });

  it('refuses a Redis that may evict keys', async () => {
    const name = uniqueName('evicting');
    const topics = await createTestTopics(name, 1);
    const redis = await startPrivateRedis(['--maxmemory-policy', 'allkeys-lru']);
    try {
      const service = new Service(
        parseConfig({ kafka: { brokers }, redis: { url: redis.url }, topics }),
      );
      const error = await startError(service);
      expect(error.code).toBe('TL_CONFIG');
      expect(error.message).toMatch(/maxmemory-policy allkeys-lru.*noeviction/);
    } finally {
      await redis.stop();
      await deleteTestTopics(topics);
    }
  });
});
